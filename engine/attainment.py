"""Target attainment as of a date: one rule for the task charts and the bulletins.

An obligation adds its numbers once a supervisor approved it (the review closes it), and then
the numbers of the evidence that review recorded, not a later or an earlier submission. "As of
a day" means approved before the end of that day (China time), so a bulletin issued on 1 October
for September and a chart looked at on 30 September show the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import overdue_from
from engine.models import Cycle, Evidence, Instance, PolicyTask, Review
from engine.policy import kind_of

Sums = dict[str, Decimal]  # target key -> sum


@dataclass(frozen=True)
class CycleFigures:
    """One cycle of a task with what its approved obligations reached, per target key."""

    label: str
    due_date: date | None
    sums: Mapping[str, Decimal]
    obligations: int   # started by the as-of day
    closed: int        # of which approved by then

    def value(self, key: str) -> Decimal:
        """The sum of one target's number (0 when nothing was approved)."""
        return self.sums.get(key, Decimal(0))


@dataclass(frozen=True)
class TargetFigure:
    """A target over some cycles as of a day: goal, achieved, and whether it has fallen due."""

    task_number: int
    key: str
    label: str
    unit: str
    kind: str          # "count" or "amount" (engine.policy.kind_of)
    goal: int          # the amount times the cycles it covers (once for per: total)
    achieved: Decimal
    due_date: date | None  # the latest due date of those cycles (None: open-ended)
    settled: bool      # every cycle is past its due date or has all its obligations approved

    @property
    def percent(self) -> Decimal | None:
        """Achieved as a percentage of the goal."""
        return self.achieved * 100 / self.goal if self.goal else None


def _number(value: Any) -> Decimal:
    """A stored number as a Decimal (JSON gives int or float; anything else counts 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Decimal(0)
    return Decimal(str(value))


def cycle_figures(s: Session, task: PolicyTask, as_of: date,
                  unit_id: str | None = None) -> list[CycleFigures]:
    """Every cycle of ``task`` in order, with the approved sums as of the end of ``as_of``."""
    end = overdue_from(as_of)
    sums: dict[int, Sums] = defaultdict(lambda: defaultdict(Decimal))
    approved = (select(Instance.cycle_id, Evidence.numbers)
                .join(Review, Review.evidence_id == Evidence.id)
                .join(Instance, Instance.id == Review.instance_id)
                .where(Instance.task_id == task.id, Review.approved.is_(True),
                       Review.reviewed_at < end))
    started = (select(Instance.cycle_id, Instance.closed_at)
               .where(Instance.task_id == task.id, Instance.started_at < end))
    if unit_id is not None:
        approved = approved.where(Instance.lead_unit_id == unit_id)
        started = started.where(Instance.lead_unit_id == unit_id)
    for cycle_id, numbers in s.execute(approved):
        for key, value in (numbers or {}).items():
            sums[cycle_id][key] += _number(value)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for cycle_id, closed_at in s.execute(started):
        counts[cycle_id][0] += 1
        counts[cycle_id][1] += closed_at is not None and closed_at < end
    cycles = s.scalars(select(Cycle).where(Cycle.task_id == task.id)
                       .order_by(Cycle.opens_on, Cycle.id))
    return [CycleFigures(c.label, c.due_date, dict(sums.get(c.id, {})), *counts.get(c.id, [0, 0]))
            for c in cycles]


def year_figures(s: Session, tasks: Iterable[PolicyTask], year: int,
                 as_of: date) -> list[TargetFigure]:
    """Each target of ``tasks`` over the cycles due in ``year`` (all cycles for per: total)."""
    found: list[TargetFigure] = []
    for task in tasks:
        if not task.targets:
            continue
        cycles = [c for c in cycle_figures(s, task, as_of) if c.obligations]
        for target in task.targets:
            chosen = [c for c in cycles if target["per"] == "total" or c.due_date is None
                      or c.due_date.year == year]
            if chosen:
                found.append(_figure(task.number, target, chosen, as_of))
    return found


def _figure(number: int, target: Mapping[str, Any], cycles: Sequence[CycleFigures],
            as_of: date) -> TargetFigure:
    """One target summed over ``cycles``."""
    times = 1 if target["per"] == "total" else len(cycles)
    dues = [c.due_date for c in cycles]
    settled = all((c.due_date is not None and c.due_date <= as_of) or c.closed == c.obligations
                  for c in cycles)
    return TargetFigure(
        task_number=number, key=target["key"], label=target["label"],
        unit=target.get("unit", ""), kind=kind_of(target), goal=int(target["amount"]) * times,
        achieved=sum((c.value(target["key"]) for c in cycles), Decimal(0)),
        due_date=None if None in dues else max(d for d in dues if d is not None),
        settled=settled)
