"""Inline SVG bar charts: geometry computed here, drawn by a Jinja macro (no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 560, 220
LEFT, BOTTOM, TOP = 48, 28, 16


@dataclass(frozen=True)
class Bar:
    """One bar: its box, its label and value text, whether it met the goal."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str
    met: bool


@dataclass(frozen=True)
class Chart:
    """A bar chart with an optional dashed goal line."""

    title: str
    unit: str
    bars: tuple[Bar, ...]
    goal_y: float | None
    goal_text: str
    ticks: tuple[tuple[float, str], ...]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def base_y(self) -> float:
        return float(self.height - BOTTOM)

    @property
    def summary(self) -> str:
        """The chart as one sentence, for screen readers."""
        parts = "，".join(f"{b.label}{b.value_text}" for b in self.bars)
        if not self.bars:
            return f"{self.title}：暂无数据"
        return f"{self.title}：{parts}；{self.goal_text}"


def _fmt(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value:,.0f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k (k >= 0) not below ``value``."""
    scale = 1.0
    while True:
        for step in (1, 2, 2.5, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def bar_chart(title: str, unit: str, series: Sequence[tuple[str, float]],
              goal: float | None) -> Chart:
    """Bars for ``(label, value)`` pairs against a goal per bar."""
    top = nice_ceiling(max([v for _, v in series] + [goal or 0, 1]) * 1.1)
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 8) / max(len(series), 1)
    bar_w = min(64.0, slot * 0.6)
    bars = []
    for i, (label, value) in enumerate(series):
        h = plot_h * value / top
        x = LEFT + i * slot + (slot - bar_w) / 2
        bars.append(Bar(round(x, 1), round(HEIGHT - BOTTOM - h, 1), round(bar_w, 1),
                        round(h, 1), label, f"{_fmt(value)}{unit}",
                        goal is not None and value >= goal))
    goal_y = None if goal is None else round(HEIGHT - BOTTOM - plot_h * goal / top, 1)
    ticks = tuple((round(HEIGHT - BOTTOM - plot_h * f, 1), _fmt(top * f)) for f in (0, 0.5, 1.0))
    goal_text = "" if goal is None else f"目标 {_fmt(goal)}{unit}"
    return Chart(title, unit, tuple(bars), goal_y, goal_text, ticks)
