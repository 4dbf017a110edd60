"""Read-side queries: indexed reads on work items and instances, never a workflow load."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine import access, checkins, plans
from engine.access import Action, Actor, View
from engine.clock import CHINA_TZ
from engine.lights import Light, Signal, days_left, light, signal
from engine.models import (
    ACTIONABLE,
    INBOX_DUE,
    INBOX_FILTER,
    AuditEvent,
    Cycle,
    Evidence,
    ExtensionRequest,
    ExtensionStatus,
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    Milestone,
    Plan,
    Policy,
    PolicyTask,
    ProgressReport,
    Review,
    WorkItem,
)
from engine.reporting import LastReport, with_reports
from engine.service import get_item
from engine.units import unit_names

_DUE_FIRST = (WorkItem.due_date.is_(None), WorkItem.due_date, WorkItem.id)


def _in_policy(q: Any, policy: str | None) -> Any:
    """``q`` narrowed to the work items of one policy (None: every policy)."""
    if not policy:
        return q
    return q.where(WorkItem.instance_id.in_(
        select(Instance.id).join(PolicyTask, PolicyTask.id == Instance.task_id)
        .where(PolicyTask.policy_id == policy)))


def inbox(s: Session, unit_id: str, *, statuses: Sequence[ItemStatus] = ACTIONABLE,
          limit: int = 200, offset: int = 0, policy: str | None = None) -> list[WorkItem]:
    """A unit's work in the given statuses, the earliest due first (no due date last)."""
    if set(statuses) == set(ACTIONABLE):  # the inbox proper: served by its partial index
        q = (select(WorkItem).where(WorkItem.unit_id == unit_id, INBOX_FILTER)
             .order_by(INBOX_DUE, WorkItem.id))
    else:
        q = (select(WorkItem).where(WorkItem.unit_id == unit_id, WorkItem.status.in_(statuses),
                                    WorkItem.role != ItemRole.SUPERVISOR).order_by(*_DUE_FIRST))
    return list(s.scalars(_in_policy(q, policy).limit(limit).offset(offset)))


def inbox_count(s: Session, unit_id: str) -> int:
    """How many actionable items a unit has (for the navigation badge)."""
    return s.scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.unit_id == unit_id, INBOX_FILTER)) or 0


def done(s: Session, unit_id: str, *, limit: int = 200,
         policy: str | None = None) -> list[WorkItem]:
    """A unit's submitted and closed items, the most recent first."""
    q = (select(WorkItem).where(WorkItem.unit_id == unit_id, WorkItem.status.in_(
        (ItemStatus.SUBMITTED, ItemStatus.CLOSED)), WorkItem.role != ItemRole.SUPERVISOR)
         .order_by(WorkItem.updated_at.desc()).limit(limit))
    return list(s.scalars(_in_policy(q, policy)))


def review_queue(s: Session, *, limit: int = 200, policy: str | None = None) -> list[WorkItem]:
    """Supervisor items waiting for a decision, the oldest first."""
    q = (select(WorkItem).where(WorkItem.role == ItemRole.SUPERVISOR,
                                WorkItem.status.in_(ACTIONABLE))
         .order_by(*_DUE_FIRST).limit(limit))
    return list(s.scalars(_in_policy(q, policy)))


def pending_extensions(s: Session) -> list[ExtensionRequest]:
    """Extension requests waiting for a supervisor."""
    return list(s.scalars(select(ExtensionRequest).where(
        ExtensionRequest.status == ExtensionStatus.PENDING).order_by(ExtensionRequest.id)))


Labels = dict[int, tuple[int, str, str, str, str]]


def instance_labels(s: Session, instance_ids: Iterable[int]) -> Labels:
    """Instance id -> (task number, task title, cycle label, lead unit id, policy title), in
    one query."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    q = (select(Instance.id, PolicyTask.number, PolicyTask.title, Cycle.label,
                Instance.lead_unit_id, Policy.title)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Policy, Policy.id == PolicyTask.policy_id)
         .join(Cycle, Cycle.id == Instance.cycle_id).where(Instance.id.in_(ids)))
    return {row[0]: (row[1], row[2], row[3], row[4], row[5]) for row in s.execute(q)}


@dataclass(frozen=True)
class WorkRow:
    """One work item of a unit as ``duban work list --json`` gives it (the contract)."""

    id: int
    policy: str
    task_number: int
    title: str
    kind: str
    role: str
    cycle: str
    due_date: date | None
    status: str
    light: str

    def to_json(self) -> dict[str, Any]:
        """The contract's object: ISO due date, plain strings."""
        return {"id": self.id, "policy": self.policy, "task_number": self.task_number,
                "title": self.title, "kind": self.kind, "role": self.role, "cycle": self.cycle,
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "status": self.status, "light": self.light}


def unit_work(s: Session, unit_id: str, today: date, *, policy: str | None = None,
              statuses: Sequence[ItemStatus] | None = None) -> list[WorkRow]:
    """Every work item of a unit, of every kind and role (its reviews too, for the
    supervising unit), the earliest due first; one query. The lead's evidence item is lit
    yellow when its obligation is behind schedule (engine.plans.behind_sql)."""
    late = plans.behind_sql(today)
    q = (select(WorkItem.id, PolicyTask.policy_id, PolicyTask.number, WorkItem.title,
                WorkItem.kind, WorkItem.role, Cycle.label, WorkItem.due_date, WorkItem.status,
                late.c.rank.label("behind"))
         .join(Instance, Instance.id == WorkItem.instance_id)
         .outerjoin(late, late.c.instance_id == Instance.id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .where(WorkItem.unit_id == unit_id).order_by(*_DUE_FIRST))
    if policy:
        q = q.where(PolicyTask.policy_id == policy)
    if statuses is not None:
        q = q.where(WorkItem.status.in_(statuses))
    return [WorkRow(r.id, r.policy_id, r.number, r.title, r.kind.value, r.role.value, r.label,
                    r.due_date, r.status.value,
                    light(r.status, r.due_date, today,
                          behind=bool(r.behind) and r.kind is ItemKind.EVIDENCE).value)
            for r in s.execute(q)]


@dataclass(frozen=True)
class BoardRow:
    """One obligation (task x lead unit x cycle) on the supervisors' board."""

    instance_id: int
    policy_id: str
    task_number: int
    task_title: str
    unit_id: str
    unit_name: str
    cycle_label: str
    due_date: date | None
    status: ItemStatus
    light: Light
    days_overdue: int      # still overdue and the unit's move (red): days past the due date
    item_id: int | None
    closed_on: date | None = None  # the day it was closed (China time)
    days_late: int = 0     # past the due date: till today, or till closing (closed late: > 0)
    signal: Signal | None = None   # the light with its reason (逾期报送·待审 …)
    ack_due: date | None = None    # the lead unit's 签收: its due date (None: no 签收 item)
    acked_at: datetime | None = None  # when the lead unit acknowledged
    last_report: LastReport | None = None  # the lead unit's latest 进展报送 (engine.reporting)

    @property
    def ack_late(self) -> bool:
        """Acknowledged after the 签收 due date (a late 签收 stays marked late)."""
        done = _local_day(self.acked_at)
        return done is not None and self.ack_due is not None and done > self.ack_due


def _local_day(at: datetime | None) -> date | None:
    """The China-time date of a timestamp."""
    return None if at is None else at.astimezone(CHINA_TZ).date()


def _days_late(due: date | None, closed_on: date | None, status: ItemStatus,
               today: date) -> int:
    """Days past the due date: up to the closing day when closed, else up to today."""
    if due is None or status is ItemStatus.CANCELLED:
        return 0
    until = (closed_on or today) if status is ItemStatus.CLOSED else today
    return max(0, (until - due).days)


def board_columns() -> tuple[Any, ...]:
    """The columns one board row is made of (``board_row`` reads them in this order)."""
    return (Instance.id, PolicyTask.policy_id, PolicyTask.number, PolicyTask.title,
            Instance.lead_unit_id, Cycle.label, Instance.due_date, WorkItem.status,
            WorkItem.id, Instance.closed_at, WorkItem.submitted_at)


def board(s: Session, today: date, *, task: int | None = None, unit: str | None = None,
          cycle: str | None = None, status: str | None = None,
          policy: str | None = None) -> list[BoardRow]:
    """Every obligation of the filter with its lead item's status and light, overdue first
    (exports and a unit's or task's page; the board page itself is ``engine.board``)."""
    q = (select(*board_columns())
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .outerjoin(WorkItem, and_(WorkItem.instance_id == Instance.id,
                                   WorkItem.kind == ItemKind.EVIDENCE)))
    if policy:
        q = q.where(PolicyTask.policy_id == policy)
    if task is not None:
        q = q.where(PolicyTask.number == task)
    if unit:
        q = q.where(Instance.lead_unit_id == unit)
    if cycle:
        q = q.where(Cycle.label == cycle)
    names = unit_names(s, today)
    rows = []
    found = s.execute(q).all()
    late = plans.behind(s, [r[0] for r in found], today)
    for r in found:
        row = board_row(r, names, today, late.get(r[0]))
        if status and not board_matches(row, status):
            continue
        rows.append(row)
    rows = with_reports(s, with_acks(s, rows))
    rows.sort(key=lambda r: (_ORDER[r.light], -r.days_overdue, r.due_date or date.max,
                             r.task_number, r.unit_id, r.instance_id))
    return rows


def with_acks(s: Session, rows: list[BoardRow]) -> list[BoardRow]:
    """The rows with their lead unit's 签收 (due date, and when it was acknowledged)."""
    ids = [r.instance_id for r in rows]
    acks: dict[int, tuple[date | None, datetime | None]] = {}
    for start in range(0, len(ids), 500):
        acks.update({r.instance_id: (r.due_date, r.closed_at if r.status is ItemStatus.CLOSED
                                     else None)
                     for r in s.execute(select(WorkItem.instance_id, WorkItem.due_date,
                                               WorkItem.closed_at, WorkItem.status).where(
                         WorkItem.instance_id.in_(ids[start:start + 500]),
                         WorkItem.kind == ItemKind.ACK, WorkItem.role == ItemRole.LEAD))})
    return [replace(r, ack_due=acks[r.instance_id][0], acked_at=acks[r.instance_id][1])
            if r.instance_id in acks else r for r in rows]


def board_row(r: Any, names: dict[str, str], today: date,
              behind: str | None = None) -> BoardRow:
    """One board row from the query's columns (no further query); ``behind``: why the
    obligation is behind schedule (engine.plans.behind), if it is."""
    (inst_id, policy_id, number, title, unit_id, label, due, item_status, item_id, closed_at,
     sent_at) = r
    st = item_status or ItemStatus.OPEN
    sig = signal(st, due, today, _local_day(sent_at), behind)
    left = days_left(due, today)
    overdue = -left if (left is not None and left < 0 and sig.light is Light.RED) else 0
    closed_on = _local_day(closed_at)
    return BoardRow(inst_id, policy_id, number, title, unit_id, names.get(unit_id, unit_id),
                    label, due, st, sig.light, overdue, item_id, closed_on,
                    _days_late(due, closed_on, st, today), sig)


_ORDER = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.GREY: 3}


def board_matches(row: BoardRow, status: str) -> bool:
    """The board's status filter: "overdue", a status value or a light value."""
    if status == "overdue":
        return row.light is Light.RED
    return row.status.value == status or row.light.value == status


@dataclass
class ItemDetail:
    """Everything a work item page shows, cut to what the actor may read (engine.access)."""

    item: WorkItem
    instance: Instance
    task: PolicyTask
    cycle: Cycle
    actions: frozenset[Action] = frozenset()
    views: frozenset[View] = frozenset()
    evidence: list[Evidence] = field(default_factory=list)
    own: list[Evidence] = field(default_factory=list)     # the item's own submissions
    contributions: list[tuple[WorkItem, Evidence | None]] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    extensions: list[ExtensionRequest] = field(default_factory=list)
    history: list[AuditEvent] = field(default_factory=list)
    checkins: list[tuple[WorkItem, bool]] = field(default_factory=list)  # 签收/进展, late
    reports: list[ProgressReport] = field(default_factory=list)  # the latest first
    plans: list[Plan] = field(default_factory=list)  # 形象进度 versions, the first first
    milestones: list[Milestone] = field(default_factory=list)  # of the approved plan


def item_detail(s: Session, actor: Actor, item_id: int) -> ItemDetail:
    """A work item with its policy task and the parts of its record the actor may read."""
    item = get_item(s, actor, item_id)
    inst = item.instance
    seen = access.views(actor, inst)
    pending = s.scalar(select(ExtensionRequest.id).where(
        ExtensionRequest.instance_id == inst.id,
        ExtensionRequest.status == ExtensionStatus.PENDING).limit(1)) is not None
    detail = ItemDetail(item=item, instance=inst, task=inst.task, cycle=inst.cycle, views=seen,
                        actions=access.item_actions(actor, item, extension_pending=pending))
    detail.own = list(s.scalars(select(Evidence).where(Evidence.work_item_id == item.id)
                                .order_by(Evidence.id)))
    if View.EVIDENCE in seen:
        detail.evidence = list(s.scalars(select(Evidence).where(
            Evidence.instance_id == inst.id, Evidence.unit_id == inst.lead_unit_id)
            .order_by(Evidence.id)))
    if View.CONTRIBUTIONS in seen:
        detail.contributions = _contributions(s, inst.id)
    if View.REVIEWS in seen:
        detail.reviews = list(s.scalars(select(Review).where(Review.instance_id == inst.id)
                                        .order_by(Review.id)))
    if View.EXTENSIONS in seen:
        detail.extensions = list(s.scalars(select(ExtensionRequest).where(
            ExtensionRequest.instance_id == inst.id).order_by(ExtensionRequest.id)))
    _add_checkins(s, actor, detail)
    detail.history = (instance_history(s, inst.id) if View.HISTORY in seen
                      else audit_history(s, "work_item", item.id))
    return detail


def _add_checkins(s: Session, actor: Actor, detail: ItemDetail) -> None:
    """The obligation's 签收 and progress record: all of it for those who see the evidence,
    the unit's own part for a supporting unit."""
    own = None if View.EVIDENCE in detail.views else detail.item.unit_id
    detail.checkins = [(w, _closed_late(w)) for w in checkins.checkin_items(s, detail.instance.id)
                       if own is None or w.unit_id == own]
    detail.reports = [r for r in checkins.reports_of(s, detail.instance.id)
                      if own is None or r.unit_id == own]
    if own is None or detail.item.kind is ItemKind.PLAN:
        detail.plans = plans.plans_of(s, detail.instance.id)
        detail.milestones = plans.approved_milestones(s, detail.instance.id)


def _closed_late(item: WorkItem) -> bool:
    """Done after its due date (a late 签收 or report stays marked late)."""
    done = _local_day(item.closed_at) if item.status is ItemStatus.CLOSED else None
    return done is not None and item.due_date is not None and done > item.due_date


def _contributions(s: Session, instance_id: int) -> list[tuple[WorkItem, Evidence | None]]:
    """Each supporting item of an obligation with its latest contribution (two queries)."""
    items = list(s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                  WorkItem.kind == ItemKind.CONTRIBUTION)
                           .order_by(WorkItem.unit_id)))
    latest: dict[int, Evidence] = {}
    if items:
        for ev in s.scalars(select(Evidence).where(
                Evidence.work_item_id.in_([w.id for w in items])).order_by(Evidence.id)):
            latest[ev.work_item_id] = ev
    return [(w, latest.get(w.id)) for w in items]


ACTION_LABELS = {"submit": "报送材料", "acknowledge": "签收", "report_progress": "报送工作进展",
                 "propose_plan": "报送形象进度计划", "decide_plan": "审核形象进度计划",
                 "approve": "审核通过，办结销号", "return": "退回修改",
                 "request_extension": "申请延期", "approve_extension": "批准延期",
                 "reject_extension": "驳回延期申请", "start_instance": "启动流程",
                 "start": "启动流程", "overdue": "已逾期", "escalate": "逾期升级督办",
                 "close": "办结", "urge": "人工催办", "save_draft": "保存草稿",
                 "interview": "记录约谈"}


def action_label(action: str) -> str:
    """The Chinese words for an audit action (the history's lines)."""
    return ACTION_LABELS.get(action, action)


def audit_history(s: Session, object_type: str, object_id: int) -> list[AuditEvent]:
    """Audit entries about one object, in order."""
    return list(s.scalars(select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id)))


def instance_history(s: Session, instance_id: int) -> list[AuditEvent]:
    """Audit entries about an instance and its work items, in order."""
    item_ids = [str(i) for i in s.scalars(select(WorkItem.id).where(
        WorkItem.instance_id == instance_id))]
    ext_ids = [str(i) for i in s.scalars(select(ExtensionRequest.id).where(
        ExtensionRequest.instance_id == instance_id))]
    cond = or_(and_(AuditEvent.object_type == "work_item", AuditEvent.object_id.in_(item_ids)),
               and_(AuditEvent.object_type == "extension", AuditEvent.object_id.in_(ext_ids)),
               and_(AuditEvent.object_type == "instance",
                    AuditEvent.object_id == str(instance_id)))
    return list(s.scalars(select(AuditEvent).where(cond).order_by(AuditEvent.id)))
