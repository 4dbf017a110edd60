"""形象进度: the lead unit's dated milestones for an obligation, reviewed by the supervisor.

Each running obligation with a due date at least ``PLAN_MIN_DAYS`` after its start gets one
``plan`` work item for its lead unit (made by ``engine.checkins.open_checkins`` beside the 签收,
due ``PLAN_WORKING_DAYS`` working days after the start). Its liaison proposes milestones (name,
date, planned amounts per target key); the item goes open -> submitted; a supervisor (never of
the lead unit) approves it (closed) or returns it with a reason (returned), and the unit
resubmits: version 2, 3 ... Every version is kept (``Plan`` rows with their ``Milestone``s).

The approved milestones feed the one light rule (``engine.lights``): ``behind_sql`` is the
per-obligation "behind the time-proportional schedule" (序时进度) reason, one grouped SQL
subquery outer-joined by the board (``light_sql``) and read by ``behind`` for the Python rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Subquery, func, literal, select, union_all
from sqlalchemy.orm import Session

from engine import audit, lifecycle, outcomes
from engine.access import Action, Actor, may_decide_plan
from engine.clock import Clock
from engine.errors import PermissionDeniedError, StateError, ValidationError
from engine.models import (
    ACTIONABLE,
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    Milestone,
    Plan,
    PlanStatus,
    WorkItem,
)

PLAN_TASK = "plan"
PLAN_TITLE = "报送形象进度计划"
PLAN_WORKING_DAYS = 10    # a plan is due 10 working days after the obligation starts
PLAN_MIN_DAYS = 90        # obligations shorter than this need no milestones
MAX_MILESTONES = 24
MAX_NAME = 200
BEHIND = "进度滞后"       # an approved milestone passed, not reported reached
LATE_REPORT = "进展迟报"  # the lead unit's progress report is past its due date


def wants_plan(started: date, due: date | None) -> bool:
    """Whether an obligation gets a plan item: a due date far enough away for milestones."""
    return due is not None and (due - started).days >= PLAN_MIN_DAYS


def clean_milestones(inst: Instance, raw: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The proposed milestones checked: a name, a date within the obligation, amounts per
    target key (numbers checked like a report's); in date order. Chinese errors otherwise."""
    from engine import service  # service imports checkins, which imports us
    rows = [m for m in raw if str(m.get("name") or "").strip() or m.get("due_on")]
    if not rows:
        raise ValidationError("请至少填写一个节点（名称和日期）")
    if len(rows) > MAX_MILESTONES:
        raise ValidationError(f"节点不能超过 {MAX_MILESTONES} 个")
    out = []
    for n, m in enumerate(rows, 1):
        name = str(m.get("name") or "").strip()
        if not name or len(name) > MAX_NAME:
            raise ValidationError(f"第{n}个节点：请填写节点名称（不超过 {MAX_NAME} 字）")
        due = m.get("due_on")
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due.strip())
            except ValueError:
                raise ValidationError(f"第{n}个节点：日期“{due}”无效，应为 YYYY-MM-DD") from None
        if not isinstance(due, date):
            raise ValidationError(f"第{n}个节点：请填写完成日期")
        start = inst.cycle.opens_on
        if due < start or (inst.due_date is not None and due > inst.due_date):
            end = inst.due_date.isoformat() if inst.due_date else "—"
            raise ValidationError(f"第{n}个节点：日期应在 {start.isoformat()} 至 {end} 之间")
        amounts = service.check_numbers(inst, dict(m.get("amounts") or {}))
        out.append({"name": name, "due_on": due, "amounts": amounts})
    return sorted(out, key=lambda m: m["due_on"])


def propose(s: Session, clock: Clock, actor: Actor, item_id: int, *,
            milestones: Sequence[Mapping[str, Any]], note: str | None = None) -> Plan:
    """The lead unit's liaison proposes (or, after a return, resubmits) its plan."""
    from engine import service
    item = service.actionable(s, actor, item_id, Action.PROPOSE)
    inst = item.instance
    clean = clean_milestones(inst, milestones)
    note = (note or "").strip() or None
    if note and len(note) > service.MAX_TEXT:
        raise ValidationError(f"说明不能超过 {service.MAX_TEXT} 字")
    version = len(versions(s, item.id)) + 1
    plan = Plan(work_item_id=item.id, instance_id=inst.id, unit_id=item.unit_id,
                version=version, note=note, status=PlanStatus.SUBMITTED,
                submitted_by=actor.user_id, submitted_at=clock.now(),
                milestones=[Milestone(seq=i, name=m["name"], due_on=m["due_on"],
                                      amounts=m["amounts"]) for i, m in enumerate(clean)])
    s.add(plan)
    s.flush()
    before = item.status
    lifecycle.set_status(s, clock, item, ItemStatus.SUBMITTED, actor=actor.username,
                         reason=f"报送形象进度计划（第{version}版）", ref=("plan", plan.id))
    item.submitted_at = clock.now()
    audit.record(s, clock, actor=actor.username, action="propose_plan", object_type="work_item",
                 object_id=str(item.id), before={"status": before},
                 after={"status": item.status, "plan": plan.id, "version": version,
                        "milestones": [{**m, "due_on": m["due_on"].isoformat()} for m in clean]})
    return plan


def decide(s: Session, clock: Clock, actor: Actor, item_id: int, *, approve: bool,
           reason: str | None = None) -> Plan:
    """A supervisor approves the submitted plan, or returns it with a reason."""
    from engine import instances, service
    item = s.get(WorkItem, item_id)
    if item is None or item.kind is not ItemKind.PLAN:
        raise ValidationError(f"事项 #{item_id} 不是形象进度计划")
    if not may_decide_plan(actor, item):
        raise PermissionDeniedError("只有督查人员可以审核形象进度计划，且不能审核本单位的计划")
    instances.lock(s, item.instance_id)
    s.refresh(item)
    if item.status is not ItemStatus.SUBMITTED:
        raise StateError(f"事项 #{item.id} 当前为“{item.status.label}”，没有待审核的计划")
    reason = (reason or "").strip() or None
    if not approve and not reason:
        raise ValidationError("退回时请填写退回理由")
    if reason and len(reason) > service.MAX_TEXT:
        raise ValidationError(f"意见不能超过 {service.MAX_TEXT} 字")
    plan = versions(s, item.id)[-1]
    plan.status = PlanStatus.APPROVED if approve else PlanStatus.RETURNED
    plan.decided_by, plan.decided_at, plan.reason = actor.user_id, clock.now(), reason
    to = ItemStatus.CLOSED if approve else ItemStatus.RETURNED
    lifecycle.set_status(s, clock, item, to, actor=actor.username,
                         reason="批准形象进度计划" if approve else f"退回：{reason}",
                         ref=("plan", plan.id))
    if approve:
        item.closed_at = clock.now()
    audit.record(s, clock, actor=actor.username, action="decide_plan", object_type="work_item",
                 object_id=str(item.id), before={"status": ItemStatus.SUBMITTED},
                 after={"status": to, "plan": plan.id, "version": plan.version,
                        "approved": approve, "reason": reason})
    outcomes.plan_decided(s, clock, item.instance, item, plan)
    return plan


def versions(s: Session, item_id: int) -> list[Plan]:
    """Every version of a plan item's plan, the first first."""
    return list(s.scalars(select(Plan).where(Plan.work_item_id == item_id)
                          .order_by(Plan.version)))


def plans_of(s: Session, instance_id: int) -> list[Plan]:
    """Every plan version of an obligation (the item pages show them all)."""
    return list(s.scalars(select(Plan).where(Plan.instance_id == instance_id)
                          .order_by(Plan.version)))


def approved_milestones(s: Session, instance_id: int) -> list[Milestone]:
    """The milestones of the obligation's approved plan, in date order."""
    return list(s.scalars(select(Milestone).join(Plan, Plan.id == Milestone.plan_id).where(
        Plan.instance_id == instance_id, Plan.status == PlanStatus.APPROVED)
        .order_by(Milestone.due_on, Milestone.seq)))


def mark_reached(s: Session, inst: Instance, unit_id: str, ids: Iterable[int], day: date,
                 report_id: int) -> list[int]:
    """A lead unit's progress report marks approved milestones reached (on ``day``)."""
    wanted = set(ids)
    if not wanted:
        return []
    if unit_id != inst.lead_unit_id:
        raise ValidationError("只有牵头单位可以报告节点完成情况")
    found = {m.id: m for m in approved_milestones(s, inst.id)}
    unknown = wanted - set(found)
    if unknown:
        raise ValidationError(f"节点 {sorted(unknown)} 不属于本事项已批准的形象进度计划")
    done = []
    for mid in sorted(wanted):
        if found[mid].reached_on is None:
            found[mid].reached_on, found[mid].reached_report_id = day, report_id
            done.append(mid)
    return done


_RANKS = {1: BEHIND, 2: LATE_REPORT}


def behind_sql(day: date) -> Subquery:
    """The obligations behind schedule on ``day``: one row per instance, ``instance_id`` and
    ``rank`` (1: ``BEHIND``, an approved milestone passed unreached; 2: ``LATE_REPORT``, the
    lead's progress report past due and still open). Computed once (the sweep index on status
    and due date), then outer-joined to the obligations: never a subquery per row."""
    late = select(WorkItem.instance_id.label("instance_id"), literal(2).label("rank")).where(
        WorkItem.kind == ItemKind.PROGRESS, WorkItem.role == ItemRole.LEAD,
        WorkItem.status.in_(ACTIONABLE), WorkItem.due_date < day)
    missed = select(Plan.instance_id.label("instance_id"), literal(1).label("rank")).join(
        Milestone, Milestone.plan_id == Plan.id).where(
        Plan.status == PlanStatus.APPROVED, Milestone.due_on < day,
        Milestone.reached_on.is_(None))
    both = union_all(late, missed).subquery("behind_facts")
    return (select(both.c.instance_id, func.min(both.c.rank).label("rank"))
            .group_by(both.c.instance_id).subquery("behind"))


def reason_of(rank: int | None) -> str | None:
    """The words for a ``behind_sql`` rank (None: on schedule)."""
    return _RANKS.get(rank) if rank is not None else None


def behind(s: Session, instance_ids: Iterable[int], day: date) -> dict[int, str]:
    """Instance id -> why it is behind schedule on ``day`` (absent: on schedule); one query
    (the obligations behind are few next to all of them)."""
    keys = set(instance_ids)
    if not keys:
        return {}
    sub = behind_sql(day)
    return {i: _RANKS[r] for i, r in s.execute(select(sub.c.instance_id, sub.c.rank))
            if i in keys}


def plan_items_waiting(s: Session, policy: str | None = None) -> list[WorkItem]:
    """Plan items waiting for a supervisor's decision, the earliest submitted first."""
    from engine.models import PolicyTask

    q = select(WorkItem).where(WorkItem.kind == ItemKind.PLAN,
                               WorkItem.status == ItemStatus.SUBMITTED)
    if policy:
        q = q.join(Instance, Instance.id == WorkItem.instance_id).join(
            PolicyTask, PolicyTask.id == Instance.task_id).where(PolicyTask.policy_id == policy)
    return list(s.scalars(q.order_by(WorkItem.submitted_at, WorkItem.id)))
