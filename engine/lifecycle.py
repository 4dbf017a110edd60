"""The lifecycle of work items: the declared transitions of their status and escalation level.

Every change of ``WorkItem.status`` and ``WorkItem.escalation`` goes through this module: it
checks the change against the table below (``TransitionError`` otherwise, naming the item, the
two states and what is allowed), makes it, and records a ``Transition`` row (from, to, when, who,
why, and the fact behind it) in the caller's transaction. The scheduler's sweeps call these
actions too; nothing else writes those columns. ``status_on`` / ``level_on`` read the rows back
"as of a day" (the end of that day, China time).

The escalation ladder of an item for its current due date, one level at a time, each once:
none -> urged (催办) -> noticed (督办通知) -> principal (二次督办, to the unit's principal) ->
criticized (通报批评 in a bulletin) -> interviewed (约谈); a 约谈 may also follow the
二次督办 before the bulletin. A new due date (an approved extension, a changed table) takes an
item back to none: the ladder starts again for the new date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import access, audit
from engine.access import Actor
from engine.clock import CHINA_TZ, Clock, overdue_from, today
from engine.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransitionError,
    ValidationError,
)
from engine.models import (
    KIND_OF_ROLE,
    EscalationLevel,
    Interview,
    ItemKind,
    ItemRole,
    ItemStatus,
    Transition,
    WorkItem,
)

OPEN, RETURNED, SUBMITTED = ItemStatus.OPEN, ItemStatus.RETURNED, ItemStatus.SUBMITTED
CLOSED, CANCELLED = ItemStatus.CLOSED, ItemStatus.CANCELLED
Level = EscalationLevel
Ref = tuple[str, Any]  # (kind, id): ("document", 12), ("message", "urge:5:2018-08-30")

_EVIDENCE_LOOP: Mapping[ItemStatus | None, frozenset[ItemStatus]] = {
    None: frozenset({OPEN}),
    OPEN: frozenset({SUBMITTED, CANCELLED}),
    RETURNED: frozenset({SUBMITTED, CANCELLED}),
    SUBMITTED: frozenset({RETURNED, CLOSED}),    # returned by review / approved
}
_ONCE: Mapping[ItemStatus | None, frozenset[ItemStatus]] = {
    None: frozenset({OPEN}),
    OPEN: frozenset({CLOSED, CANCELLED}),        # done (handed in, acknowledged) / withdrawn
}
# kind -> from-status (None: created) -> the statuses it may become
STATUS_RULES: Mapping[ItemKind, Mapping[ItemStatus | None, frozenset[ItemStatus]]] = {
    ItemKind.EVIDENCE: _EVIDENCE_LOOP,           # the lead's final report, reviewed
    ItemKind.PLAN: _EVIDENCE_LOOP,               # milestones, reviewed the same way
    ItemKind.CONTRIBUTION: _ONCE,                # the contribution closes it
    ItemKind.ACK: _ONCE,                         # 签收
    ItemKind.PROGRESS: _ONCE,                    # a period's report (or withdrawn)
    ItemKind.REVIEW: {
        None: frozenset({OPEN}),
        OPEN: frozenset({CLOSED, CANCELLED}),    # reviewed
        CLOSED: frozenset({OPEN}),               # the next round's review
    },
}

_BACK = Level.NONE  # a new due date
LEVEL_RULES: Mapping[EscalationLevel, frozenset[EscalationLevel]] = {
    Level.NONE: frozenset({Level.URGED}),
    Level.URGED: frozenset({Level.NOTICED, _BACK}),
    Level.NOTICED: frozenset({Level.PRINCIPAL, _BACK}),
    Level.PRINCIPAL: frozenset({Level.CRITICIZED, Level.INTERVIEWED, _BACK}),
    Level.CRITICIZED: frozenset({Level.INTERVIEWED, _BACK}),
    Level.INTERVIEWED: frozenset({_BACK}),
}
LEAD_ONLY = frozenset({Level.NOTICED, Level.PRINCIPAL, Level.CRITICIZED, Level.INTERVIEWED})
STAMPS = {Level.URGED: "overdue_marked_at", Level.NOTICED: "escalated_at"}
ROLE_ZH = {ItemRole.LEAD: "牵头", ItemRole.SUPPORTING: "配合", ItemRole.SUPERVISOR: "审核"}


def _allowed(options: Iterable[Any]) -> str:
    labels = [o.label for o in sorted(options, key=lambda o: o.value)]
    return "、".join(f"“{x}”" for x in labels) if labels else "无（终态）"


def check_status(item: WorkItem, to: ItemStatus, current: ItemStatus | None) -> None:
    """Raise ``TransitionError`` unless the table allows ``current`` -> ``to`` for the kind."""
    kind = ItemKind(item.kind or KIND_OF_ROLE[ItemRole(item.role)])
    allowed = STATUS_RULES[kind].get(current, frozenset())
    if to not in allowed:
        was = current.label if current is not None else "（新建）"
        raise TransitionError(
            f"事项 #{item.id}（{kind.label}）的状态不能从“{was}”变为“{to.label}”；"
            f"可变为：{_allowed(allowed)}")


def check_level(item_id: int, role: ItemRole, current: EscalationLevel,
                to: EscalationLevel) -> None:
    """Raise ``TransitionError`` unless the ladder allows ``current`` -> ``to``."""
    allowed = LEVEL_RULES[current]
    if role is not ItemRole.LEAD:
        allowed = allowed - LEAD_ONLY
    if to not in allowed:
        raise TransitionError(
            f"事项 #{item_id}（{ROLE_ZH[role]}）的督办层级不能从“{current.label}”升为"
            f"“{to.label}”；可变为：{_allowed(allowed)}")


def _record(s: Session, clock: Clock, item_id: int, field: str, before: str | None, after: str,
            *, actor: str, reason: str | None, ref: Ref | None) -> None:
    s.add(Transition(object_type="work_item", object_id=item_id, field=field,
                     from_state=before, to_state=after, at=clock.now(), actor=actor,
                     reason=reason, ref_type=ref[0] if ref else None,
                     ref_id=str(ref[1]) if ref else None))


def created(s: Session, clock: Clock, item: WorkItem, *, actor: str = "system") -> None:
    """Record a new item's first status (it must be open); flushes to learn its id."""
    created_all(s, clock, [item], actor=actor)


def created_all(s: Session, clock: Clock, items: Iterable[WorkItem], *,
                actor: str = "system") -> None:
    """Record the first status of new items (each must be open), with one flush for all."""
    items = list(items)
    for item in items:
        check_status(item, item.status, None)
    s.flush()
    for item in items:
        _record(s, clock, item.id, "status", None, item.status.value, actor=actor,
                reason=None, ref=None)


def set_status(s: Session, clock: Clock, item: WorkItem, to: ItemStatus, *,
               actor: str = "system", reason: str | None = None, ref: Ref | None = None) -> bool:
    """Move an item to ``to`` if the table allows it; False when it is there already."""
    current = item.status
    if current is to:
        return False
    check_status(item, to, current)
    item.status, item.updated_at = to, clock.now()
    _record(s, clock, item.id, "status", current.value, to.value, actor=actor, reason=reason,
            ref=ref)
    return True


def raise_level(s: Session, clock: Clock, item_id: int, to: EscalationLevel, *,
                actor: str = "system", reason: str | None = None,
                ref: Ref | None = None) -> EscalationLevel:
    """Move an item along the ladder (or back to none); returns the level it left.

    Compare-and-set on the level read first: another process that moved the item in between
    makes this a ``ConflictError`` and nothing is written (the sweeps count it as done there).
    """
    row = s.execute(select(WorkItem.escalation, WorkItem.role)
                    .where(WorkItem.id == item_id)).one_or_none()
    if row is None:
        raise TransitionError(f"事项 #{item_id} 不存在")
    current, role = row
    check_level(item_id, role, current, to)
    now = clock.now()
    values: dict[str, Any] = {"escalation": to}
    if to in STAMPS:
        values[STAMPS[to]] = now
    elif to is Level.NONE:
        values["overdue_marked_at"] = None
    result = s.execute(update(WorkItem).where(WorkItem.id == item_id,
                                              WorkItem.escalation == current).values(**values))
    if not getattr(result, "rowcount", 0):
        raise ConflictError(f"状态已变化：事项 #{item_id} 的督办层级刚被他人更新")
    _record(s, clock, item_id, "escalation", current.value, to.value, actor=actor,
            reason=reason, ref=ref)
    return current


# ---------------------------------------------------------------- as of a day
def _as_of(s: Session, ids: Iterable[int], field: str, day: date) -> dict[int, str]:
    """Each item's last ``field`` state recorded before the end of ``day``."""
    out: dict[int, str] = {}
    end = overdue_from(day)
    keys = list(dict.fromkeys(ids))
    for start in range(0, len(keys), 500):
        rows = s.execute(select(Transition.object_id, Transition.to_state)
                         .where(Transition.object_type == "work_item",
                                Transition.object_id.in_(keys[start:start + 500]),
                                Transition.field == field, Transition.at < end)
                         .order_by(Transition.at, Transition.id))
        for object_id, state in rows:
            out[object_id] = state
    return out


def statuses_on(s: Session, ids: Iterable[int], day: date) -> dict[int, ItemStatus]:
    """Each item's status at the end of ``day`` (absent: the item did not exist yet)."""
    return {k: ItemStatus(v) for k, v in _as_of(s, ids, "status", day).items()}


def status_on(s: Session, item_id: int, day: date) -> ItemStatus | None:
    """An item's status at the end of ``day``; None before it existed."""
    return statuses_on(s, [item_id], day).get(item_id)


def levels_on(s: Session, ids: Iterable[int], day: date) -> dict[int, EscalationLevel]:
    """Each item's escalation level at the end of ``day`` (none when nothing was recorded)."""
    ids = list(ids)
    found = _as_of(s, ids, "escalation", day)
    return {k: EscalationLevel(found.get(k, "none")) for k in ids}


def level_on(s: Session, item_id: int, day: date) -> EscalationLevel:
    """An item's escalation level at the end of ``day``."""
    return levels_on(s, [item_id], day)[item_id]


def reached(s: Session, level: EscalationLevel, day: date) -> list[Transition]:
    """The transitions into ``level`` recorded before the end of ``day``, oldest first."""
    return list(s.scalars(select(Transition).where(
        Transition.field == "escalation", Transition.to_state == level.value,
        Transition.at < overdue_from(day)).order_by(Transition.at, Transition.id)))


def history(s: Session, item_ids: Iterable[int]) -> list[Transition]:
    """Every recorded transition of these items, in order."""
    keys = list(item_ids)
    return list(s.scalars(select(Transition).where(
        Transition.object_type == "work_item", Transition.object_id.in_(keys))
        .order_by(Transition.at, Transition.id))) if keys else []


# ---------------------------------------------------------------- 约谈
MAX_SUMMARY = 20_000


def record_interview(s: Session, clock: Clock, actor: Actor, item_id: int, *, held_on: date,
                     interviewee: str, summary: str) -> Interview:
    """约谈: a supervisor records a meeting held with the unit's principal about a lead item
    past its 二次督办 (principal or criticized); the item moves to interviewed, audited."""
    if not access.may_urge(actor):
        raise PermissionDeniedError("只有督查人员可以记录约谈")
    item = s.get(WorkItem, item_id)
    if item is None:
        raise NotFoundError(f"事项 #{item_id} 不存在")
    who, text = (interviewee or "").strip(), (summary or "").strip()
    if not who or len(who) > 200:
        raise ValidationError("请填写被约谈人（姓名、职务），不超过 200 字")
    if not text or len(text) > MAX_SUMMARY:
        raise ValidationError(f"请填写约谈情况，不超过 {MAX_SUMMARY} 字")
    if held_on > today(clock):
        raise ValidationError(f"约谈日期不能晚于今天（{today(clock).isoformat()}）")
    if item.escalation is Level.INTERVIEWED:  # a second tab, a double click
        raise TransitionError(f"事项 #{item.id} 已是“已约谈”：约谈已记录过，不能重复记录，"
                              "请刷新页面查看")
    check_level(item.id, item.role, item.escalation, Level.INTERVIEWED)
    since = reached_by(s, item.id, Level.PRINCIPAL)
    if since is not None and held_on < since:
        raise ValidationError(f"约谈日期不能早于二次督办的日期（{since.isoformat()}）")
    iv = Interview(work_item_id=item.id, unit_id=item.unit_id, held_on=held_on,
                   interviewee=who, summary=text, recorded_by=actor.username,
                   recorded_at=clock.now())
    s.add(iv)
    s.flush()
    raise_level(s, clock, item.id, Level.INTERVIEWED, actor=actor.username,
                reason=f"约谈{who}（{held_on.isoformat()}）", ref=("interview", iv.id))
    audit.record(s, clock, actor=actor.username, action="interview", object_type="work_item",
                 object_id=str(item.id), before={"escalation": Level.PRINCIPAL},
                 after={"interview": iv.id, "held_on": held_on, "interviewee": who})
    return iv


def reached_by(s: Session, item_id: int, level: EscalationLevel) -> date | None:
    """The day (China time) the item last moved into ``level``; None if it never did."""
    at = s.scalar(select(Transition.at).where(
        Transition.object_type == "work_item", Transition.object_id == item_id,
        Transition.field == "escalation", Transition.to_state == level.value)
        .order_by(Transition.at.desc(), Transition.id.desc()).limit(1))
    return at.astimezone(CHINA_TZ).date() if at is not None else None


def interviews(s: Session, item_ids: Iterable[int]) -> list[Interview]:
    """The 约谈 recorded on these items, in order."""
    keys = list(item_ids)
    return list(s.scalars(select(Interview).where(Interview.work_item_id.in_(keys))
                          .order_by(Interview.held_on, Interview.id))) if keys else []
