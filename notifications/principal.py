"""二次督办: the level past the 督办通知, one notice per unit per day to its principal.

A lead item reaches it on the first working day after the reply deadline stated in the
督办通知 that raised it to the 督办 level (``Document.data["reply_by"]``) when the unit sent
nothing in between (no evidence from the notice until the end of that day) and the item is
still in the unit's hands (red). The notice (numbered like the others, PDF, mail to the unit
with the office in copy) is addressed to the unit's principal (主要负责同志) and lists only the
items that reach the level that day; each moves noticed -> principal through engine.lifecycle,
with the document as its fact. The next bulletin names them for 通报批评 (bulletins.py).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, sessionmaker

from engine import lifecycle
from engine.clock import Clock, overdue_from, today
from engine.lights import Light, light
from engine.models import (
    ACTIONABLE,
    Cycle,
    EscalationLevel,
    Evidence,
    Instance,
    ItemRole,
    Policy,
    PolicyTask,
    Transition,
    WorkItem,
)
from engine.text import quoted
from engine.units import unit_names
from engine.workdays import WorkCalendar, default_calendar
from notifications import documents
from notifications.models import Document, DocumentKind
from notifications.notes import signature
from notifications.notices import Draft, EscalationRule, issue_document, send_document
from notifications.principal_doc import EarlierNotice, SecondNoticeDoc, second_notice_pdf

log = logging.getLogger(__name__)


def escalate_principal(sessions: sessionmaker[Session], clock: Clock,
                       rule: EscalationRule | None = None,
                       calendar: WorkCalendar | None = None) -> int:
    """Issue one 二次督办通知 per unit (and policy) whose items reach the level today."""
    rule, cal, day = rule or EscalationRule(), calendar or default_calendar(), today(clock)
    if not cal.is_working_day(day):
        return 0
    with sessions() as s:
        pairs = sorted({(r["policy_id"], r["unit_id"]) for r in due_items(s, day, rule, cal)})
    issued = 0
    for policy_id, unit_id in pairs:
        try:
            with sessions() as s, s.begin():
                issued += _notice_for_unit(s, clock, policy_id, unit_id, rule, cal)
        except Exception:  # noqa: BLE001 - one unit's failure must not block the others
            log.exception("二次督办通知 for %s/%s failed", policy_id, unit_id)
    return issued


def due_items(s: Session, day: date, rule: EscalationRule, cal: WorkCalendar,
              unit_id: str | None = None, policy_id: str | None = None) -> list[dict[str, Any]]:
    """The lead items at the 督办 level whose notice's reply deadline passed unanswered."""
    q = (select(WorkItem.id, WorkItem.unit_id, WorkItem.status, WorkItem.due_date,
                PolicyTask.policy_id, PolicyTask.number, PolicyTask.title, Cycle.label,
                Transition.at, Transition.ref_id)
         .join(Instance, Instance.id == WorkItem.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .join(Transition, and_(Transition.object_type == "work_item",
                                Transition.object_id == WorkItem.id,
                                Transition.field == "escalation",
                                Transition.to_state == EscalationLevel.NOTICED.value))
         .where(WorkItem.role == ItemRole.LEAD, WorkItem.status.in_(ACTIONABLE),
                WorkItem.escalation == EscalationLevel.NOTICED)
         .order_by(PolicyTask.number, WorkItem.due_date, WorkItem.id, Transition.at,
                   Transition.id))
    if unit_id is not None:
        q = q.where(WorkItem.unit_id == unit_id, PolicyTask.policy_id == policy_id)
    latest = {r.id: r for r in s.execute(q)}  # the last noticed transition of each item
    docs = {d.id: d for d in s.scalars(select(Document).where(Document.id.in_(
        [int(r.ref_id) for r in latest.values() if r.ref_id])))}
    found = []
    for r in latest.values():
        notice = docs.get(int(r.ref_id)) if r.ref_id else None
        if notice is None or light(r.status, r.due_date, day) is not Light.RED:
            continue
        reply_by = (date.fromisoformat(notice.data["reply_by"]) if "reply_by" in notice.data
                    else cal.add_working_days(notice.issued_on, rule.reply_working_days))
        if reply_by >= day or _replied(s, r.id, r.at, reply_by):
            continue
        found.append({**r._asdict(), "notice": notice, "reply_by": reply_by})
    return found


def _replied(s: Session, item_id: int, since: Any, reply_by: date) -> bool:
    """Whether the unit handed anything in between the notice and the end of its deadline."""
    return s.scalar(select(Evidence.id).where(
        Evidence.work_item_id == item_id, Evidence.submitted_at >= since,
        Evidence.submitted_at < overdue_from(reply_by)).limit(1)) is not None


def _notice_for_unit(s: Session, clock: Clock, policy_id: str, unit_id: str,
                     rule: EscalationRule, cal: WorkCalendar) -> int:
    """The unit's second notice listing the items reaching the level today; 1 if issued."""
    day = today(clock)
    rows = due_items(s, day, rule, cal, unit_id, policy_id)
    if not rows:
        return 0
    policy = s.get(Policy, policy_id)
    assert policy is not None
    names = unit_names(s, day)
    items = [EarlierNotice(
        documents.NoticeItem(r["number"], r["title"], r["label"], r["due_date"],
                             (day - r["due_date"]).days,
                             cal.working_days_between(r["due_date"], day)),
        r["notice"].number, r["notice"].issued_on, r["reply_by"]) for r in rows]
    reply_by = cal.add_working_days(day, rule.reply_working_days)

    def build(number: str, _issue: int) -> Draft:
        doc = SecondNoticeDoc(
            number=number, office=names[policy.supervisor_unit_id], unit=names[unit_id],
            issued_on=day, policy_title=policy.title, items=items,
            reply_within_working_days=rule.reply_working_days, reply_by=reply_by,
            contact=rule.contact, cc=rule.cc)
        return Draft(doc.title, second_notice_pdf(doc),
                     {"items": [r["id"] for r in rows], "addressee": doc.addressee,
                      "notices": sorted({r["notice"].id for r in rows}),
                      "reply_by": reply_by.isoformat()})

    doc = issue_document(s, clock, kind=DocumentKind.PRINCIPAL, policy_id=policy_id,
                         office=policy.data["doc_office"],
                         office_unit_id=policy.supervisor_unit_id, issued_on=day,
                         dedupe_key=f"principal:{policy_id}:{unit_id}:{day.isoformat()}",
                         unit_id=unit_id, build=build)
    if doc is None:
        return 0
    for r in rows:
        lifecycle.raise_level(s, clock, r["id"], EscalationLevel.PRINCIPAL,
                              reason=f"督办通知{r['notice'].number}答复期限"
                                     f"{r['reply_by'].isoformat()}已过，未报送办理情况",
                              ref=("document", doc.id))
    _send(s, clock, doc, names, items, policy.supervisor_unit_id)
    return 1


def _send(s: Session, clock: Clock, doc: Document, names: dict[str, str],
          items: list[EarlierNotice], office_unit_id: str) -> None:
    """The in-app note and the mail with the PDF to the unit, the office in copy."""
    assert doc.unit_id is not None
    listed = "；".join(f"任务{e.item.task_number}{quoted(e.item.task_title)}"
                      f"（{e.item.cycle_label}，督办通知{e.notice_number}，"
                      f"答复期限{documents.cn_date(e.reply_by)}）" for e in items)
    text = (f"{names[doc.unit_id]}主要负责同志：\n\n现将《{doc.title}》（{doc.number}）发给你单位，"
            f"请查收附件。以下督办事项已超过督办通知规定的答复期限，仍未报送办理情况：{listed}。"
            f"请主要负责同志亲自过问，按通知要求办理并报送；上述任务将在下一期通报中予以通报批评。\n"
            f"{signature(names, office_unit_id, doc.issued_on)}")
    send_document(s, clock, doc, office_unit_id, subject=f"【二次督办】{doc.number} {doc.title}",
                  text=text)
