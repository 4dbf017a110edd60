"""Process instances in the database: start, load, save, and keep work items and timers in step.

The workflow state, its work items, its timer row and its events are written in the caller's
transaction, so they never disagree. ``Instance.version`` is SQLAlchemy's version counter: a
writer holding a stale copy gets ``ConflictError`` and nothing of its change is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import bpmn, lifecycle
from engine.clock import CHINA_TZ, Clock, overdue_from, today
from engine.errors import ConflictError, StateError
from engine.models import (
    ACTIONABLE,
    BPMN_KINDS,
    KIND_OF_ROLE,
    Cycle,
    EngineEvent,
    Instance,
    InstanceStatus,
    ItemRole,
    ItemStatus,
    PolicyTask,
    ProcessSpec,
    Timer,
    WorkItem,
)
from engine.units import unit_names
from engine.workdays import default_calendar

REVIEW_WORKING_DAYS = 5
OVERDUE_CODE = "overdue"  # the deadline timer's escalation: the sweep owns this fact
_ROLE = {"lead": ItemRole.LEAD, "supporting": ItemRole.SUPPORTING,
         "supervisor": ItemRole.SUPERVISOR}


def ensure_spec(s: Session, clock: Clock, parsed: bpmn.ParsedProcess,
                process_id: str) -> ProcessSpec:
    """The stored spec row for this exact BPMN text; a changed file becomes a new version."""
    row = s.scalars(select(ProcessSpec).where(ProcessSpec.process_id == process_id,
                                              ProcessSpec.digest == parsed.digest)).first()
    if row is not None:
        return row
    latest = s.scalar(select(func.max(ProcessSpec.version))
                      .where(ProcessSpec.process_id == process_id)) or 0
    row = ProcessSpec(process_id=process_id, version=latest + 1, digest=parsed.digest,
                      bpmn_xml=parsed.xml, spec_json=bpmn.spec_to_json(parsed),
                      created_at=clock.now())
    s.add(row)
    s.flush()
    return row


def latest_spec(s: Session, process_id: str) -> ProcessSpec | None:
    """The newest stored version of a process."""
    return s.scalars(select(ProcessSpec).where(ProcessSpec.process_id == process_id)
                     .order_by(ProcessSpec.version.desc())).first()


def start_instance(s: Session, clock: Clock, task: PolicyTask, cycle: Cycle, lead_unit_id: str,
                   spec: ProcessSpec) -> Instance:
    """Start the workflow of one obligation and write its first work items."""
    names = unit_names(s, today(clock), task.supporting_unit_ids)
    supporting = {uid: names[uid] for uid in task.supporting_unit_ids if uid in names}
    data: dict[str, Any] = {
        "task_number": task.number, "cycle_label": cycle.label, "lead_unit": lead_unit_id,
        "supporting_units": supporting,
        "due_at": overdue_from(cycle.due_date).isoformat() if cycle.due_date else bpmn.FAR_FUTURE,
    }
    wf = bpmn.start_from_spec(_spec_json(spec), spec.process_id, data)
    inst = Instance(task_id=task.id, cycle_id=cycle.id, lead_unit_id=lead_unit_id,
                    spec_id=spec.id, state=bpmn.serialize(wf), status=InstanceStatus.RUNNING,
                    due_date=cycle.due_date, original_due_date=cycle.due_date,
                    started_at=clock.now())
    inst.task, inst.cycle = task, cycle
    s.add(inst)
    s.flush()
    sync(s, clock, inst, wf, persist=False)
    return inst


_SPEC_JSON: dict[str, str] = {}


def _spec_json(spec: ProcessSpec) -> str:
    """A version's spec text; spec rows never change: read each once per process."""
    text = _SPEC_JSON.get(spec.digest)
    if text is None:
        text = _SPEC_JSON[spec.digest] = spec.spec_json
    return text


def load(s: Session, inst: Instance) -> BpmnWorkflow:
    """The live workflow of an instance (with the restricted script engine)."""
    return bpmn.deserialize(inst.state, _spec_json(inst.spec))


def lock(s: Session, inst_id: int) -> Instance | None:
    """Lock an instance row, then its work items in id order: the one order of every action
    on an obligation, so two actions queue instead of deadlocking (PostgreSQL ``FOR UPDATE``;
    SQLite has one writer anyway). The rows are read again: a waiter sees the winner's state."""
    fresh = {"populate_existing": True}
    inst = s.scalars(select(Instance).where(Instance.id == inst_id)
                     .with_for_update(of=Instance).execution_options(**fresh)).first()
    if inst is not None:
        s.scalars(select(WorkItem).where(WorkItem.instance_id == inst_id)
                  .order_by(WorkItem.id).with_for_update().execution_options(**fresh)).all()
    return inst


def save(s: Session, inst: Instance, wf: BpmnWorkflow) -> None:
    """Write the workflow state; a concurrent writer that got there first wins."""
    inst_id = inst.id
    inst.state = bpmn.serialize(wf)
    try:
        s.flush()
    except StaleDataError as exc:
        raise ConflictError(f"办理事项 #{inst_id} 已被他人更新，请刷新后重试") from exc


def sync(s: Session, clock: Clock, inst: Instance, wf: BpmnWorkflow, *, persist: bool = True,
         escalations: Iterable[str] = (), actor: str = "system") -> None:
    """Bring work items, status, the timer row and events in line with the workflow.

    Item statuses change through engine.lifecycle (checked and recorded). The deadline
    timer's ``overdue`` escalation is not turned into an event: the overdue sweep is the one
    source of "overdue" (docs/scheduler.md)."""
    now = clock.now()
    rows = list(s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id))
                ) if inst.id else []
    # the 签收 and 进展报送 items live beside the BPMN (engine.checkins): not its human tasks
    existing = {(w.task_name, w.unit_id): w for w in rows if w.kind in BPMN_KINDS}
    ready_keys = set()
    for ht in bpmn.ready_human_tasks(wf):
        task, unit_id, title = ht.task, ht.unit, ht.title
        role = _ROLE[ht.lane]
        unit = unit_id if role is ItemRole.SUPPORTING else (
            inst.task.supervisor_unit_id if role is ItemRole.SUPERVISOR else inst.lead_unit_id)
        if unit is None:
            raise StateError(f"流程节点 {title} 无法确定办理单位")
        key = (task.task_spec.bpmn_id or task.task_spec.name, unit)
        ready_keys.add(key)
        _upsert_item(s, clock, inst, existing.get(key), key, role, title, str(task.id), actor)
    closed = bpmn.is_closed(wf)
    for key, item in existing.items():
        if key in ready_keys:
            continue
        if item.status in ACTIONABLE:
            lifecycle.set_status(s, clock, item, ItemStatus.CANCELLED, actor=actor)
        elif closed and item.status is ItemStatus.SUBMITTED:
            lifecycle.set_status(s, clock, item, ItemStatus.CLOSED, actor=actor)
            item.closed_at = now
    if closed and inst.status is not InstanceStatus.CLOSED:
        _close(inst, now)
        for item in rows:  # nothing left to acknowledge or report on a closed obligation
            if item.kind not in BPMN_KINDS and item.status in ACTIONABLE:
                lifecycle.set_status(s, clock, item, ItemStatus.CANCELLED, actor=actor,
                                     reason="事项已办结")
    for code in escalations:
        if code == OVERDUE_CODE:
            continue
        raise_event(s, clock, kind=f"escalation:{code}", instance=inst,
                    key=f"escalation:{code}:{inst.id}:{inst.due_date}")
    _set_timer(s, inst, None if closed else bpmn.next_timer_at(wf))
    if persist:
        save(s, inst, wf)


def _upsert_item(s: Session, clock: Clock, inst: Instance, item: WorkItem | None,
                 key: tuple[str, str], role: ItemRole, title: str, spiff_id: str,
                 actor: str) -> None:
    now = clock.now()
    if item is None:
        new = WorkItem(instance_id=inst.id, spiff_task_id=spiff_id, task_name=key[0],
                       unit_id=key[1], role=role, kind=KIND_OF_ROLE[role],
                       title=title, due_date=_due_for(role, inst, now),
                       status=ItemStatus.OPEN, created_at=now, updated_at=now)
        s.add(new)
        lifecycle.created(s, clock, new, actor=actor)
        return
    if item.spiff_task_id == spiff_id and item.status in ACTIONABLE:
        return
    item.spiff_task_id, item.updated_at = spiff_id, now
    if role is ItemRole.SUPERVISOR:
        lifecycle.set_status(s, clock, item, ItemStatus.OPEN, actor=actor)
        item.closed_at = None
        item.due_date = _due_for(role, inst, now)
    elif item.status not in ACTIONABLE:
        lifecycle.set_status(s, clock, item, ItemStatus.RETURNED, actor=actor)
        item.closed_at = None


def _due_for(role: ItemRole, inst: Instance, now: datetime) -> date | None:
    if role is ItemRole.SUPERVISOR:
        day = now.astimezone(CHINA_TZ).date()
        return default_calendar().add_working_days(day, REVIEW_WORKING_DAYS)
    return inst.due_date


def _close(inst: Instance, now: datetime) -> None:
    inst.status, inst.closed_at = InstanceStatus.CLOSED, now
    if inst.due_date is None:
        inst.closed_on_time = True
    else:
        inst.closed_on_time = now < overdue_from(inst.due_date)


def _set_timer(s: Session, inst: Instance, due_at: datetime | None) -> None:
    row = inst.timer
    if due_at is None:
        inst.timer = None
    elif row is None:
        inst.timer = Timer(instance_id=inst.id, due_at=due_at)
    elif row.due_at != due_at:
        row.due_at = due_at


def raise_event(s: Session, clock: Clock, *, kind: str, key: str, instance: Instance | None = None,
                item: WorkItem | None = None, payload: dict[str, Any] | None = None) -> bool:
    """Record an engine event once per key; False if it was already there."""
    if s.scalar(select(EngineEvent.id).where(EngineEvent.dedupe_key == key)) is not None:
        return False
    unit = item.unit_id if item else (instance.lead_unit_id if instance else None)
    try:
        with s.begin_nested():
            s.add(EngineEvent(kind=kind, dedupe_key=key,
                              instance_id=instance.id if instance else None,
                              work_item_id=item.id if item else None, unit_id=unit,
                              payload=payload or {}, created_at=clock.now()))
    except IntegrityError:  # another process raised it at the same moment
        return False
    return True

