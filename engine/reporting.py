"""What supervisors see of the progress reports (进展报送): the last report on the board,
the obligations behind schedule, and the problems units asked to have coordinated.

Reads only; each function is one query for whatever rows it is given or finds (never a query
per row). The 签收 and progress items themselves are ``engine.checkins``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.clock import CHINA_TZ
from engine.models import (
    ACTIONABLE,
    Cycle,
    Instance,
    InstanceStatus,
    ItemKind,
    ItemStatus,
    PolicyTask,
    ProgressReport,
    WorkItem,
)

EXCERPT_CHARS = 40
_CHUNK = 500


@dataclass(frozen=True)
class Figure:
    """One number reported so far against its target."""

    label: str
    value: float
    target: float | None
    unit: str

    @property
    def text(self) -> str:
        """例如 "新增企业 12/50 家"."""
        value = _num(self.value)
        goal = f"/{_num(self.target)}" if self.target is not None else ""
        return f"{self.label} {value}{goal} {self.unit}".strip()


@dataclass(frozen=True)
class LastReport:
    """An obligation's latest progress report from its lead unit, as the board shows it."""

    report_id: int
    item_id: int
    reported_on: date          # China time
    due_date: date
    excerpt: str
    figures: tuple[Figure, ...]

    @property
    def late(self) -> bool:
        """Reported after its due date."""
        return self.reported_on > self.due_date


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of a text on one line (… when cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def figures(numbers: dict[str, Any] | None, targets: Sequence[dict[str, Any]] | None
            ) -> tuple[Figure, ...]:
    """The reported numbers in the task's target order, each against its amount."""
    numbers, out = numbers or {}, []
    for t in targets or ():
        if t.get("key") in numbers and numbers[t["key"]] is not None:
            out.append(Figure(str(t.get("label") or t["key"]), float(numbers[t["key"]]),
                              float(t["amount"]) if t.get("amount") is not None else None,
                              str(t.get("unit") or "")))
    return tuple(out)


def last_reports(s: Session, instance_ids: Sequence[int]) -> dict[int, LastReport]:
    """Instance id -> the lead unit's latest progress report (one query per 500 ids)."""
    ids = sorted(set(instance_ids))
    found: dict[int, LastReport] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        latest = (select(func.max(ProgressReport.id))
                  .join(Instance, and_(Instance.id == ProgressReport.instance_id,
                                       Instance.lead_unit_id == ProgressReport.unit_id))
                  .where(ProgressReport.instance_id.in_(chunk))
                  .group_by(ProgressReport.instance_id))
        q = (select(ProgressReport.id, ProgressReport.instance_id, ProgressReport.work_item_id,
                    ProgressReport.submitted_at, ProgressReport.due_date, ProgressReport.text,
                    ProgressReport.numbers, PolicyTask.targets)
             .join(Instance, Instance.id == ProgressReport.instance_id)
             .join(PolicyTask, PolicyTask.id == Instance.task_id)
             .where(ProgressReport.id.in_(latest)))
        for r in s.execute(q):
            found[r.instance_id] = LastReport(
                r.id, r.work_item_id, _day(r.submitted_at), r.due_date, excerpt(r.text),
                figures(r.numbers, r.targets))
    return found


def with_reports(s: Session, rows: list[Any]) -> list[Any]:
    """Board rows (``engine.queries.BoardRow``) with their lead unit's last report."""
    reports = last_reports(s, [r.instance_id for r in rows])
    return [replace(r, last_report=reports[r.instance_id]) if r.instance_id in reports else r
            for r in rows]


def _day(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class BehindRow:
    """An obligation behind schedule for one unit: its latest progress report due by today
    is missing (``reported_on`` None) or came in late."""

    item_id: int
    instance_id: int
    policy_id: str
    task_number: int
    task_title: str
    cycle_label: str
    unit_id: str
    role: str
    report_due: date
    reported_on: date | None
    obligation_due: date | None

    @property
    def missing(self) -> bool:
        """Not reported at all (yet)."""
        return self.reported_on is None

    def days_late(self, today: date) -> int:
        """Days past the report's due date: until today if missing, until the report if late."""
        return ((self.reported_on or today) - self.report_due).days

    @property
    def reason(self) -> str:
        """Why it is listed, in the supervisors' words."""
        return "进展未报送" if self.missing else "进展迟报"


def behind_schedule(s: Session, today: date, *, policy: str | None = None,
                    unit: str | None = None) -> list[BehindRow]:
    """Running obligations whose latest progress report due before ``today`` is missing or
    was late, per unit (lead and supporting); the missing first, the longest late first."""
    q = (select(WorkItem.id, WorkItem.instance_id, WorkItem.unit_id, WorkItem.role,
                WorkItem.due_date, WorkItem.status, WorkItem.submitted_at,
                PolicyTask.policy_id, PolicyTask.number, PolicyTask.title, Cycle.label,
                Instance.due_date.label("obligation_due"))
         .join(Instance, Instance.id == WorkItem.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .where(WorkItem.kind == ItemKind.PROGRESS, WorkItem.due_date < today,
                Instance.status == InstanceStatus.RUNNING)
         .order_by(WorkItem.instance_id, WorkItem.unit_id, WorkItem.due_date, WorkItem.id))
    if policy:
        q = q.where(PolicyTask.policy_id == policy)
    if unit:
        q = q.where(WorkItem.unit_id == unit)
    latest: dict[tuple[int, str], Any] = {}
    for r in s.execute(q):
        latest[(r.instance_id, r.unit_id)] = r   # ordered by due date: the last one wins
    rows = []
    for r in latest.values():
        sent = _day(r.submitted_at) if r.submitted_at else None
        if r.status in ACTIONABLE:
            sent = None
        elif sent is None or sent <= r.due_date:
            continue   # reported on time, or withdrawn (its part handed in)
        rows.append(BehindRow(r.id, r.instance_id, r.policy_id, r.number, r.title, r.label,
                              r.unit_id, r.role.value, r.due_date, sent, r.obligation_due))
    rows.sort(key=lambda b: (not b.missing, -b.days_late(today), b.task_number, b.unit_id))
    return rows


@dataclass(frozen=True)
class ProblemRow:
    """A problem a unit asked to have coordinated (需协调解决的问题), from a progress report."""

    report_id: int
    item_id: int
    instance_id: int
    policy_id: str
    task_number: int
    task_title: str
    cycle_label: str
    unit_id: str
    report_due: date
    submitted_at: datetime
    problems: str


def coordination_problems(s: Session, *, policy: str | None = None, unit: str | None = None,
                          limit: int = 500) -> list[ProblemRow]:
    """The progress reports that name a problem to coordinate, the newest first."""
    q = (select(ProgressReport.id, ProgressReport.work_item_id, ProgressReport.instance_id,
                ProgressReport.unit_id, ProgressReport.due_date, ProgressReport.submitted_at,
                ProgressReport.problems, PolicyTask.policy_id, PolicyTask.number,
                PolicyTask.title, Cycle.label)
         .join(Instance, Instance.id == ProgressReport.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .where(ProgressReport.problems.is_not(None), ProgressReport.problems != "")
         .order_by(ProgressReport.submitted_at.desc(), ProgressReport.id.desc())
         .limit(limit))
    if policy:
        q = q.where(PolicyTask.policy_id == policy)
    if unit:
        q = q.where(ProgressReport.unit_id == unit)
    return [ProblemRow(r.id, r.work_item_id, r.instance_id, r.policy_id, r.number, r.title,
                       r.label, r.unit_id, r.due_date, r.submitted_at, r.problems)
            for r in s.execute(q)]


@dataclass
class ReportCounts:
    """One unit's progress reports due in a period, as of the period's last day."""

    due: int = 0
    on_time: int = 0
    late: int = 0       # reported after the due date, by the period's end
    missing: int = 0    # not reported by the period's end


def report_counts(s: Session, policy_id: str, start: date, end: date) -> dict[str, ReportCounts]:
    """Unit id -> its progress reports due in [start, end] counted as of ``end`` (one query);
    a report withdrawn by its due date (the part handed in, the obligation closed) was not
    due. Units with nothing due are left out."""
    q = (select(WorkItem.unit_id, WorkItem.due_date, WorkItem.status, WorkItem.submitted_at,
                WorkItem.updated_at)
         .join(Instance, Instance.id == WorkItem.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .where(WorkItem.kind == ItemKind.PROGRESS, PolicyTask.policy_id == policy_id,
                WorkItem.due_date >= start, WorkItem.due_date <= end))
    counts: dict[str, ReportCounts] = {}
    for r in s.execute(q):
        sent = _day(r.submitted_at) if r.submitted_at else None
        if sent is None and r.status is ItemStatus.CANCELLED and \
                _day(r.updated_at) <= r.due_date:
            continue
        c = counts.setdefault(r.unit_id, ReportCounts())
        c.due += 1
        if sent is not None and sent <= r.due_date:
            c.on_time += 1
        elif sent is not None and sent <= end:
            c.late += 1
        else:
            c.missing += 1
    return counts
