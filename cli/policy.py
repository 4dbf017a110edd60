"""``duban policy show [--json] [--file PATH]``: the decomposition table as loaded and validated."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from engine.config import Config
from engine.errors import DubanError
from engine.policy import PolicyDef, TaskDef, load_policy
from engine.workdays import default_calendar

LINE_WIDTH = 100  # display columns of the human table
LABELS = ("序号", "任务", "牵头单位", "配合单位", "时限", "目标", "周期与截止日期")
PER_LABELS = {"year": "每年", "selection": "每次评选", "total": "合计"}


@click.group()
def policy() -> None:
    """政策及其任务分解表。"""


@policy.command("show")
@click.argument("policy_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（任务列表）。")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="政策文件（默认：DUBAN_POLICY_FILE 或内置的政策）。")
def show(policy_id: str | None, as_json: bool, file: Path | None) -> None:
    """显示政策的任务：牵头单位、配合单位、时限和各周期的截止日期。

    给出政策编号时显示数据库中的该政策；否则显示政策文件。"""
    if policy_id:
        from cli.policies import show_stored

        show_stored(policy_id, as_json)
        return
    path = file or Config.from_env().policy_file
    try:
        loaded = load_policy(path)
        rows = policy_rows(loaded)
    except DubanError as exc:
        click.echo(f"错误：{exc}", err=True)
        raise click.exceptions.Exit(2) from None
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(render_table(loaded, rows))


def policy_rows(pol: PolicyDef) -> list[dict[str, Any]]:
    """The tasks as JSON-safe dicts; unit names as valid on the policy's issue date."""
    ctx = pol.context(default_calendar())
    return [_task_row(pol, task, ctx) for task in pol.tasks]


def _task_row(pol: PolicyDef, task: TaskDef, ctx: Any) -> dict[str, Any]:
    """One task as a JSON-safe dict."""
    day = pol.issued_on
    return {
        "number": task.number,
        "title": task.title,
        "text": task.text,
        "lead_units": [pol.units[u].name_on(day) for u in task.lead_units],
        "supporting_units": [pol.units[u].name_on(day) for u in task.supporting_units],
        "lead_unit_ids": list(task.lead_units),
        "supporting_unit_ids": list(task.supporting_units),
        "lead_as_written": task.lead_as_written,
        "supporting_as_written": task.supporting_as_written,
        "more_units": task.more_units,
        "deadline": task.deadline,
        "rule": task.rule.to_dict(),
        "targets": [asdict(t) for t in task.targets],
        "process_id": task.process_id,
        "supervisor": pol.units[task.supervisor].name_on(day),
        "cycles": [{"label": c.label, "opens_on": c.opens_on.isoformat(),
                    "due_date": c.due_date.isoformat() if c.due_date else None}
                   for c in task.cycles(ctx)],
    }


def render_table(pol: PolicyDef, rows: list[dict[str, Any]]) -> str:
    """The human form: a heading, then one aligned block per task."""
    heading = f"{pol.title}\n{pol.issuer}　{pol.issued_on.isoformat()}　共 {len(rows)} 项任务"
    blocks = [_block(pol, row) for row in rows]
    rule = "─" * (LINE_WIDTH // 2)
    return "\n".join([heading, rule] + [b + "\n" + rule for b in blocks])


def _block(pol: PolicyDef, row: dict[str, Any]) -> str:
    """One task's block: label column padded to the widest label, values wrapped."""
    day = pol.issued_on
    short = [pol.units[u].short_name_on(day) for u in row["lead_unit_ids"]]
    support = [pol.units[u].short_name_on(day) for u in row["supporting_unit_ids"]]
    if row["more_units"] and support:
        support[-1] += "等"
    fields: dict[str, list[str]] = {
        "序号": [str(row["number"])],
        "任务": wrap_text(row["title"], _value_width()),
        "牵头单位": wrap_items(short, _value_width()),
        "配合单位": wrap_items(support, _value_width()) if support else ["—"],
        "时限": [row["deadline"]],
        "目标": [f"{t['label']} {t['amount']}{t['unit']}（{PER_LABELS[t['per']]}）"
               for t in row["targets"]],
        "周期与截止日期": _cycle_lines(row["cycles"]),
    }
    lines: list[str] = []
    for label in LABELS:
        for i, value in enumerate(fields[label]):
            lines.append(pad(label if i == 0 else "", _label_width()) + "  " + value)
    return "\n".join(line.rstrip() for line in lines)


def _cycle_lines(cycles: list[dict[str, Any]]) -> list[str]:
    """Each cycle on its own line: label, then due date (or 长期, no due date)."""
    width = max((display_width(c["label"]) for c in cycles), default=0)
    return [f"{pad(c['label'], width)}  截止 {c['due_date'] or '无（长期）'}"
            f"（{c['opens_on']} 起）" for c in cycles] or ["—"]


def _label_width() -> int:
    """Display width of the widest label."""
    return max(display_width(label) for label in LABELS)


def _value_width() -> int:
    """Display width left for values."""
    return LINE_WIDTH - _label_width() - 2


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` display columns."""
    return text + " " * max(0, width - display_width(text))


def wrap_items(items: Iterable[str], width: int, sep: str = "、") -> list[str]:
    """Join items with ``sep`` into lines of at most ``width`` columns, breaking between items."""
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current}{sep}{item}" if current else item
        if current and display_width(candidate) > width:
            lines.append(current + sep)
            candidate = item
        current = candidate
    return lines + [current] if current else lines


def wrap_text(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` display columns."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if display_width(current + ch) > width:
            lines.append(current)
            current = ""
        current += ch
    return lines + [current] if current else lines or [""]
