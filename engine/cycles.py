"""Tick steps of the engine: open the cycles whose period has begun, fire due BPMN timers."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine import bpmn, instances, outcomes
from engine.clock import Clock, ManualClock, today, use_clock
from engine.errors import ConflictError, DubanError
from engine.models import (
    Cycle,
    Instance,
    InstanceStatus,
    Policy,
    PolicyStatus,
    PolicyTask,
    Timer,
)

log = logging.getLogger(__name__)


def open_cycles(sessions: sessionmaker[Session], clock: Clock) -> int:
    """Start one instance per lead unit for every cycle that has opened (of active policies and
    tasks still in their table); returns how many."""
    now = clock.now()
    started = 0
    with sessions() as s:
        due = s.scalars(select(Cycle.id).join(PolicyTask, PolicyTask.id == Cycle.task_id)
                        .join(Policy, Policy.id == PolicyTask.policy_id)
                        .where(Cycle.opened_at.is_(None), Cycle.opens_on <= today(clock),
                               PolicyTask.active.is_(True), Policy.status == PolicyStatus.ACTIVE)
                        .order_by(Cycle.opens_on, Cycle.id)).all()
    for cycle_id in due:
        with sessions() as s, s.begin(), use_clock(ManualClock(now)):
            cycle = s.get(Cycle, cycle_id)
            if cycle is None or cycle.opened_at is not None:
                continue
            started += _start_cycle(s, clock, cycle)
            cycle.opened_at = now
    return started


def _start_cycle(s: Session, clock: Clock, cycle: Cycle) -> int:
    task: PolicyTask = cycle.task
    spec = instances.latest_spec(s, task.process_id)
    if spec is None:
        raise DubanError(f"流程 {task.process_id} 尚未载入")
    have = set(s.scalars(select(Instance.lead_unit_id).where(Instance.cycle_id == cycle.id)))
    count = 0
    for unit_id in task.lead_unit_ids:
        if unit_id in have:
            continue
        try:
            with s.begin_nested():
                inst = instances.start_instance(s, clock, task, cycle, unit_id, spec)
                outcomes.assigned(s, clock, inst)
            count += 1
        except IntegrityError:
            log.info("instance for %s/%s/%s started elsewhere", task.number, cycle.label, unit_id)
    return count


def fire_due_timers(sessions: sessionmaker[Session], clock: Clock, *, batch: int = 500) -> int:
    """Run the BPMN timers that are due; one broken instance never blocks the rest."""
    now = clock.now()
    with sessions() as s:
        ids = s.scalars(select(Timer.instance_id).where(Timer.due_at <= now)
                        .order_by(Timer.due_at).limit(batch)).all()
    fired = 0
    for inst_id in ids:
        try:
            with sessions() as s, s.begin(), use_clock(ManualClock(now)):
                fired += _fire_one(s, clock, inst_id, now)
        except ConflictError:
            log.info("timer of instance %s handled by another process", inst_id)
        except Exception as exc:  # noqa: BLE001 - one broken flow must not block the sweep
            log.exception("timer of instance %s failed", inst_id)
            _record_error(sessions, inst_id, exc)
    return fired


def _fire_one(s: Session, clock: Clock, inst_id: int, now: datetime) -> int:
    inst = instances.lock(s, inst_id)  # the actions' lock order: instance, then its items
    # read the row again: the instance's joined ``timer`` may predate the lock we waited for
    timer = s.scalars(select(Timer).where(Timer.instance_id == inst_id)
                      .execution_options(populate_existing=True)).first()
    if timer is None or timer.due_at > now:
        return 0
    if inst is None or inst.status is not InstanceStatus.RUNNING:
        s.delete(timer)
        return 0
    wf = instances.load(s, inst)
    codes = bpmn.fire_timers(wf)
    instances.sync(s, clock, inst, wf, escalations=codes)
    return 1


def _record_error(sessions: sessionmaker[Session], inst_id: int, exc: Exception) -> None:
    with sessions() as s, s.begin():
        inst = s.get(Instance, inst_id)
        if inst is not None:
            inst.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            inst.status = InstanceStatus.ERROR
        timer = s.get(Timer, inst_id)
        if timer is not None:
            s.delete(timer)
