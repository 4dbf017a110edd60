"""签收 and 进展报送: the work items the engine keeps beside each obligation's BPMN process.

Every running obligation gets, for its lead unit and for each supporting unit, one ``ack`` item
(签收, due N working days after the obligation started) and, for each reporting period of its
policy's rule (``Policy.data["reporting"]``, else the configured default), one ``progress`` item
while the unit still holds its own part (docs/architecture.md: why beside the BPMN, not in it).
They share the work-item table, so the inbox, the lights and the reminder / 催办 sweeps see
them; ``instances.sync`` leaves them alone and cancels what is still open when the obligation
closes. Creating them is a scheduler step; running it twice creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import audit, lifecycle, plans
from engine.access import Action, Actor
from engine.clock import CHINA_TZ, Clock, today
from engine.deadlines import Cycle, RuleContext, parse_deadline
from engine.errors import DubanError, ValidationError
from engine.models import (
    ACTIONABLE,
    BPMN_KINDS,
    CHECKIN_KINDS,
    Instance,
    InstanceStatus,
    ItemKind,
    ItemRole,
    ItemStatus,
    Policy,
    PolicyTask,
    ProgressReport,
    WorkItem,
)
from engine.workdays import WorkCalendar, default_calendar

ACK_TASK = "ack"
DEFAULT_PROGRESS_RULE = "每季度末月25日前"
ACK_CATCH_UP_DAYS = 7   # an obligation started longer ago than this gets no 签收 any more


@dataclass(frozen=True)
class CheckinRule:
    """签收 within N working days; progress on the policy's rule, else ``progress_rule``."""

    ack_working_days: int = 2
    progress_rule: str = DEFAULT_PROGRESS_RULE


def progress_task(due: date) -> str:
    """A progress item's ``task_name``: one per obligation, unit and reporting due date."""
    return f"progress:{due.isoformat()}"


def reporting_windows(policy: Policy, day: date, default: str) -> list[Cycle]:
    """The policy's reporting periods (label, opens, due) up to ``day``'s year."""
    phrase = (policy.data or {}).get("reporting") or default
    try:
        rule = parse_deadline(phrase)
    except DubanError:
        rule = parse_deadline(default)
    horizon = max(int((policy.data or {}).get("horizon_year") or 0), day.year)
    return [c for c in rule.cycles(RuleContext(start=policy.issued_on, horizon_year=horizon))
            if c.due_date is not None]


def open_checkins(sessions: sessionmaker[Session], clock: Clock, rule: CheckinRule | None = None,
                  calendar: WorkCalendar | None = None) -> int:
    """Create the missing 签收 items and this period's progress items; returns how many."""
    rule, cal, day = rule or CheckinRule(), calendar or default_calendar(), today(clock)
    with sessions() as s, s.begin():
        running = s.execute(
            select(Instance.id, Instance.lead_unit_id, Instance.started_at, Instance.due_date,
                   PolicyTask.policy_id, PolicyTask.supporting_unit_ids)
            .join(PolicyTask, PolicyTask.id == Instance.task_id)
            .where(Instance.status == InstanceStatus.RUNNING).order_by(Instance.id)).all()
        if not running:
            return 0
        items = s.execute(select(WorkItem.instance_id, WorkItem.task_name, WorkItem.unit_id,
                                 WorkItem.kind, WorkItem.status)
                          .join(Instance, Instance.id == WorkItem.instance_id)
                          .where(Instance.status == InstanceStatus.RUNNING)).all()
        have = {(r.instance_id, r.task_name, r.unit_id) for r in items}
        holding = {(r.instance_id, r.unit_id) for r in items
                   if r.kind in BPMN_KINDS and r.status in ACTIONABLE}
        windows = {p.id: [w for w in reporting_windows(p, day, rule.progress_rule)
                          if w.due_date is not None and w.opens_on <= day <= w.due_date]
                   for p in s.scalars(select(Policy).where(
                       Policy.id.in_({r.policy_id for r in running})))}
        made = [new for r in running
                for new in _missing(r, day, rule, cal, windows[r.policy_id], holding)
                if (r.id, new.task_name, new.unit_id) not in have]
        for new in made:
            new.created_at = new.updated_at = clock.now()
        s.add_all(made)
        lifecycle.created_all(s, clock, made)  # one flush for the day's new items
        return len(made)


def _missing(r: Any, day: date, rule: CheckinRule, cal: WorkCalendar, windows: list[Cycle],
             holding: set[tuple[int, str]]) -> list[WorkItem]:
    """The 签收 and progress items one running obligation should have today."""
    started = r.started_at.astimezone(CHINA_TZ).date()
    units = [(r.lead_unit_id, ItemRole.LEAD)] + [
        (u, ItemRole.SUPPORTING) for u in r.supporting_unit_ids if u != r.lead_unit_id]
    out = []
    for unit, role in units:
        if day - started <= timedelta(days=ACK_CATCH_UP_DAYS):
            out.append(_item(r.id, ACK_TASK, unit, role, ItemKind.ACK, "签收交办任务",
                             cal.add_working_days(started, rule.ack_working_days)))
            if role is ItemRole.LEAD and plans.wants_plan(started, r.due_date):
                out.append(_item(r.id, plans.PLAN_TASK, unit, role, ItemKind.PLAN,
                                 plans.PLAN_TITLE,
                                 cal.add_working_days(started, plans.PLAN_WORKING_DAYS)))
        if (r.id, unit) not in holding:
            continue  # its part is handed in (or not yet its turn): nothing to report
        for w in windows:
            assert w.due_date is not None
            if started <= w.due_date and (r.due_date is None or w.due_date < r.due_date):
                out.append(_item(r.id, progress_task(w.due_date), unit, role,
                                 ItemKind.PROGRESS, f"报送{w.label}工作进展", w.due_date))
    return out


def _item(inst_id: int, task_name: str, unit: str, role: ItemRole, kind: ItemKind, title: str,
          due: date) -> WorkItem:
    return WorkItem(instance_id=inst_id, task_name=task_name, unit_id=unit, role=role, kind=kind,
                    title=title, due_date=due, status=ItemStatus.OPEN)


def _own_item(s: Session, actor: Actor, item_id: int, action: Action) -> WorkItem:
    """The actor's open item of the action's kind, locked with its obligation."""
    from engine import service  # service calls settle_on_submission: import at call time

    return service.actionable(s, actor, item_id, action)


def acknowledge(s: Session, clock: Clock, actor: Actor, item_id: int) -> WorkItem:
    """签收: the unit confirms it has received the obligation; the time is kept."""
    item = _own_item(s, actor, item_id, Action.ACKNOWLEDGE)
    now = clock.now()
    lifecycle.set_status(s, clock, item, ItemStatus.CLOSED, actor=actor.username, reason="签收")
    item.submitted_at, item.closed_at = now, now
    audit.record(s, clock, actor=actor.username, action="acknowledge", object_type="work_item",
                 object_id=str(item.id), before={"status": ItemStatus.OPEN},
                 after={"status": item.status, "late": _late(item, clock)})
    return item


def _late(item: WorkItem, clock: Clock) -> bool:
    return item.due_date is not None and today(clock) > item.due_date


def report_progress(s: Session, clock: Clock, actor: Actor, item_id: int, *, text: str,
                    numbers: dict[str, Any] | None = None, problems: str | None = None,
                    next_steps: str | None = None, attachment_ids: Sequence[int] = (),
                    reached: Sequence[int] = ()) -> ProgressReport:
    """进展报送: what was done, numbers so far against the targets, milestones of the approved
    形象进度 plan reached (ids; the lead unit's), problems that need coordination, next steps
    and attachments."""
    from engine import service

    item = _own_item(s, actor, item_id, Action.REPORT)
    text = (text or "").strip()
    if not text:
        raise ValidationError("请填写工作进展情况")
    for label, value in (("工作进展", text), ("需协调解决的问题", problems or ""),
                         ("下一步工作安排", next_steps or "")):
        if len(value) > service.MAX_TEXT:
            raise ValidationError(f"{label}不能超过 {service.MAX_TEXT} 字")
    inst = item.instance
    clean = service.check_numbers(inst, numbers or {})
    atts = service.claim_attachments(s, actor, attachment_ids)
    now = clock.now()
    assert item.due_date is not None
    report = ProgressReport(work_item_id=item.id, instance_id=inst.id, unit_id=item.unit_id,
                            user_id=actor.user_id, due_date=item.due_date, text=text,
                            numbers=clean, problems=(problems or "").strip() or None,
                            next_steps=(next_steps or "").strip() or None, submitted_at=now,
                            attachments=atts)
    s.add(report)
    s.flush()
    done = plans.mark_reached(s, inst, item.unit_id, reached, today(clock), report.id)
    lifecycle.set_status(s, clock, item, ItemStatus.CLOSED, actor=actor.username,
                         reason="进展报送", ref=("progress_report", report.id))
    item.submitted_at, item.closed_at = now, now
    audit.record(s, clock, actor=actor.username, action="report_progress",
                 object_type="work_item", object_id=str(item.id),
                 before={"status": ItemStatus.OPEN},
                 after={"status": item.status, "report": report.id, "numbers": clean,
                        "late": _late(item, clock), "attachments": [a.id for a in atts],
                        "reached": done})
    return report


def settle_on_submission(s: Session, clock: Clock, item: WorkItem) -> None:
    """A unit that hands in its part has received it (its 签收 closes at that time) and has
    nothing left to report on it (its open progress items are withdrawn)."""
    now = clock.now()
    for other in s.scalars(select(WorkItem).where(
            WorkItem.instance_id == item.instance_id, WorkItem.unit_id == item.unit_id,
            WorkItem.kind.in_((*CHECKIN_KINDS, ItemKind.PLAN)),
            WorkItem.status.in_(ACTIONABLE))):
        if other.kind is ItemKind.ACK:
            lifecycle.set_status(s, clock, other, ItemStatus.CLOSED, reason="报送即视为签收",
                                 ref=("work_item", item.id))
            other.submitted_at, other.closed_at = now, now
        else:
            lifecycle.set_status(s, clock, other, ItemStatus.CANCELLED, reason="已报送办理情况",
                                 ref=("work_item", item.id))


@dataclass(frozen=True)
class LateReport:
    """A progress report handed in after its due date, or not at all (``reported_on`` None)."""

    item_id: int
    instance_id: int
    unit_id: str
    policy_id: str
    task_number: int
    title: str
    due_date: date
    reported_on: date | None


def late_reports(s: Session, as_of: date, *, policies: Sequence[str] | None = None,
                 start: date | None = None, end: date | None = None) -> list[LateReport]:
    """Progress reports due in [start, end] that came in late or never (as of ``as_of``):
    the fact the bulletins and the 考核 count ("进展情况迟报或漏报")."""
    return late_checkins(s, as_of, ItemKind.PROGRESS, policies=policies, start=start, end=end)


def late_checkins(s: Session, as_of: date, kind: ItemKind, *,
                  policies: Sequence[str] | None = None, start: date | None = None,
                  end: date | None = None) -> list[LateReport]:
    """签收 (kind ack) or progress reports due before ``as_of`` and in [start, end], done after
    their due date or not at all; one withdrawn by its due date (the part handed in, the
    obligation closed) is not late."""
    q = (select(WorkItem.id, WorkItem.instance_id, WorkItem.unit_id, WorkItem.title,
                WorkItem.due_date, WorkItem.status, WorkItem.submitted_at, WorkItem.updated_at,
                PolicyTask.policy_id,
                PolicyTask.number)
         .join(Instance, Instance.id == WorkItem.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .where(WorkItem.kind == kind, WorkItem.due_date < as_of)
         .order_by(WorkItem.due_date, WorkItem.id))
    if policies is not None:
        q = q.where(PolicyTask.policy_id.in_(list(policies)))
    if start is not None:
        q = q.where(WorkItem.due_date >= start)
    if end is not None:
        q = q.where(WorkItem.due_date <= end)
    found = []
    for r in s.execute(q):
        sent = r.submitted_at.astimezone(CHINA_TZ).date() if r.submitted_at else None
        if sent is not None and sent <= r.due_date:
            continue
        if r.status is ItemStatus.CANCELLED and \
                r.updated_at.astimezone(CHINA_TZ).date() <= r.due_date:
            continue  # withdrawn in time: the part was handed in, or the obligation closed
        found.append(LateReport(r.id, r.instance_id, r.unit_id, r.policy_id, r.number, r.title,
                                r.due_date, sent))
    return found


def checkin_items(s: Session, instance_id: int) -> list[WorkItem]:
    """An obligation's 签收 and progress items, by unit and due date (the item page)."""
    return list(s.scalars(select(WorkItem).where(
        WorkItem.instance_id == instance_id, WorkItem.kind.in_(CHECKIN_KINDS))
        .order_by(WorkItem.kind, WorkItem.unit_id, WorkItem.due_date)))


def reports_of(s: Session, instance_id: int) -> list[ProgressReport]:
    """An obligation's progress reports, the latest first."""
    return list(s.scalars(select(ProgressReport).where(
        ProgressReport.instance_id == instance_id).order_by(ProgressReport.id.desc())))
