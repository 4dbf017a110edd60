"""What the replay must have done, recomputed from the database's plain facts.

The facts are timestamps only: when each work item appeared, when its unit submitted, when the
supervisor approved or returned, when an extension was decided, when an instance closed. From
them this module rebuilds, tick by tick, which item was in its unit's hands and past (or near)
its due date, and so which reminders, 催办, 督办通知 and bulletin lines the documented rules ask
for. It never reads the scheduler's own bookkeeping (``overdue_marked_at``, ``escalated_at``,
notes or outbox rows), so it can disagree with the scheduler.

The rules (docs/scheduler.md, notifications/tick.py): the tick runs at 08:00 China time; an
open or returned lead/supporting item is reminded once per offset window (T-7: 2..7 days left,
T-1: 0..1 day left); the day after its due date it gets one 催办 per due date; a lead item still
in the unit's hands on a working day more than 5 working days after its due date reaches the
督办 level, and each unit gets one notice a day listing all its items at that level when at
least one of them reaches it for the first time (per due date). Past it (docs/scheduler.md,
the ladder): on the first working day after the reply deadline the 督办通知 stated (5 working
days after its issue) a lead item still in its unit's hands, with nothing handed in from the
notice's tick to the end of that deadline, gets the 二次督办通知 (one per unit and day, listing
the items reaching that level that day), and the next bulletin whose period ends on or after
that day names it for 通报批评 (once, if its due date has not changed since).

签收 and 进展报送 (engine.checkins): an ack item is reminded once, on its due day (T-0), a
progress item like the others (T-7, T-1); both get one 催办 the day after their due date and
never reach the 督办 level. They leave the unit's hands when acknowledged (the item's closed
time: the fact of the 签收) or reported (the report's time), or when the unit hands in its part
of the obligation (its evidence or contribution: that acknowledges, and withdraws the reports).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import CHINA_TZ, overdue_from
from engine.models import (
    BPMN_KINDS,
    Cycle,
    Evidence,
    ExtensionRequest,
    ExtensionStatus,
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    PolicyTask,
    ProgressReport,
    Review,
    WorkItem,
)
from engine.workdays import WorkCalendar
from simulator.replay import TICK_AT

ESCALATE_AFTER_WORKING_DAYS = 5
REPLY_WORKING_DAYS = 5
FOREVER = datetime(9999, 12, 31, tzinfo=CHINA_TZ)


def tick_at(day: date) -> datetime:
    """The instant of a day's tick."""
    return datetime.combine(day, TICK_AT, CHINA_TZ)


def days(start: date, end: date) -> Iterator[date]:
    """``start`` .. ``end`` inclusive."""
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)


@dataclass
class Obligation:
    """A lead or supporting work item and the timestamps its state is built from."""

    item_id: int
    instance_id: int
    unit_id: str
    role: ItemRole
    task_number: int
    cycle_label: str
    created_at: datetime
    closed_at: datetime | None          # the instance's 办结
    original_due: date | None
    submissions: list[datetime] = field(default_factory=list)
    reviews: list[tuple[datetime, bool]] = field(default_factory=list)  # lead only
    extensions: list[tuple[datetime, date]] = field(default_factory=list)  # approved
    kind: ItemKind = ItemKind.EVIDENCE
    due: date | None = None             # a 签收 / progress item's own due date

    @property
    def checkin(self) -> bool:
        """A 签收 or progress item (engine.checkins), not a step of the BPMN."""
        return self.kind in (ItemKind.ACK, ItemKind.PROGRESS)

    def due_on(self, at: datetime) -> date | None:
        """The due date in force at ``at`` (the latest extension decided before it)."""
        if self.checkin:
            return self.due  # an extension moves the obligation, not its 签收 or reports
        due = self.original_due
        for decided, new_due in sorted(self.extensions):
            if decided < at:
                due = new_due
        return due

    def actionable_at(self, at: datetime) -> bool:
        """Whether the item was open or returned (the unit's move) at ``at``."""
        if at < self.created_at or (self.closed_at is not None and self.closed_at <= at):
            return False
        n = bisect.bisect_left(self.submissions, at)
        if n == 0:
            return True
        if self.role is ItemRole.SUPPORTING or self.checkin:
            return False
        last_sub = self.submissions[n - 1]
        before = [r for r in self.reviews if r[0] < at]
        return bool(before) and not before[-1][1] and before[-1][0] > last_sub

    def first_submission(self) -> datetime | None:
        """When the unit first handed something in."""
        return self.submissions[0] if self.submissions else None

    def late(self) -> bool:
        """Late by the facts: still in the unit's hands at some instant past the due date."""
        due = self.due_on(FOREVER)
        if due is None:
            return False
        start = overdue_from(due)
        if self.actionable_at(start):
            return True
        returns = [r for r, ok in self.reviews if not ok and r >= start]
        return any(self.actionable_at(r + timedelta(seconds=1)) for r in returns)


def load(s: Session) -> list[Obligation]:
    """Every lead and supporting item with its facts."""
    rows = s.execute(
        select(WorkItem.id, WorkItem.instance_id, WorkItem.unit_id, WorkItem.role,
               WorkItem.created_at, PolicyTask.number, Instance.closed_at,
               Instance.original_due_date, Instance.cycle_id, WorkItem.kind, WorkItem.due_date,
               WorkItem.status, WorkItem.closed_at.label("item_closed_at"))
        .join(Instance, Instance.id == WorkItem.instance_id)
        .join(PolicyTask, PolicyTask.id == Instance.task_id)
        .where(WorkItem.role != ItemRole.SUPERVISOR,
               WorkItem.kind != ItemKind.PLAN).order_by(WorkItem.id)).all()  # plans: no ladder
    labels = {cid: label for cid, label in s.execute(select(Cycle.id, Cycle.label))}
    found = {r.id: Obligation(r.id, r.instance_id, r.unit_id, r.role, r.number,
                              labels[r.cycle_id], r.created_at, r.closed_at,
                              r.original_due_date, kind=r.kind, due=r.due_date) for r in rows}
    acked = {r.id: r.item_closed_at for r in rows
             if r.kind is ItemKind.ACK and r.status is ItemStatus.CLOSED}
    by_instance: dict[int, list[Obligation]] = defaultdict(list)
    for ob in found.values():
        by_instance[ob.instance_id].append(ob)
    handed_in: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for item_id, at in s.execute(select(Evidence.work_item_id, Evidence.submitted_at)
                                 .order_by(Evidence.submitted_at, Evidence.id)):
        if item_id in found:
            found[item_id].submissions.append(at)
            handed_in[(found[item_id].instance_id, found[item_id].unit_id)].append(at)
    _checkin_facts(s, found, acked, handed_in)
    for inst_id, at, ok in s.execute(select(Review.instance_id, Review.reviewed_at,
                                            Review.approved).order_by(Review.reviewed_at)):
        for ob in by_instance[inst_id]:
            if ob.role is ItemRole.LEAD:
                ob.reviews.append((at, ok))
    for ext in s.scalars(select(ExtensionRequest)
                         .where(ExtensionRequest.status == ExtensionStatus.APPROVED)):
        assert ext.decided_at is not None and ext.decided_due_date is not None
        for ob in by_instance[ext.instance_id]:
            ob.extensions.append((ext.decided_at, ext.decided_due_date))
    return list(found.values())


def _checkin_facts(s: Session, found: dict[int, Obligation], acked: dict[int, datetime],
                   handed_in: dict[tuple[int, str], list[datetime]]) -> None:
    """When each 签收 / progress item left its unit's hands: acknowledged, reported, or the
    unit handed in its part while the item was open."""
    reports = {item_id: at for item_id, at in s.execute(
        select(ProgressReport.work_item_id, ProgressReport.submitted_at))}
    for ob in found.values():
        if not ob.checkin:
            continue
        ends = [at for at in handed_in[(ob.instance_id, ob.unit_id)] if at >= ob.created_at]
        done = acked.get(ob.item_id) if ob.kind is ItemKind.ACK else reports.get(ob.item_id)
        ob.submissions = sorted({*ends[:1], *([done] if done else [])})


@dataclass
class Expected:
    """The messages and documents the rules ask for over the replay."""

    reminders: set[str] = field(default_factory=set)         # reminder:<item>:T-7
    urges: set[str] = field(default_factory=set)             # urge:<item>:<due>
    notices: dict[tuple[str, date], set[int]] = field(default_factory=dict)  # listed items
    first_escalation: dict[tuple[int, date], date] = field(default_factory=dict)
    principal: dict[tuple[str, date], set[int]] = field(default_factory=dict)  # 二次督办
    first_principal: dict[tuple[int, date], date] = field(default_factory=dict)


def window(left: int) -> int | None:
    """The reminder offset whose window holds ``left`` days (offsets 7 and 1)."""
    if left < 0:
        return None
    return 1 if left <= 1 else 7 if left <= 7 else None


def expected(obligations: list[Obligation], start: date, end: date,
             cal: WorkCalendar) -> Expected:
    """Replay the documented rules over the facts, tick by tick."""
    exp = Expected()
    for day in days(start, end):
        at = tick_at(day)
        level: dict[str, list[tuple[int, date]]] = defaultdict(list)
        for ob in obligations:
            if not ob.actionable_at(at):
                continue
            due = ob.due_on(at)
            if due is None:
                continue
            k = window((due - day).days) if ob.kind is not ItemKind.ACK else (
                0 if due == day else None)  # a 签收: one reminder, on its due day
            if k is not None:
                exp.reminders.add(f"reminder:{ob.item_id}:T-{k}")
            if due < day:
                exp.urges.add(f"urge:{ob.item_id}:{due.isoformat()}")
                if (ob.role is ItemRole.LEAD and not ob.checkin and cal.is_working_day(day) and
                        cal.working_days_between(due, day) > ESCALATE_AFTER_WORKING_DAYS):
                    level[ob.unit_id].append((ob.item_id, due))
        for unit_id, listed in level.items():
            new = [key for key in listed if key not in exp.first_escalation]
            if new:
                exp.notices[(unit_id, day)] = {item for item, _ in listed}
                for key in new:
                    exp.first_escalation[key] = day
        _second_level(exp, obligations, day, cal)
    return exp


def reply_by(notice_day: date, cal: WorkCalendar) -> date:
    """The reply deadline a 督办通知 issued on ``notice_day`` states."""
    return cal.add_working_days(notice_day, REPLY_WORKING_DAYS)


def _second_level(exp: Expected, obligations: list[Obligation], day: date,
                  cal: WorkCalendar) -> None:
    """The 二次督办通知 of ``day``: items whose notice's reply deadline passed unanswered."""
    if not cal.is_working_day(day):
        return
    at = tick_at(day)
    for ob in obligations:
        if ob.role is not ItemRole.LEAD or not ob.actionable_at(at):
            continue
        due = ob.due_on(at)
        key = (ob.item_id, due)
        if due is None or key not in exp.first_escalation or key in exp.first_principal:
            continue
        noticed = exp.first_escalation[key]
        deadline = reply_by(noticed, cal)
        since, until = tick_at(noticed), overdue_from(deadline)
        if deadline >= day or any(since <= sub < until for sub in ob.submissions):
            continue
        exp.first_principal[key] = day
        exp.principal.setdefault((ob.unit_id, day), set()).add(ob.item_id)


def criticized(exp: Expected, obligations: list[Obligation],
               bulletins: list[tuple[date, date]]) -> list[set[int]]:
    """The items each bulletin (as of, issued on; in order of issue) names for 通报批评."""
    by_id = {ob.item_id: ob for ob in obligations}
    done: set[tuple[int, date]] = set()
    out = []
    for as_of, issued in bulletins:
        named = {key for key, day in exp.first_principal.items() if day <= as_of and
                 key not in done and by_id[key[0]].due_on(tick_at(issued)) == key[1]}
        done |= named
        out.append({item for item, _ in named})
    return out


def overdue_units_as_of(obligations: list[Obligation], as_of: date) -> dict[str, int]:
    """Lead units with items in their hands past the due date at the end of ``as_of``."""
    at = overdue_from(as_of)
    found: dict[str, int] = defaultdict(int)
    for ob in obligations:
        if ob.role is not ItemRole.LEAD or ob.checkin or not ob.actionable_at(at):
            continue
        due = ob.due_on(at)
        if due is not None and due < as_of:
            found[ob.unit_id] += 1
    return dict(found)


def outcome_messages(s: Session) -> dict[str, str]:
    """dedupe key -> unit of every outcome message the rules ask for (docs/mail.md, Outcomes):
    one per review (approved / returned) and per decided extension, to the lead unit; one per
    unit for the obligations (lead or supporting items of the BPMN, not their 签收 and progress
    items) that appeared at one instant."""
    lead = {inst: unit for inst, unit in s.execute(
        select(WorkItem.instance_id, WorkItem.unit_id).where(WorkItem.role == ItemRole.LEAD))}
    found: dict[str, str] = {}
    for rid, inst, ok in s.execute(select(Review.id, Review.instance_id, Review.approved)):
        found[f"{'approved' if ok else 'returned'}:{rid}"] = lead[inst]
    for ext in s.scalars(select(ExtensionRequest).where(
            ExtensionRequest.status != ExtensionStatus.PENDING)):
        found[f"extension:{ext.id}"] = ext.unit_id
    first: dict[tuple[str, datetime], int] = {}
    for item_id, unit, created in s.execute(
            select(WorkItem.id, WorkItem.unit_id, WorkItem.created_at)
            .where(WorkItem.role != ItemRole.SUPERVISOR,  # a new obligation's own items: the
                   WorkItem.kind.in_(BPMN_KINDS))         # later progress items assign nothing
            .order_by(WorkItem.id)):
        first.setdefault((unit, created), item_id)
    for (unit, _), item_id in first.items():
        found[f"assigned:{unit}:{item_id}"] = unit
    return found
