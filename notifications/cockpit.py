"""The cockpit's figures (驾驶舱): the cities by on-time rate and score, overdue obligations
month by month, the tasks and units furthest behind. Columns-only queries; every chart of the
page has one of these tables beside it."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import overdue_from
from engine.models import Instance, Policy, PolicyTask, Unit, UnitKind
from engine.units import short_names
from notifications.assessment import Result


@dataclass(frozen=True)
class CityRow:
    """A city on the map: obligations due so far, closed on time, its rate and 考核 score."""

    unit_id: str
    name: str          # the short name, as the map names it (合肥市)
    due: int
    on_time: int
    overdue: int
    score: float | None

    @property
    def rate(self) -> float | None:
        return None if not self.due else round(100 * self.on_time / self.due, 1)


def _obligations(s: Session, policy: str | None) -> list[Any]:
    q = (select(Instance.id, Instance.lead_unit_id, Instance.due_date, Instance.closed_at,
                Instance.closed_on_time, PolicyTask.number, PolicyTask.title, PolicyTask.policy_id,
                Policy.title.label("policy_title"))
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Policy, Policy.id == PolicyTask.policy_id))
    if policy:
        q = q.where(PolicyTask.policy_id == policy)
    return list(s.execute(q))


def cities(s: Session, day: date, result: Result | None, policy: str | None) -> list[CityRow]:
    """Every city with its figures as of ``day``."""
    short = short_names(s, day)
    ids = list(s.scalars(select(Unit.id).where(Unit.kind == UnitKind.CITY)
                         .order_by(Unit.sort_order)))
    due: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    late: Counter[str] = Counter()
    end = overdue_from(day)
    for row in _obligations(s, policy):
        if row.due_date is None or row.due_date >= day:
            continue
        due[row.lead_unit_id] += 1
        if row.closed_at is not None and row.closed_at < end and row.closed_on_time:
            on_time[row.lead_unit_id] += 1
        elif row.closed_at is None:
            late[row.lead_unit_id] += 1
    scores = {u.unit_id: u.score for u in result.units} if result else {}
    return [CityRow(u, short.get(u, u), due[u], on_time[u], late[u], scores.get(u)) for u in ids]


def overdue_by_month(s: Session, day: date, policy: str | None,
                     months: int = 12) -> list[tuple[str, int]]:
    """How many obligations stood overdue at the end of each of the last ``months`` months."""
    rows = _obligations(s, policy)
    began = min((p for p in s.scalars(select(Policy.issued_on))), default=day)
    ends = []
    first = day.replace(day=1)
    for _ in range(months):
        if _month_end(first) < began:
            break  # nothing was assigned before the first policy
        ends.append(min(day, _month_end(first)))
        first = (first - timedelta(days=1)).replace(day=1)
    out = []
    for end in reversed(ends):
        cutoff = overdue_from(end)
        count = sum(1 for r in rows if r.due_date is not None and r.due_date < end
                    and (r.closed_at is None or r.closed_at >= cutoff))
        out.append((f"{end.year}年{end.month}月", count))
    return out


def _month_end(first: date) -> date:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


Behind = list[tuple[str, int, int]]


def _cut(title: str, width: int = 20) -> str:
    """A policy's title as the policy choice shows it (never its id, which users do not know)."""
    return title if len(title) <= width else title[:width - 1] + "…"


def furthest_behind(s: Session, day: date, policy: str | None,
                    limit: int = 10) -> tuple[Behind, Behind]:
    """(task label, overdue obligations, days overdue summed) and the same per unit, worst first."""
    short = short_names(s, day)
    tasks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    units: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in _obligations(s, policy):
        if r.due_date is None or r.closed_at is not None or r.due_date >= day:
            continue
        days = (day - r.due_date).days
        key = f"任务{r.number} {r.title[:18]}" + ("" if policy else f"（{_cut(r.policy_title)}）")
        for bucket in (tasks[key], units[short.get(r.lead_unit_id, r.lead_unit_id)]):
            bucket[0] += 1
            bucket[1] += days

    def worst(found: dict[str, list[int]]) -> Behind:
        return sorted(((k, v[0], v[1]) for k, v in found.items()),
                      key=lambda r: (-r[1], -r[2], r[0]))[:limit]

    return worst(tasks), worst(units)

