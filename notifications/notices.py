"""Numbered documents and the 督办 level: one supervision notice per unit per day.

Numbering (皖经信督〔2018〕3号): one gap-free sequence per issuing office and year, shared by
notices and bulletins (the ``number`` column is unique across both). A number is allocated in
the same transaction that stores its document, so a rolled-back issue leaves no gap:

1. lock the issuing office's ``units`` row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite takes
   its single write lock on the first insert) so issuers of one office queue up;
2. under the lock, check the document's dedupe key (another process may have issued it) and
   take ``max(seq) + 1`` of the office and year;
3. render the PDF with that number, store it, insert the ``Document`` inside a savepoint; a
   unique violation (a writer that did not take the lock) rolls back the savepoint and retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine import lifecycle
from engine.blobs import store_blob
from engine.clock import Clock, today
from engine.errors import ConflictError
from engine.lights import Light, light
from engine.models import (
    ACTIONABLE,
    Cycle,
    EscalationLevel,
    Instance,
    ItemKind,
    ItemRole,
    Policy,
    PolicyTask,
    Unit,
    WorkItem,
)
from engine.text import quoted
from engine.units import unit_names
from engine.workdays import WorkCalendar, default_calendar
from notifications import documents
from notifications.mail import enqueue
from notifications.models import Document, DocumentKind
from notifications.notes import add_note, signature
from notifications.recipients import Recipients

log = logging.getLogger(__name__)

RETRIES = 5


def format_number(office: str, year: int, seq: int) -> str:
    """皖经信督〔2018〕3号."""
    return f"{office}〔{year}〕{seq}号"


@dataclass(frozen=True)
class Draft:
    """What a document builder returns once it knows its number."""

    title: str
    pdf: bytes
    data: dict[str, Any]


Builder = Callable[[str, int], Draft]  # (number, issue of its kind this year) -> Draft


def issue_document(s: Session, clock: Clock, *, kind: DocumentKind, office: str,
                   office_unit_id: str, issued_on: date, dedupe_key: str,
                   unit_id: str | None, build: Builder,
                   policy_id: str | None = None) -> Document | None:
    """Number, render and store one document; None if ``dedupe_key`` was issued already."""
    lock = select(Unit.id).where(Unit.id == office_unit_id)
    if s.get_bind().dialect.name == "postgresql":
        lock = lock.with_for_update()
    s.execute(lock)
    for _ in range(RETRIES):
        if s.scalar(select(Document.id).where(Document.dedupe_key == dedupe_key)) is not None:
            return None
        seq = (s.scalar(select(func.max(Document.seq)).where(
            Document.office == office, Document.year == issued_on.year)) or 0) + 1
        issue = (s.scalar(select(func.count(Document.id)).where(
            Document.kind == kind, Document.office == office,
            Document.year == issued_on.year)) or 0) + 1
        number = format_number(office, issued_on.year, seq)
        draft = build(number, issue)
        try:
            with s.begin_nested():
                doc = Document(kind=kind, policy_id=policy_id, year=issued_on.year, seq=seq,
                               number=number,
                               office=office, title=draft.title, unit_id=unit_id,
                               issued_on=issued_on, pdf_sha256=store_blob(s, draft.pdf),
                               data={**draft.data, "issue": issue}, dedupe_key=dedupe_key,
                               created_at=clock.now())
                s.add(doc)
                s.flush()
            return doc
        except IntegrityError:
            log.info("document number %s taken concurrently; retrying", number)
    raise ConflictError(f"公文编号分配失败（{office} {issued_on.year}），请稍后重试")


PDF_NAMES = {DocumentKind.NOTICE: "督办通知", DocumentKind.PRINCIPAL: "二次督办通知"}


def pdf_name(kind: DocumentKind, number: str) -> str:
    """The attachment's file name: 督办通知（皖经信督〔2018〕3号）.pdf."""
    return f"{PDF_NAMES.get(kind, '通报')}（{number}）.pdf"


# ---------------------------------------------------------------- the 督办 level
@dataclass(frozen=True)
class EscalationRule:
    """Escalate lead items still overdue after ``after_working_days`` working days."""

    after_working_days: int = 5
    reply_working_days: int = 5
    contact: documents.Contact | None = None
    cc: tuple[str, ...] = ()  # 抄送 line of the notice (the mail copy goes to the supervisors)


def due_for_escalation(due: date, day: date, rule: EscalationRule, cal: WorkCalendar) -> bool:
    """Whether an item due on ``due`` reaches the 督办 level on ``day`` (working days only)."""
    return cal.is_working_day(day) and cal.working_days_between(due, day) > rule.after_working_days


def escalate(sessions: sessionmaker[Session], clock: Clock, rule: EscalationRule | None = None,
             calendar: WorkCalendar | None = None) -> int:
    """Issue one 督办通知 per unit (and policy) whose lead items reached the level today."""
    rule, cal, day = rule or EscalationRule(), calendar or default_calendar(), today(clock)
    if not cal.is_working_day(day):
        return 0
    with sessions() as s:
        pairs = {(r.policy_id, r.unit_id) for r in s.execute(_candidates(day, rule, cal))
                 if r.escalation is EscalationLevel.URGED}
    issued = 0
    for policy_id, unit_id in sorted(pairs):
        try:
            with sessions() as s, s.begin():
                issued += _notice_for_unit(s, clock, policy_id, unit_id, rule, cal)
        except Exception:  # noqa: BLE001 - one unit's failure must not block the others
            log.exception("督办通知 for %s/%s failed", policy_id, unit_id)
    return issued


def _candidates(day: date, rule: EscalationRule, cal: WorkCalendar, unit_id: str | None = None,
                policy_id: str | None = None) -> Any:
    """Lead items urged (or further) whose due date is at least N working days + 1 ago."""
    latest_due = _latest_due(day, rule, cal)
    q = (select(WorkItem.id, WorkItem.unit_id, WorkItem.status, WorkItem.due_date,
                WorkItem.escalation, PolicyTask.policy_id,
                PolicyTask.number, PolicyTask.title, Cycle.label)
         .join(Instance, Instance.id == WorkItem.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .where(WorkItem.status.in_(ACTIONABLE), WorkItem.role == ItemRole.LEAD,
                WorkItem.kind == ItemKind.EVIDENCE,  # 签收 and progress stop at the 催办
                WorkItem.due_date <= latest_due,
                WorkItem.escalation != EscalationLevel.NONE)
         .order_by(PolicyTask.number, WorkItem.due_date, WorkItem.id))
    if unit_id is not None:
        q = q.where(WorkItem.unit_id == unit_id, PolicyTask.policy_id == policy_id)
    return q


def _latest_due(day: date, rule: EscalationRule, cal: WorkCalendar) -> date:
    """The latest due date with more than N working days between it and ``day``."""
    due = day - timedelta(days=1)
    while cal.working_days_between(due, day) <= rule.after_working_days:
        due -= timedelta(days=1)
    return due


def _notice_for_unit(s: Session, clock: Clock, policy_id: str, unit_id: str,
                     rule: EscalationRule, cal: WorkCalendar) -> int:
    """The unit's notice listing every lead item at the 督办 level; 1 if one was issued."""
    day = today(clock)
    rows = [r for r in s.execute(_candidates(day, rule, cal, unit_id, policy_id))
            if light(r.status, r.due_date, day) is Light.RED]
    if not any(r.escalation is EscalationLevel.URGED for r in rows):
        return 0
    policy = s.get(Policy, policy_id)
    assert policy is not None
    names = unit_names(s, day)
    office_name = names[policy.supervisor_unit_id]
    items = [documents.NoticeItem(r.number, r.title, r.label, r.due_date,
                                  (day - r.due_date).days,
                                  cal.working_days_between(r.due_date, day)) for r in rows]
    reply_by = cal.add_working_days(day, rule.reply_working_days)

    def build(number: str, _issue: int) -> Draft:
        doc = documents.NoticeDoc(
            number=number, office=office_name, addressee=names[unit_id], issued_on=day,
            policy_title=policy.title, items=items,
            reply_within_working_days=rule.reply_working_days,
            reply_by=reply_by, contact=rule.contact, cc=rule.cc)
        return Draft("关于督促办理逾期任务的督办通知", documents.notice_pdf(doc),
                     {"items": [r.id for r in rows], "addressee": names[unit_id],
                      "due_dates": sorted({r.due_date.isoformat() for r in rows}),
                      "reply_by": reply_by.isoformat()})

    doc = issue_document(s, clock, kind=DocumentKind.NOTICE, policy_id=policy_id,
                         office=policy.data["doc_office"],
                         office_unit_id=policy.supervisor_unit_id, issued_on=day,
                         dedupe_key=f"notice:{policy_id}:{unit_id}:{day.isoformat()}",
                         unit_id=unit_id, build=build)
    if doc is None:
        return 0
    for r in rows:
        if r.escalation is EscalationLevel.URGED:
            lifecycle.raise_level(s, clock, r.id, EscalationLevel.NOTICED,
                                  reason=f"逾期超过{rule.after_working_days}个工作日，"
                                         f"答复期限{reply_by.isoformat()}",
                                  ref=("document", doc.id))
    _send_notice(s, clock, doc, names, items, policy.supervisor_unit_id)
    return 1


def _send_notice(s: Session, clock: Clock, doc: Document, names: dict[str, str],
                 items: list[documents.NoticeItem], office_unit_id: str) -> None:
    """The in-app note, and the mail with the PDF to the unit, cc the supervising office."""
    assert doc.unit_id is not None
    listed = "；".join(f"任务{i.task_number}{quoted(i.task_title)}（{i.cycle_label}，办理时限"
                      f"{documents.cn_date(i.due_date)}，已逾期{i.days_overdue}天）" for i in items)
    text = (f"{names[doc.unit_id]}：\n\n现将《{doc.title}》（{doc.number}）发给你单位，请查收附件。"
            f"以下任务已逾期未办结：{listed}。请按通知要求办理并报送办理情况。\n"
            f"{signature(names, office_unit_id, doc.issued_on)}")
    send_document(s, clock, doc, office_unit_id, subject=f"【督办通知】{doc.number} {doc.title}",
                  text=text)


def send_document(s: Session, clock: Clock, doc: Document, office_unit_id: str, *,
                  subject: str, text: str) -> None:
    """A document addressed to a unit: its in-app note, and the mail with the PDF to the
    unit's liaisons, the supervising office in copy (or to the office alone when the unit has
    no address); both under the key ``<kind>:<document id>``."""
    assert doc.unit_id is not None
    key = f"{doc.kind.value}:{doc.id}"
    add_note(s, clock.now(), key=key, unit_id=doc.unit_id, kind=doc.kind.value, title=subject,
             body=text, link=f"/archive/{doc.id}.pdf")
    to = Recipients(s, doc.issued_on)
    recipients = to.unit(doc.unit_id)
    cc = [a for a in to.office(office_unit_id) if a not in recipients]
    if not recipients:
        recipients, cc = cc, []
    if not recipients:
        log.warning("%s %s: neither %s nor the office has a mail address", doc.kind.value,
                    doc.number, doc.unit_id)
        return
    enqueue(s, clock, dedupe_key=key, kind=doc.kind.value, to=recipients, cc=cc,
            subject=subject, text=text, related=("document", doc.id),
            stored=[{"filename": pdf_name(doc.kind, doc.number),
                     "content_type": "application/pdf", "sha256": doc.pdf_sha256}])
