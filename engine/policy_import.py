"""Confirming an import: a previewed table (engine.importing) becomes a running policy.

One transaction (the caller's): unknown units are mapped to registry units (and remembered as
aliases) or created, every task gets its process rendered from the pattern, validated (XSD, the
restricted script engine, bpmnlint) and stored as a process version, its cycles are laid out,
and the table is kept as a numbered ``PolicyVersion`` with its diff against the last one.
Importing an edited table under the same id makes the next version: running obligations keep
their history, a changed deadline moves open cycles only (audited), a task gone from the table
opens no new cycles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit, bpmn, bpmnlint, instances, pattern, registry, service
from engine.access import Actor
from engine.clock import Clock
from engine.errors import ValidationError
from engine.importing import ImportedTask, ImportResult, StaticDirectory, UnitRef
from engine.importing.jsonout import context, task_json
from engine.models import (
    Cycle,
    Instance,
    InstanceStatus,
    Policy,
    PolicyTask,
    PolicyVersion,
    Role,
    UnitKind,
)

POLICY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
COMPARED = ("text", "lead_unit_ids", "supporting_unit_ids", "deadline", "targets")


def directory(s: Session) -> StaticDirectory:
    """The registry as the importer reads it."""
    return StaticDirectory(registry.unit_defs(s), registry.groups(s))


@dataclass(frozen=True)
class Confirmation:
    """What the supervisor decided in the preview."""

    source_name: str
    policy_id: str | None = None
    supervisor_unit_id: str | None = None
    doc_office: str | None = None
    create_units: bool = False
    mappings: Mapping[str, str] = field(default_factory=dict)  # name as written -> unit id


def default_policy_id(result: ImportResult) -> str:
    """``p20180530-1a2b3c``: the issue date and the upload's digest."""
    day = result.policy.issued_on or date(2000, 1, 1)
    return f"p{day:%Y%m%d}-{result.digest[:6] or '000000'}"


def confirm(s: Session, clock: Clock, actor: Actor, result: ImportResult,
            how: Confirmation) -> Policy:
    """Write the previewed policy (or its next version); refuses while any error remains."""
    access.require_role(actor, Role.SUPERVISOR, Role.ADMIN, what="导入政策")
    _check(result, how)
    meta = result.policy
    assert meta.issued_on is not None  # _check
    policy_id = how.policy_id or meta.id or default_policy_id(result)
    if not POLICY_ID.fullmatch(policy_id):
        raise ValidationError(f"政策编号“{policy_id}”须为小写字母、数字、- 或 _（最长 60 位）")
    ids = _resolve_units(s, clock, actor, result, how)
    row = s.get(Policy, policy_id)
    previous = _last_version(s, policy_id) if row is not None else None
    row = _policy_row(s, row, policy_id, result, how)
    ctx = context(result)
    assert ctx is not None
    _number(s, policy_id, result.tasks)
    tasks_json = []
    names = directory(s)
    for task in result.tasks:
        trow = _task_row(s, clock, actor, row, task, ids)
        _cycles(s, clock, actor, trow, task, ctx)
        tasks_json.append({**task_json(task, names, meta.issued_on, ctx),
                           "lead_unit_ids": trow.lead_unit_ids,
                           "supporting_unit_ids": trow.supporting_unit_ids})
    gone = _retire_missing(s, row, {t.number for t in result.tasks})
    diff = _diff(previous.tasks if previous else [], tasks_json, gone)
    row.version = (previous.version + 1) if previous else 1
    s.add(PolicyVersion(policy_id=policy_id, version=row.version, source_name=how.source_name,
                        source_kind=result.source_kind, digest=result.digest, tasks=tasks_json,
                        diff=diff, actor=actor.username, created_at=clock.now()))
    audit.record(s, clock, actor=actor.username, action="import_policy", object_type="policy",
                 object_id=policy_id, after={"version": row.version, "tasks": len(tasks_json),
                                             "source": how.source_name, "diff": diff})
    s.flush()
    return row


def _number(s: Session, policy_id: str, tasks: list[ImportedTask]) -> None:
    """Task numbers that survive a re-import: a task keeps the number of the task with its
    label (序号 as written); a plain 序号 is the number itself; the rest come after."""
    labels = [t.label.strip() for t in tasks]
    if len(set(labels)) != len(labels):
        return  # no reliable identity: document order
    known = dict(s.execute(select(PolicyTask.label, PolicyTask.number).where(
        PolicyTask.policy_id == policy_id)).all())
    chosen: dict[int, int] = {}
    for i, label in enumerate(labels):
        number = known.get(label) or (int(label) if label.isascii() and label.isdigit() else 0)
        if number and number not in chosen.values():
            chosen[i] = number
    taken = set(chosen.values()) | set(known.values())
    for i in range(len(tasks)):
        if i not in chosen:
            chosen[i] = next(n for n in range(1, 10**6) if n not in taken)
            taken.add(chosen[i])
    for i, task in enumerate(tasks):
        task.number = chosen[i]


def _check(result: ImportResult, how: Confirmation) -> None:
    """No error may remain, except unknown units that are mapped or to be created."""
    unknown = set(result.new_units)
    blocking = [p for p in result.errors()
                if not (p.text in unknown and (how.create_units or p.text in how.mappings))]
    if blocking or not result.tasks or result.policy.issued_on is None:
        first = blocking[0] if blocking else None
        where = f"{first.place}：{first.message}" if first else "没有可导入的任务或发布日期"
        raise ValidationError(f"导入前须先解决 {len(blocking) or 1} 个问题，如 {where}")


def _resolve_units(s: Session, clock: Clock, actor: Actor, result: ImportResult,
                   how: Confirmation) -> dict[str, str]:
    """Name as written -> unit id for every unknown name: mapped (kept as an alias) or created."""
    found: dict[str, str] = {}
    for name in result.new_units:
        target = how.mappings.get(name)
        if target:
            registry.add_alias(s, clock, actor, target, name)
            found[name] = target
        elif how.create_units:
            unit = registry.create_unit(s, clock, actor, unit_id=registry.new_unit_id(s),
                                        name=name, kind=guess_kind(name))
            found[name] = unit.id
        else:
            raise ValidationError(f"未知单位“{name}”：请对应到已有单位或选择新建")
    return found


def guess_kind(name: str) -> UnitKind:
    """A city government, a department, or another body, from its name."""
    if re.search(r"[市州盟]人民政府$|[市州]政府$", name):
        return UnitKind.CITY
    if re.search(r"(厅|局|委|办|委员会|办公室)$", name):
        return UnitKind.DEPARTMENT
    return UnitKind.OTHER


def _policy_row(s: Session, row: Policy | None, policy_id: str, result: ImportResult,
                how: Confirmation) -> Policy:
    """Create or update the policy's own row."""
    meta = result.policy
    supervisor = how.supervisor_unit_id or _default_supervisor(s)
    office = how.doc_office or _office_of(s, supervisor)
    if row is None:
        row = Policy(id=policy_id)
        s.add(row)
    ctx = context(result)
    row.title = meta.title or policy_id
    row.issuer = meta.issuer or ""
    row.issued_on = meta.issued_on or date(2000, 1, 1)
    row.supervisor_unit_id, row.digest = supervisor, result.digest
    # keys the table does not own (the 考核细则 a supervisor edited) survive a re-import
    row.data = {**(row.data or {}), "doc_office": office,
                "horizon_year": ctx.horizon_year if ctx else None,
                "selection_years": list(meta.selection_years), "reporting": meta.reporting,
                "source_kind": result.source_kind, "source_name": how.source_name}
    s.flush()
    return row


def _default_supervisor(s: Session) -> str:
    """The supervising unit of the policies already here (the bundled one's, usually)."""
    found = list(dict.fromkeys(s.scalars(select(Policy.supervisor_unit_id)
                                         .order_by(Policy.issued_on))))
    if not found:
        raise ValidationError("请指定督查单位（--supervisor）")
    return found[0]


def _office_of(s: Session, supervisor: str) -> str:
    """The notice-number prefix the supervising unit already uses: numbers run across policies."""
    for data in s.scalars(select(Policy.data).where(Policy.supervisor_unit_id == supervisor)):
        if data.get("doc_office"):
            return str(data["doc_office"])
    return "督办"


def _ids(refs: list[UnitRef], mapped: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for ref in refs:
        uid = ref.unit_id or mapped.get(ref.written)
        if uid and uid not in out:
            out.append(uid)
    return out


def _task_row(s: Session, clock: Clock, actor: Actor, policy: Policy, task: ImportedTask,
              mapped: Mapping[str, str]) -> PolicyTask:
    """Create or update one task, with its process version."""
    lead = _ids(task.lead, mapped)
    if not lead:
        raise ValidationError(f"{task.place}：任务{task.number}没有牵头单位")
    supporting = [u for u in _ids(task.supporting, mapped) if u not in lead]
    row = s.scalars(select(PolicyTask).where(PolicyTask.policy_id == policy.id,
                                             PolicyTask.number == task.number)).first()
    if row is None:
        row = PolicyTask(policy_id=policy.id, number=task.number)
        s.add(row)
    process_id = pattern.process_id_for(policy.id, task.number)
    row.title, row.text, row.deadline = task.title[:200], task.text, task.deadline[:100]
    row.lead_unit_ids, row.supporting_unit_ids = lead, supporting
    row.rule = task.rule.to_dict() if task.rule else {}
    row.targets = [asdict(t) for t in task.targets]
    row.process_id, row.supervisor_unit_id = process_id, policy.supervisor_unit_id
    row.label, row.path, row.notes, row.active = task.label[:40], task.path, task.notes, True
    store_process(s, clock, pattern.names_for(process_id, task.number, task.title))
    s.flush()
    return row


def store_process(s: Session, clock: Clock, names: pattern.ProcessNames) -> None:
    """Render, validate and store one process version (idempotent for the same text)."""
    xml = pattern.render(names)
    parsed = bpmn.parse_xml(xml.encode("utf-8"), names.process_id, Path(names.process_id))
    bpmnlint.lint(xml, names.process_id)
    instances.ensure_spec(s, clock, parsed, names.process_id)


def _cycles(s: Session, clock: Clock, actor: Actor, task: PolicyTask, read: ImportedTask,
            ctx: Any) -> None:
    """Lay out the task's cycles; an open cycle whose due date changed moves its obligations."""
    if read.rule is None:
        return
    have = {c.label: c for c in s.scalars(select(Cycle).where(Cycle.task_id == task.id))}
    for cycle in read.rule.cycles(ctx):
        row = have.get(cycle.label)
        if row is None:
            s.add(Cycle(task_id=task.id, label=cycle.label, opens_on=cycle.opens_on,
                        due_date=cycle.due_date))
        elif row.opened_at is None:
            row.opens_on, row.due_date = cycle.opens_on, cycle.due_date
        elif row.due_date != cycle.due_date:
            row.due_date = cycle.due_date
            for inst in s.scalars(select(Instance).where(
                    Instance.cycle_id == row.id, Instance.status == InstanceStatus.RUNNING)):
                service.reschedule(s, clock, actor, inst, cycle.due_date,
                                   reason=f"任务分解表修订：时限改为“{read.deadline}”")


def _retire_missing(s: Session, policy: Policy, numbers: set[int]) -> list[int]:
    """Tasks no longer in the table open no new cycles (their running obligations go on)."""
    gone = []
    for task in s.scalars(select(PolicyTask).where(PolicyTask.policy_id == policy.id)):
        if task.number not in numbers and task.active:
            task.active = False
            gone.append(task.number)
    return gone


def _last_version(s: Session, policy_id: str) -> PolicyVersion | None:
    return s.scalars(select(PolicyVersion).where(PolicyVersion.policy_id == policy_id)
                     .order_by(PolicyVersion.version.desc())).first()


def _diff(old: list[dict[str, Any]], new: list[dict[str, Any]], gone: list[int]
          ) -> dict[str, Any]:
    """Tasks added, removed and changed (field by field) since the last version."""
    before = {t["number"]: t for t in old}
    changed = []
    for task in new:
        prev = before.get(task["number"])
        if prev is None:
            continue
        fields = {f: {"old": prev.get(f), "new": task.get(f)} for f in COMPARED
                  if prev.get(f) != task.get(f)}
        if fields:
            changed.append({"number": task["number"], "fields": fields})
    return {"added": [t["number"] for t in new if t["number"] not in before],
            "removed": sorted(set(gone) | (set(before) - {t["number"] for t in new})),
            "changed": changed}
