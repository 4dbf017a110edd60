"""Policies in the database: the list, one policy's tasks as JSON, archiving, BPMN export."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access, audit, instances
from engine.access import Actor
from engine.clock import Clock
from engine.errors import NotFoundError
from engine.models import Cycle, Instance, Policy, PolicyStatus, PolicyTask, Role
from engine.units import unit_names


def get(s: Session, policy_id: str) -> Policy:
    """The policy, or NotFoundError."""
    row = s.get(Policy, policy_id)
    if row is None:
        raise NotFoundError(f"政策“{policy_id}”不存在")
    return row


def policies_json(s: Session) -> list[dict[str, Any]]:
    """``duban policy list --json``: every policy with its task and obligation counts."""
    tasks = Counter(dict(s.execute(select(PolicyTask.policy_id, func.count())
                                   .where(PolicyTask.active.is_(True))
                                   .group_by(PolicyTask.policy_id)).all()))
    obligations = Counter(dict(s.execute(
        select(PolicyTask.policy_id, func.count(Instance.id))
        .join(Instance, Instance.task_id == PolicyTask.id)
        .group_by(PolicyTask.policy_id)).all()))
    return [{"id": p.id, "title": p.title, "issuer": p.issuer,
             "issued_on": p.issued_on.isoformat(), "tasks": tasks.get(p.id, 0),
             "obligations": obligations.get(p.id, 0), "status": p.status.value,
             "version": p.version, "supervisor_unit_id": p.supervisor_unit_id}
            for p in s.scalars(select(Policy).order_by(Policy.issued_on, Policy.id))]


def tasks_json(s: Session, policy: Policy) -> list[dict[str, Any]]:
    """A stored policy's tasks in the shape of ``duban policy show --json``."""
    day = policy.issued_on
    tasks = list(s.scalars(select(PolicyTask).where(PolicyTask.policy_id == policy.id,
                                                    PolicyTask.active.is_(True))
                           .order_by(PolicyTask.number)))
    names = unit_names(s, day, {u for t in tasks for u in
                                (*t.lead_unit_ids, *t.supporting_unit_ids)})
    cycles: dict[int, list[Cycle]] = {}
    for c in s.scalars(select(Cycle).where(Cycle.task_id.in_([t.id for t in tasks]))
                       .order_by(Cycle.opens_on, Cycle.id)):
        cycles.setdefault(c.task_id, []).append(c)
    return [{"number": t.number, "label": t.label, "path": list(t.path or []),
             "title": t.title, "text": t.text,
             "lead_units": [names.get(u, u) for u in t.lead_unit_ids],
             "supporting_units": [names.get(u, u) for u in t.supporting_unit_ids],
             "lead_unit_ids": list(t.lead_unit_ids),
             "supporting_unit_ids": list(t.supporting_unit_ids),
             "deadline": t.deadline, "rule": t.rule, "notes": list(t.notes or []),
             "cycles": [{"label": c.label, "opens_on": c.opens_on.isoformat(),
                         "due_date": c.due_date.isoformat() if c.due_date else None}
                        for c in cycles.get(t.id, [])],
             "targets": list(t.targets), "process_id": t.process_id} for t in tasks]


def set_status(s: Session, clock: Clock, actor: Actor, policy_id: str,
               status: PolicyStatus) -> Policy:
    """Archive a policy (no new cycles open; what runs goes on) or make it active again."""
    access.require_role(actor, Role.SUPERVISOR, Role.ADMIN, what="归档或恢复政策")
    row = get(s, policy_id)
    before, row.status = row.status, status
    audit.record(s, clock, actor=actor.username, action=f"policy_{status.value}",
                 object_type="policy", object_id=policy_id, before={"status": before},
                 after={"status": status})
    return row


def export_bpmn(s: Session, policy_id: str, directory: Path) -> list[Path]:
    """Write the newest version of each process of the policy as ``<process id>.bpmn``."""
    get(s, policy_id)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for pid in dict.fromkeys(s.scalars(select(PolicyTask.process_id).where(
            PolicyTask.policy_id == policy_id).order_by(PolicyTask.number))):
        spec = instances.latest_spec(s, pid)
        if spec is None:
            raise NotFoundError(f"流程 {pid} 尚未载入")
        path = directory / f"{pid}.bpmn"
        path.write_text(spec.bpmn_xml, encoding="utf-8")
        written.append(path)
    return written

