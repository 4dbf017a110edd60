"""The unit hears of every outcome: returned, approved, extension decided, new assignments.

The engine records each outcome as an ``EngineEvent`` (``engine.outcomes``) in the transaction
of the action. ``announce`` reads the unhandled ones (an indexed query on ``handled_at``), and
turns each into the unit's in-app note and mail to its liaisons (``notes.notify``, one dedupe
key for both); the new assignments of one unit are gathered into one message. Each group is
claimed by setting ``handled_at`` in the same savepoint as its note and mail, so a message
exists if and only if its events are marked, and two processes never announce one event twice.
It runs in every tick and in the delivery job of ``duban serve`` (every minute). docs/mail.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine import outcomes as facts
from engine.clock import CHINA_TZ, Clock, today
from engine.models import (
    EngineEvent,
    ExtensionRequest,
    ExtensionStatus,
    Instance,
    Plan,
    PlanStatus,
    Review,
)
from engine.text import quoted
from notifications.notes import cn_date, notify, run_batched, signature
from notifications.recipients import Recipients

log = logging.getLogger(__name__)

LIMIT = 2000  # events per run; the rest wait for the next run (a minute later)
ROLE_ZH = {"lead": "牵头", "supporting": "配合"}


def announce(sessions: sessionmaker[Session], clock: Clock) -> int:
    """Notify the units of every outcome not yet announced; how many messages were written."""
    with sessions() as s:
        rows = s.execute(select(EngineEvent.id, EngineEvent.kind, EngineEvent.unit_id,
                                EngineEvent.instance_id, EngineEvent.work_item_id,
                                EngineEvent.payload, EngineEvent.created_at)
                         .where(EngineEvent.handled_at.is_(None),
                                EngineEvent.kind.in_(facts.KINDS))
                         .order_by(EngineEvent.id).limit(LIMIT)).all()
    groups: list[list[Row[Any]]] = []
    assigned: dict[str, list[Row[Any]]] = {}
    for row in rows:
        if row.kind == facts.ASSIGNED:
            assigned.setdefault(row.unit_id, []).append(row)
        else:
            groups.append([row])
    groups.extend(assigned.values())
    return run_batched(sessions, clock, groups, _announce)


def _announce(s: Session, clock: Clock, names: dict[str, str], to: Recipients,
              group: Sequence[Row[Any]]) -> int:
    """Claim the group's events and write its message; 0 if another process claimed one."""
    ids = [row.id for row in group]
    claim = s.begin_nested()
    marked = s.execute(update(EngineEvent).where(EngineEvent.id.in_(ids),
                                                 EngineEvent.handled_at.is_(None))
                       .values(handled_at=clock.now()))
    if getattr(marked, "rowcount", 0) != len(ids):
        claim.rollback()
        return 0
    first = group[0]
    if first.unit_id is None:
        claim.commit()
        return 0
    if first.kind == facts.ASSIGNED:
        msg = _assigned(s, names, group)
    elif first.kind == facts.EXTENSION:
        msg = _extension(s, first)
    elif first.kind == facts.PLAN:
        msg = _plan(s, first)
    else:
        msg = _review(s, first)
    text = (f"{names.get(first.unit_id, first.unit_id)}：\n\n{msg.body}\n"
            f"{signature(names, msg.office, today(clock))}")
    notify(s, clock, to, key=msg.key, unit_id=first.unit_id, kind=msg.kind,
           subject=msg.subject, text=text, link=msg.link, related=msg.related)
    claim.commit()
    return 1


@dataclass(frozen=True)
class Message:
    """One outcome as the unit reads it (the addressee line and signature are added)."""

    key: str
    kind: str
    subject: str
    body: str
    link: str
    related: tuple[str, int]
    office: str  # the supervising unit, who signs


def _day(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


def _what(inst: Instance) -> str:
    return f"任务{inst.task.number}{quoted(inst.task.title)}（{inst.cycle.label}）"


def _due(day: date | None) -> str:
    return cn_date(day) if day else "长期推进（无截止日期）"


def _review(s: Session, event: Row[Any]) -> Message:
    review = s.get(Review, event.payload["review_id"])
    inst = s.get(Instance, event.instance_id)
    assert review is not None and inst is not None
    item = event.work_item_id
    when = cn_date(_day(review.reviewed_at))
    if review.approved:
        subject = f"【审核通过】{_what(inst)}已办结"
        body = (f"你单位报送的{_what(inst)}办理情况和佐证材料已于{when}审核通过，该事项办结销号。"
                + (f"\n审核意见：{review.reason}" if review.reason else "")
                + f"\n\n办理记录见督办系统（事项 #{item}）。")
        return Message(f"approved:{review.id}", "approved", subject, body, f"/items/{item}",
                       ("work_item", item), inst.task.supervisor_unit_id)
    subject = f"【退回】{_what(inst)}办理情况被退回，请补充完善后重新报送"
    body = (f"你单位报送的{_what(inst)}办理情况和佐证材料经审核未通过，于{when}退回。\n"
            f"退回理由：{review.reason}\n\n请按退回理由补充完善后重新报送，办理时限为"
            f"{_due(inst.due_date)}。\n\n请登录督办系统办理（待办事项 #{item}）。")
    return Message(f"returned:{review.id}", "returned", subject, body, f"/items/{item}",
                   ("work_item", item), inst.task.supervisor_unit_id)


def _plan(s: Session, event: Row[Any]) -> Message:
    plan = s.get(Plan, event.payload["plan_id"])
    inst = s.get(Instance, event.instance_id)
    assert plan is not None and inst is not None and plan.decided_at is not None
    item, when = event.work_item_id, cn_date(_day(plan.decided_at))
    if plan.status is PlanStatus.APPROVED:
        subject = f"【形象进度计划已批准】{_what(inst)}"
        body = (f"你单位报送的{_what(inst)}形象进度计划（第{plan.version}版，"
                f"{len(plan.milestones)}个节点）已于{when}批准，请按节点推进，"
                f"并在进展报送中报告节点完成情况。"
                + (f"\n审核意见：{plan.reason}" if plan.reason else "")
                + f"\n\n详见督办系统（事项 #{item}）。")
        kind = "plan_approved"
    else:
        subject = f"【形象进度计划退回】{_what(inst)}，请修改后重新报送"
        body = (f"你单位报送的{_what(inst)}形象进度计划（第{plan.version}版）于{when}退回。\n"
                f"退回理由：{plan.reason}\n\n请修改后重新报送（待办事项 #{item}）。")
        kind = "plan_returned"
    return Message(f"plan:{plan.id}", kind, subject, body, f"/items/{item}",
                   ("work_item", item), inst.task.supervisor_unit_id)


def _extension(s: Session, event: Row[Any]) -> Message:
    req = s.get(ExtensionRequest, event.payload["request_id"])
    inst = s.get(Instance, event.instance_id)
    assert req is not None and inst is not None and req.decided_at is not None
    asked, decided = cn_date(_day(req.created_at)), cn_date(_day(req.decided_at))
    note = f"\n审批意见：{req.decision_note}" if req.decision_note else ""
    if req.status is ExtensionStatus.APPROVED:
        assert req.decided_due_date is not None
        subject = f"【延期已批准】{_what(inst)}办理时限延至{cn_date(req.decided_due_date)}"
        body = (f"你单位{asked}提出的{_what(inst)}延期申请已于{decided}批准，办理时限由"
                f"{_due(req.old_due_date)}延至{cn_date(req.decided_due_date)}。{note}\n\n"
                f"请在新的时限内办结并报送佐证材料（待办事项 #{req.work_item_id}）。")
    else:
        subject = f"【延期未批准】{_what(inst)}仍按原时限办理"
        body = (f"你单位{asked}提出的{_what(inst)}延期申请（申请延至"
                f"{cn_date(req.requested_due_date)}）已于{decided}审批，未予批准，办理时限仍为"
                f"{_due(inst.due_date)}。{note}\n\n"
                f"请按时办结并报送佐证材料（待办事项 #{req.work_item_id}）。")
    return Message(f"extension:{req.id}", "extension", subject, body,
                   f"/items/{req.work_item_id}", ("work_item", req.work_item_id),
                   inst.task.supervisor_unit_id)


def _assigned(s: Session, names: dict[str, str], group: Sequence[Row[Any]]) -> Message:
    lines: list[str] = []
    office = ""
    for row in group:
        inst = s.get(Instance, row.instance_id)
        assert inst is not None
        office = office or inst.task.supervisor_unit_id
        role = ROLE_ZH.get(row.payload.get("role", ""), "")
        lead = ("" if role == "牵头" else
                f"，牵头单位{names.get(inst.lead_unit_id, inst.lead_unit_id)}")
        lines.append(f"{len(lines) + 1}. {_what(inst)}：{role}{lead}，办理时限"
                     f"{_due(inst.due_date)}（待办事项 #{row.work_item_id}）")
    first = group[0]
    subject = f"【新交办任务】你单位有{len(group)}项新的督办事项"
    body = ("以下督办事项已交办你单位，请及时办理，按时报送办理情况和佐证材料：\n"
            + "\n".join(lines) + "\n\n请登录督办系统查看待办事项。")
    return Message(f"assigned:{first.unit_id}:{first.work_item_id}", "assigned", subject, body,
                   "/inbox", ("work_item", first.work_item_id), office)
