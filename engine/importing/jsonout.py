"""``ImportResult`` -> the ``duban policy import --json`` object of shared/DESIGN.md."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from engine.deadlines import Cycle, RuleContext
from engine.errors import DubanError
from engine.workdays import default_calendar

if TYPE_CHECKING:
    from datetime import date

    from engine.importing.directory import UnitDirectory
    from engine.importing.model import ImportedTask, ImportResult, UnitRef


def result_json(result: ImportResult, directory: UnitDirectory,
                horizon_year: int | None = None) -> dict[str, Any]:
    """The whole preview as JSON-safe data."""
    meta = result.policy
    ctx = context(result, horizon_year)
    return {
        "policy": {"id": meta.id, "title": meta.title, "issuer": meta.issuer,
                   "issued_on": meta.issued_on.isoformat() if meta.issued_on else None,
                   "reporting": meta.reporting, "horizon_year": ctx.horizon_year if ctx else None,
                   "selection_years": list(meta.selection_years)},
        "tasks": [task_json(t, directory, meta.issued_on, ctx) for t in result.tasks],
        "new_units": list(result.new_units),
        "problems": [{"place": p.place, "severity": p.severity, "message": p.message,
                      "text": p.text} for p in result.problems],
        "source_kind": result.source_kind,
        "ok": result.ok(),
    }


def context(result: ImportResult, horizon_year: int | None = None) -> RuleContext | None:
    """The rule context of the preview; None without an issue date."""
    meta = result.policy
    if meta.issued_on is None:
        return None
    horizon = max(horizon_year or meta.horizon_year or meta.issued_on.year, meta.issued_on.year)
    return RuleContext(start=meta.issued_on, horizon_year=horizon,
                       selection_years=meta.selection_years, calendar=default_calendar())


def cycles(task: ImportedTask, ctx: RuleContext | None) -> list[Cycle]:
    """The task's cycles; none when it has no usable rule (a problem already says why)."""
    if task.rule is None or ctx is None:
        return []
    try:
        return task.rule.cycles(ctx)
    except DubanError:
        return []


def task_json(task: ImportedTask, directory: UnitDirectory, on: date | None,
              ctx: RuleContext | None) -> dict[str, Any]:
    """One task; unit names as of the issue date, open-ended cycles left out."""
    return {
        "number": task.number, "label": task.label, "path": list(task.path),
        "title": task.title, "text": task.text,
        "lead_units": [_name(r, directory, on) for r in task.lead],
        "supporting_units": [_name(r, directory, on) for r in task.supporting],
        "lead_unit_ids": [r.unit_id for r in task.lead],
        "supporting_unit_ids": [r.unit_id for r in task.supporting],
        "lead_as_written": [r.written for r in task.lead],
        "supporting_as_written": [r.written for r in task.supporting],
        "more_units": task.more_units, "notes": list(task.notes),
        "deadline": task.deadline, "deadline_source": task.deadline_source,
        "rule": task.rule.to_dict() if task.rule else None,
        "cycles": [{"label": c.label, "opens_on": c.opens_on.isoformat(),
                    "due_date": c.due_date.isoformat()}
                   for c in cycles(task, ctx) if c.due_date is not None],
        "targets": [asdict(t) for t in task.targets],
        "remark": task.remark, "place": task.place,
    }


def _name(ref: UnitRef, directory: UnitDirectory, on: date | None) -> str:
    """The directory's name on the issue date for a known unit, else the phrase as written."""
    if ref.unit_id is None or on is None:
        return ref.written
    return directory.display_name(ref.unit_id, on)
