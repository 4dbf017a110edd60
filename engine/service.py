"""The actions: one service layer that the CLI, web, API, scheduler and simulator all call.

Each action runs in the caller's transaction, checks who may act, changes the workflow and its
work items together, and appends to the audit log. Errors are ``engine.errors`` types; the caller
rolls back, so a refused action changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from engine import access, audit, bpmn, checkins, instances, lifecycle, outcomes
from engine.access import Action, Actor
from engine.clock import Clock, ManualClock, overdue_from, today, use_clock
from engine.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StateError,
    ValidationError,
)
from engine.models import (
    ACTIONABLE,
    Attachment,
    EscalationLevel,
    Evidence,
    ExtensionRequest,
    ExtensionStatus,
    Instance,
    InstanceStatus,
    ItemKind,
    ItemRole,
    ItemStatus,
    Review,
    WorkItem,
)
from engine.policy import kind_of

MAX_TEXT = 20_000
MAX_NUMBER_FACTOR = 100


def get_item(s: Session, actor: Actor, item_id: int) -> WorkItem:
    """The work item if the actor may see it; a liaison never learns of another unit's items."""
    item = s.get(WorkItem, item_id, options=[joinedload(WorkItem.instance)])
    return access.check_item(actor, item, item_id)


def actionable(s: Session, actor: Actor, item_id: int, action: Action) -> WorkItem:
    """The item, locked (its instance first), if the actor may take ``action`` on it now."""
    item = get_item(s, actor, item_id)
    if item.status not in ACTIONABLE:
        raise StateError(_changed(item))
    access.require(actor, item, action)
    instances.lock(s, item.instance_id)
    if item.status not in ACTIONABLE:  # someone else acted while we waited for the lock
        raise ConflictError(_changed(item))
    return item


def _changed(item: WorkItem) -> str:
    return (f"状态已变化：事项 #{item.id} 当前为“{item.status.label}”，不能再办理，"
            f"请刷新后查看最新情况")


def conflict(exc: BaseException) -> ConflictError | None:
    """A lost race as ``ConflictError``: a stale version, a deadlock or serialization failure
    (PostgreSQL aborts one of the two), a lock not available; None for any other error."""
    if isinstance(exc, ConflictError):
        return exc
    if isinstance(exc, StaleDataError):
        return ConflictError("状态已变化：其他人刚刚办理了该事项，请刷新后重试")
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if isinstance(exc, DBAPIError) and code in ("40001", "40P01", "55P03"):
        return ConflictError("状态已变化：其他人正在办理该事项，请刷新后重试")
    return None


def save_draft(s: Session, clock: Clock, actor: Actor, item_id: int,
               draft: dict[str, Any]) -> WorkItem:
    """Keep what the unit has typed so far; nothing moves in the workflow."""
    item = actionable(s, actor, item_id, Action.SUBMIT)
    text = str(draft.get("text", ""))
    if len(text) > MAX_TEXT:
        raise ValidationError(f"说明文字不能超过 {MAX_TEXT} 字")
    item.draft, item.updated_at = draft, clock.now()
    return item


def submit(s: Session, clock: Clock, actor: Actor, item_id: int, *, text: str,
           numbers: dict[str, Any] | None = None,
           attachment_ids: Sequence[int] = ()) -> WorkItem:
    """A unit submits evidence (lead) or its contribution (supporting)."""
    item = actionable(s, actor, item_id, Action.SUBMIT)
    text = (text or "").strip()
    if not text:
        raise ValidationError("请填写办理情况说明")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"说明文字不能超过 {MAX_TEXT} 字")
    inst = item.instance
    clean = check_numbers(inst, numbers or {}) if item.role is ItemRole.LEAD else {}
    atts = claim_attachments(s, actor, attachment_ids)
    now = clock.now()
    ev = Evidence(work_item_id=item.id, instance_id=inst.id, unit_id=item.unit_id,
                  user_id=actor.user_id, text=text, numbers=clean, submitted_at=now,
                  attachments=atts)
    s.add(ev)
    s.flush()
    data = ({"evidence_id": ev.id, "numbers": clean} if item.role is ItemRole.LEAD
            else {"contribution": text, "evidence_id": ev.id})
    before = _snapshot(item)
    lifecycle.set_status(s, clock, item, ItemStatus.SUBMITTED if item.role is ItemRole.LEAD
                         else ItemStatus.CLOSED, actor=actor.username, ref=("evidence", ev.id))
    item.submitted_at, item.updated_at, item.draft = now, now, None
    if item.status is ItemStatus.CLOSED:
        item.closed_at = now
    checkins.settle_on_submission(s, clock, item)
    _advance(s, clock, inst, item, data, actor.username)
    audit.record(s, clock, actor=actor.username, action="submit", object_type="work_item",
                 object_id=str(item.id), before=before,
                 after={**_snapshot(item), "evidence_id": ev.id, "numbers": clean,
                        "attachments": [a.id for a in atts]})
    return item


def check_numbers(inst: Instance, numbers: dict[str, Any]) -> dict[str, float]:
    """The reported numbers, each checked against its target (key, kind, range)."""
    targets = {t["key"]: t for t in inst.task.targets}
    clean: dict[str, float] = {}
    for key, raw in numbers.items():
        if key not in targets:
            raise ValidationError(_unknown_key(inst.task.number, key, inst.task.targets))
        if raw is None or raw == "":
            continue
        clean[key] = _check_number(targets[key], raw)
    return clean


def _unknown_key(number: int, key: str, targets: Sequence[dict[str, Any]]) -> str:
    """The refusal of an unknown key, naming the keys the task has (the CLI's --number)."""
    if not targets:
        return f"任务{number}没有量化指标，无需填报“{key}”"
    valid = "、".join(f"{t['key']}（{t['label']}）" for t in targets)
    return f"任务{number}没有指标“{key}”，可填报的指标：{valid}"


def _check_number(target: dict[str, Any], raw: Any) -> float:
    """One number: finite, within 0 and 100 times the target, whole for a count."""
    label = target["label"]
    try:
        if isinstance(raw, bool):  # True would read as 1
            raise TypeError(raw)
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"指标“{label}”应为数字，而不是“{raw}”") from None
    limit = max(target["amount"], 1) * MAX_NUMBER_FACTOR
    if not math.isfinite(value) or value < 0 or value > limit:
        raise ValidationError(f"指标“{label}”应在 0 到 {limit:g} 之间")
    if kind_of(target) == "count" and not value.is_integer():
        raise ValidationError(f"指标“{label}”按{target.get('unit') or '个'}计数，应为整数，"
                              f"而不是“{raw}”")
    return int(value) if value.is_integer() else value


def claim_attachments(s: Session, actor: Actor, ids: Sequence[int]) -> list[Attachment]:
    atts = []
    for att_id in dict.fromkeys(ids):
        att = s.get(Attachment, att_id)
        if att is None or att.unit_id != actor.unit_id or att.evidence_id is not None \
                or att.progress_report_id is not None:
            raise ValidationError(f"附件 #{att_id} 不存在或不可用")
        atts.append(att)
    return atts


def review(s: Session, clock: Clock, actor: Actor, item_id: int, *, approve: bool,
           reason: str | None = None) -> WorkItem:
    """A supervisor approves (the obligation closes) or returns it with a reason."""
    item = actionable(s, actor, item_id, Action.REVIEW)
    reason = (reason or "").strip() or None
    if not approve and not reason:
        raise ValidationError("退回时请填写退回理由")
    inst = item.instance
    now = clock.now()
    lead = s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id,
                                            WorkItem.kind == ItemKind.EVIDENCE)).first()
    evidence = s.scalars(select(Evidence).where(Evidence.instance_id == inst.id,
                                                Evidence.unit_id == inst.lead_unit_id)
                         .order_by(Evidence.id.desc())).first()  # the lead's, not a contribution
    decision = Review(instance_id=inst.id, work_item_id=item.id, reviewer_id=actor.user_id,
                      evidence_id=evidence.id if evidence else None, approved=approve,
                      reason=reason, reviewed_at=now)
    s.add(decision)
    before = _snapshot(item)
    lifecycle.set_status(s, clock, item, ItemStatus.CLOSED, actor=actor.username,
                         reason=reason, ref=("review", "approve" if approve else "return"))
    item.closed_at = now
    if lead is not None and not approve:
        lead.return_reason = reason
    _advance(s, clock, inst, item, {"decision": "approve" if approve else "return",
                                    "reason": reason or ""}, actor.username)
    outcomes.reviewed(s, clock, inst, decision)
    audit.record(s, clock, actor=actor.username, action="approve" if approve else "return",
                 object_type="work_item", object_id=str(item.id), before=before,
                 after={**_snapshot(item), "reason": reason, "instance": inst.id})
    return item


def _advance(s: Session, clock: Clock, inst: Instance, item: WorkItem,
             data: dict[str, Any], actor: str) -> None:
    with use_clock(ManualClock(clock.now())):
        wf = instances.load(s, inst)
        if item.spiff_task_id is None:
            raise StateError(f"事项 #{item.id} 没有可办理的流程节点")
        codes = bpmn.complete(wf, item.spiff_task_id, data) + bpmn.fire_timers(wf)
        instances.sync(s, clock, inst, wf, escalations=codes, actor=actor)


def request_extension(s: Session, clock: Clock, actor: Actor, item_id: int, *, new_due: date,
                      reason: str, progress: str | None = None) -> ExtensionRequest:
    """延期申请: filed by the lead unit before it is done, with a reason and a later date."""
    item = actionable(s, actor, item_id, Action.REQUEST_EXTENSION)
    inst = item.instance
    if not (reason or "").strip():
        raise ValidationError("请填写延期理由")
    if inst.due_date is None:
        raise StateError("该事项没有截止日期，无需延期")
    if new_due <= inst.due_date:
        raise ValidationError(f"申请的日期应晚于当前截止日期 {inst.due_date.isoformat()}")
    if new_due <= today(clock):
        raise ValidationError(f"申请延期至的日期应晚于今天（{today(clock).isoformat()}）")
    if s.scalar(select(ExtensionRequest.id).where(
            ExtensionRequest.instance_id == inst.id,
            ExtensionRequest.status == ExtensionStatus.PENDING)) is not None:
        raise StateError("已有一项延期申请正在审批")
    req = ExtensionRequest(instance_id=inst.id, work_item_id=item.id, unit_id=item.unit_id,
                           requested_by=actor.user_id, reason=reason.strip(), progress=progress,
                           old_due_date=inst.due_date, requested_due_date=new_due,
                           status=ExtensionStatus.PENDING, created_at=clock.now())
    s.add(req)
    s.flush()
    audit.record(s, clock, actor=actor.username, action="request_extension",
                 object_type="extension", object_id=str(req.id), before=None,
                 after={"instance": inst.id, "old_due": inst.due_date, "requested_due": new_due,
                        "reason": req.reason})
    return req


def decide_extension(s: Session, clock: Clock, actor: Actor, request_id: int, *, approve: bool,
                     due: date | None = None, note: str | None = None) -> ExtensionRequest:
    """A supervisor approves (with the requested or another date) or rejects an extension."""
    if not access.may_decide_extensions(actor):
        raise PermissionDeniedError("只有督查人员可以审批延期申请")
    req = s.get(ExtensionRequest, request_id)
    if req is None:
        raise NotFoundError(f"延期申请 #{request_id} 不存在")
    if not access.may_decide_extensions(actor, req.unit_id):
        raise PermissionDeniedError("不能审批本单位的延期申请（须由其他督查人员审批）")
    if req.status is not ExtensionStatus.PENDING:
        raise StateError("该延期申请已审批")
    inst = instances.lock(s, req.instance_id)
    assert inst is not None
    s.refresh(req)
    if req.status is not ExtensionStatus.PENDING:  # decided while we waited for the lock
        raise ConflictError("状态已变化：该延期申请刚刚已由他人审批，请刷新后查看")
    new_due = due or req.requested_due_date
    if approve and (inst.due_date is None or new_due <= inst.due_date or new_due < today(clock)):
        raise ValidationError("批准的截止日期应晚于原截止日期且不早于今天")
    req.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    req.decided_by, req.decided_at, req.decision_note = actor.user_id, clock.now(), note
    if approve:
        req.decided_due_date = new_due
        _move_due_date(s, clock, inst, new_due, actor.username, ("extension", req.id))
    outcomes.extension_decided(s, clock, inst, req)
    audit.record(s, clock, actor=actor.username,
                 action="approve_extension" if approve else "reject_extension",
                 object_type="extension", object_id=str(req.id),
                 before={"due_date": req.old_due_date},
                 after={"status": req.status, "due_date": inst.due_date, "note": note})
    return req


def reschedule(s: Session, clock: Clock, actor: Actor, inst: Instance, new_due: date | None, *,
               reason: str) -> None:
    """A changed deadline of a running obligation (a re-imported table): audited."""
    before = inst.due_date
    if new_due is None or new_due == before or inst.status is not InstanceStatus.RUNNING:
        return
    _move_due_date(s, clock, inst, new_due, actor.username, ("instance", inst.id))
    audit.record(s, clock, actor=actor.username, action="reschedule", object_type="instance",
                 object_id=str(inst.id), before={"due_date": before},
                 after={"due_date": new_due, "reason": reason})


def _move_due_date(s: Session, clock: Clock, inst: Instance, new_due: date, actor: str,
                   ref: lifecycle.Ref) -> None:
    """A new due date: the items in the unit's hands start the escalation ladder again."""
    inst.due_date = new_due
    for item in s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id,  # not 签收/进展
                                                 WorkItem.kind.in_((ItemKind.EVIDENCE,
                                                                    ItemKind.CONTRIBUTION)))):
        item.due_date = new_due
        if item.status in ACTIONABLE and item.escalation is not EscalationLevel.NONE:
            lifecycle.raise_level(s, clock, item.id, EscalationLevel.NONE, actor=actor,
                                  reason=f"截止日期改为{new_due.isoformat()}", ref=ref)
    with use_clock(ManualClock(clock.now())):
        wf = instances.load(s, inst)
        bpmn.reset_deadline(wf, overdue_from(new_due).isoformat())
        instances.sync(s, clock, inst, wf)


def _snapshot(item: WorkItem) -> dict[str, Any]:
    return {"status": item.status, "due_date": item.due_date, "unit": item.unit_id}
