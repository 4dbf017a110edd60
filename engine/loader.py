"""Load a policy (units, tasks, cycles) and its BPMN processes into the database, idempotently."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, bpmn, instances, registry
from engine.clock import Clock
from engine.models import Cycle, Policy, PolicyTask, Unit, UnitKind, UnitName
from engine.policy import PolicyDef, TaskDef, UnitDef
from engine.workdays import WorkCalendar


def load_into_db(s: Session, clock: Clock, policy: PolicyDef,
                 processes: Mapping[str, bpmn.ParsedProcess]) -> Policy:
    """Create or update the policy's units, tasks, cycles and process versions."""
    row = s.get(Policy, policy.id)
    changed = row is None or row.digest != policy.digest
    for order, unit in enumerate(policy.units.values()):
        _upsert_unit(s, unit, order, names_from_file=changed)
    s.flush()
    for unit in policy.units.values():
        registry.store_aliases(s, unit.id, unit.aliases)
    registry.store_groups(s, policy.groups)
    if row is None:
        row = Policy(id=policy.id)
        s.add(row)
    row.title, row.issuer, row.issued_on = policy.title, policy.issuer, policy.issued_on
    row.supervisor_unit_id, row.digest = policy.supervisor, policy.digest
    # keys the file does not own (the 考核细则 a supervisor edited) survive a reload
    row.data = {**(row.data or {}), "doc_office": policy.doc_office,
                "horizon_year": policy.horizon_year,
                "selection_years": list(policy.selection_years), "reporting": policy.reporting,
                "groups": {k: list(v) for k, v in policy.groups.items()}}
    s.flush()
    ctx = policy.context(WorkCalendar())
    for task in policy.tasks:
        trow = _upsert_task(s, policy.id, task)
        for cycle in task.cycles(ctx):
            _upsert_cycle(s, trow, cycle.label, cycle.opens_on, cycle.due_date)
        instances.ensure_spec(s, clock, processes[task.process_id], task.process_id)
    if changed:
        audit.record(s, clock, actor="system", action="load_policy", object_type="policy",
                     object_id=policy.id, after={"digest": policy.digest,
                                                 "tasks": len(policy.tasks)})
    return row


def _upsert_unit(s: Session, unit: UnitDef, order: int, *, names_from_file: bool) -> None:
    """A new unit takes its names from the file; an existing one only when the file changed,
    so names an administrator added (a rename the file does not know yet) survive a re-init."""
    row = s.get(Unit, unit.id)
    if row is None:
        row = Unit(id=unit.id, kind=UnitKind(unit.kind))
        s.add(row)
        names_from_file = True
    row.kind, row.sort_order = UnitKind(unit.kind), order
    if not names_from_file:
        return
    wanted = [(n.name, n.short_name, n.valid_from, n.valid_to) for n in unit.names]
    have = [(n.name, n.short_name, n.valid_from, n.valid_to) for n in row.names]
    if wanted != have:
        row.names.clear()
        s.flush()
        for name, short, start, end in wanted:
            row.names.append(UnitName(name=name, short_name=short, valid_from=start,
                                      valid_to=end))


def _upsert_task(s: Session, policy_id: str, task: TaskDef) -> PolicyTask:
    row = s.scalars(select(PolicyTask).where(PolicyTask.policy_id == policy_id,
                                             PolicyTask.number == task.number)).first()
    if row is None:
        row = PolicyTask(policy_id=policy_id, number=task.number)
        s.add(row)
    row.title, row.text, row.deadline = task.title, task.text, task.deadline
    row.lead_unit_ids, row.supporting_unit_ids = list(task.lead_units), list(task.supporting_units)
    row.rule = task.rule.to_dict()
    row.targets = [asdict(t) for t in task.targets]
    row.process_id, row.supervisor_unit_id = task.process_id, task.supervisor
    s.flush()
    return row


def _upsert_cycle(s: Session, task: PolicyTask, label: str, opens_on: date,
                  due: date | None) -> None:
    row = s.scalars(select(Cycle).where(Cycle.task_id == task.id, Cycle.label == label)).first()
    if row is None:
        s.add(Cycle(task_id=task.id, label=label, opens_on=opens_on, due_date=due))
    elif row.opened_at is None:
        row.opens_on, row.due_date = opens_on, due
