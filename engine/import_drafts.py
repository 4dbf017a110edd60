"""An import between upload and confirmation: read, correct cells, map units, confirm.

The upload is kept as a blob with the supervisor's decisions (``ImportDraft``); every preview
reads the file again, then applies the corrected cells (a corrected task is read again through
the same readers, as a one-row table) and the unit mappings. Confirming writes the policy in
the caller's transaction; until then nothing but the draft exists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from engine import access, policy_import
from engine.access import Actor
from engine.blobs import read_blob, store_blob
from engine.clock import Clock
from engine.errors import NotFoundError, ValidationError
from engine.importing import ImportedTask, ImportOptions, ImportResult, read_policy_file
from engine.importing.model import Problem
from engine.models import ImportDraft, Policy, Role, Unit
from engine.text import clean_line

MAX_UPLOAD = 10 * 1024 * 1024
NEW = "new"  # a mapping that creates the unit
FIELDS = {"text": "工作任务", "lead": "牵头单位", "supporting": "配合单位", "deadline": "时限要求"}


def _options(draft: ImportDraft) -> ImportOptions:
    o = draft.options
    return ImportOptions(policy_id=o.get("policy_id"), title=o.get("title"),
                         issued_on=date.fromisoformat(o["issued_on"]) if o.get("issued_on")
                         else None, create_units=True)


def create(s: Session, clock: Clock, actor: Actor, *, filename: str, data: bytes,
           policy_id: str | None = None, title: str | None = None,
           issued_on: date | None = None) -> ImportDraft:
    """Keep an upload for its preview."""
    access.require_role(actor, Role.SUPERVISOR, Role.ADMIN, what="导入政策")
    if len(data) > MAX_UPLOAD:
        raise ValidationError(f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB")
    name = clean_line(filename, "文件名", 255)
    draft = ImportDraft(user_id=actor.user_id, filename=name, sha256=store_blob(s, data),
                        options={"policy_id": policy_id or None, "title": title or None,
                                 "issued_on": issued_on.isoformat() if issued_on else None},
                        mappings={}, corrections={}, created_at=clock.now())
    s.add(draft)
    s.flush()
    return draft


def get(s: Session, actor: Actor, draft_id: int) -> ImportDraft:
    """A draft of the actor's (supervisors and admins share them)."""
    access.require_role(actor, Role.SUPERVISOR, Role.ADMIN, what="导入政策")
    draft = s.get(ImportDraft, draft_id)
    if draft is None:
        raise NotFoundError(f"导入草稿 #{draft_id} 不存在")
    return draft


@dataclass
class Preview:
    """What the preview page shows: the reading with corrections and mappings applied."""

    draft: ImportDraft
    result: ImportResult
    unmapped: list[str]          # unknown names still without a decision
    ready: bool                  # confirm would succeed (no error left)

    def problems_of(self, task: ImportedTask) -> list[Problem]:
        """The problems found in this task's row or paragraph."""
        return [p for p in self.result.problems if p.place.startswith(task.place)]

    def general_problems(self) -> list[Problem]:
        """Problems of the file as a whole."""
        places = [t.place for t in self.result.tasks]
        return [p for p in self.result.problems if not any(p.place.startswith(x) for x in places)]


def preview(s: Session, draft: ImportDraft) -> Preview:
    """Read the upload again and apply the draft's corrections and mappings."""
    data = read_blob(s, draft.sha256) or b""
    found = policy_import.directory(s)
    result = read_policy_file(draft.filename, data, found, _options(draft))
    if result.policy.id is None and result.policy.issued_on is not None:
        result.policy.id = policy_import.default_policy_id(result)
    for number, fields in sorted(draft.corrections.items()):
        _correct(result, int(number), fields, found)
    mapped = {name: uid for name, uid in draft.mappings.items() if uid}
    result.problems = [p for p in result.problems
                       if not (p.text in mapped and p.text in result.new_units)]
    unmapped = [n for n in result.new_units if n not in mapped]
    blocking = [p for p in result.errors() if p.text not in result.new_units]
    return Preview(draft, result, unmapped, not blocking and not unmapped and bool(result.tasks))


def _correct(result: ImportResult, number: int, fields: dict[str, str], found: Any) -> None:
    """Read a corrected task again as a one-row table and put it in place of the old one."""
    task = next((t for t in result.tasks if t.number == number), None)
    if task is None or result.policy.issued_on is None:
        return
    cells = {"text": task.text, "lead": "、".join(r.written for r in task.lead),
             "supporting": "、".join(r.written for r in task.supporting),
             "deadline": task.deadline, **fields}
    day = result.policy.issued_on
    table = (f"附件\n任务分解表\n序号\t工作任务\t牵头单位\t配合单位\t时限要求\n"
             f"{task.label or number}\t" + "\t".join(
                 cells[k].replace("\t", " ").replace("\n", " ")
                 for k in ("text", "lead", "supporting", "deadline")) + "\n")
    cover = f"{result.policy.title or '政策'}\n{day.year}年{day.month}月{day.day}日\n"
    again = read_policy_file("corrected.txt", (cover + table).encode("utf-8"), found,
                             ImportOptions(issued_on=day, create_units=True,
                                           horizon_year=result.policy.horizon_year,
                                           selection_years=result.policy.selection_years))
    if not again.tasks:
        return
    fixed = replace(again.tasks[0], number=task.number, label=task.label, path=task.path,
                    place=task.place)
    result.tasks[result.tasks.index(task)] = fixed
    result.problems = [p for p in result.problems if not p.place.startswith(task.place)] + [
        replace(p, place=f"{task.place}（已更正）") for p in again.problems
        if p.place not in ("文件",) and "周期" not in p.message]
    still = {r.written for t in result.tasks for r in (*t.lead, *t.supporting) if r.unit_id is None}
    result.new_units = [n for n in dict.fromkeys([*result.new_units, *again.new_units])
                        if n in still]


def correct(s: Session, actor: Actor, draft: ImportDraft, number: int,
            fields: dict[str, str]) -> None:
    """Record a corrected cell of a task (the next preview reads it again)."""
    clean = {k: clean_line(v, FIELDS[k], 4000, required=k in ("text", "lead"))
             for k, v in fields.items() if k in FIELDS}
    draft.corrections = {**draft.corrections, str(number): {
        **draft.corrections.get(str(number), {}), **clean}}


def map_unit(s: Session, draft: ImportDraft, name: str, unit_id: str) -> None:
    """Decide an unknown name: an existing unit's id, or ``NEW`` to create it on confirm."""
    if unit_id != NEW and s.get(Unit, unit_id) is None:
        raise ValidationError(f"单位 {unit_id} 不存在")
    draft.mappings = {**draft.mappings, name: unit_id}


def confirm(s: Session, clock: Clock, actor: Actor, draft: ImportDraft,
            supervisor_unit_id: str | None = None) -> Policy:
    """Write the previewed policy (one transaction: the caller's)."""
    shown = preview(s, draft)
    if not shown.ready:
        raise ValidationError("导入前须先解决预览中标红的问题，"
                              "并为每个未登记的单位选择对应单位或新建")
    mappings = {n: u for n, u in draft.mappings.items() if u and u != NEW}
    create_units = any(u == NEW for u in draft.mappings.values())
    policy = policy_import.confirm(s, clock, actor, shown.result, policy_import.Confirmation(
        source_name=draft.filename, policy_id=shown.result.policy.id,
        supervisor_unit_id=supervisor_unit_id, create_units=create_units, mappings=mappings))
    draft.policy_id = policy.id
    return policy
