"""Inline SVG charts for bulletins, drawn in pure Python (WeasyPrint renders them in the PDF)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from html import escape

FONT = "Noto Sans CJK SC, Noto Serif CJK SC, sans-serif"
# The drawing's own units; the <svg> scales to the width of its container.
WIDTH = 600
FONT_SIZE = 11
LABEL_WIDTH = 48       # at least this much room for the names on the left
LABEL_GAP = 6          # between a name's end and the axis
LABEL_MAX = 240        # 20 characters: the bars keep at least half the width
VALUE_WIDTH = 58       # room for "100.0%" right of the longest bar
ROW_HEIGHT = 12
BAR_HEIGHT = 8
TOP = 8
AXIS_HEIGHT = 22
BAR_COLOUR = "#2f4f7f"
LOW_COLOUR = "#c0392b"  # bars under the warning line stand out in red
LOW_RATE = Decimal(60)

Rate = Decimal | float | int | None


def on_time_rate_chart(rows: Sequence[tuple[str, Rate]]) -> str:
    """Horizontal bars of the on-time rate (0-100%) per city, best first, as an SVG string."""
    ordered = _sorted(rows)
    plot_left = label_room([name for name, _ in ordered])
    plot_width = WIDTH - plot_left - VALUE_WIDTH
    height = TOP + ROW_HEIGHT * len(ordered) + AXIS_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" font-family="{FONT}" font-size="{FONT_SIZE}" role="img" '
        f'aria-label="各市按时办结率">',
    ]
    parts += _grid(plot_left, plot_width, height)
    for index, (name, rate) in enumerate(ordered):
        parts += _bar(index, name, rate, plot_left, plot_width)
    parts.append("</svg>")
    return "\n".join(parts)


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """How wide ``text`` is drawn: CJK characters one em, Latin letters and digits about half."""
    return sum(size * (0.6 if ch.isascii() else 1.0) for ch in text)


def label_room(names: Sequence[str]) -> int:
    """The left margin that holds the longest name whole (亳州市 must not lose its 亳)."""
    widest = max((text_width(name) for name in names), default=0.0)
    return int(min(LABEL_MAX, max(LABEL_WIDTH, widest + LABEL_GAP + 4)))


def _sorted(rows: Sequence[tuple[str, Rate]]) -> list[tuple[str, Decimal | None]]:
    """Rows by rate, highest first; a stable sort keeps the caller's order among ties."""
    clean = [(name, None if rate is None else _clamp(Decimal(str(rate)))) for name, rate in rows]
    return sorted(clean, key=lambda row: (row[1] is None, -(row[1] or 0)))


def _clamp(rate: Decimal) -> Decimal:
    """Keep a rate inside the axis (0-100)."""
    return max(Decimal(0), min(Decimal(100), rate))


def _grid(left: int, width: int, height: int) -> list[str]:
    """Vertical grid lines every 20% and the axis labels under them."""
    axis_y = height - AXIS_HEIGHT + 4
    lines = []
    for tick in range(0, 101, 20):
        x = left + width * tick / 100
        colour = "#000000" if tick == 0 else "#bbbbbb"
        lines.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{axis_y}" '
                     f'stroke="{colour}" stroke-width="0.8"/>')
        lines.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" '
                     f'fill="#333333">{tick}%</text>')
    lines.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + width}" y2="{axis_y}" '
                 'stroke="#000000" stroke-width="0.8"/>')
    return lines


def _bar(index: int, name: str, rate: Decimal | None, left: int, width: int) -> list[str]:
    """One row: the city name, its bar and the percent label."""
    top = TOP + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
    text_y = top + BAR_HEIGHT / 2 + 3.8
    label = escape(name)
    parts = [f'<text x="{left - LABEL_GAP}" y="{text_y:.1f}" text-anchor="end" '
             f'fill="#000000">{label}</text>']
    if rate is None:
        parts.append(f'<text x="{left + 4}" y="{text_y:.1f}" fill="#666666">—</text>')
        return parts
    length = float(width * rate / 100)
    colour = LOW_COLOUR if rate < LOW_RATE else BAR_COLOUR
    parts.append(f'<rect x="{left}" y="{top:.1f}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                 f'fill="{colour}"/>')
    parts.append(f'<text x="{left + length + 4:.1f}" y="{text_y:.1f}" '
                 f'fill="#000000">{percent_text(rate)}</text>')
    return parts


def percent_text(rate: Decimal | None) -> str:
    """A 0-100 rate as "66.7%" (one decimal, half up); "—" when there is no rate."""
    if rate is None:
        return "—"
    return f"{rate.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
