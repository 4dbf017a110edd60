"""The mail of the replay as the SMTP server got it, and the summary against the database."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date
from email.utils import getaddresses, parsedate_to_datetime

import replay_facts
from conftest import Replay
from replay_readers import Mail
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from engine.clock import CHINA_TZ
from engine.config import Config
from engine.models import Instance, ItemStatus, Role, Unit, User, WorkItem
from notifications.models import (
    Document,
    DocumentKind,
    Notification,
    OutboxMessage,
    OutboxStatus,
)
from simulator.replay import SIM_DOMAIN

CJK = re.compile(r"[\u4e00-\u9fff]")
SUPERVISOR = f"duchao@{SIM_DOMAIN}"
RENAMED = ("jxw", "jrb")
OUTCOMES = ("returned", "approved", "extension", "assigned")
PLAN_OUTCOMES = ("plan_approved", "plan_returned")  # keyed plan:<plan id>, about an item


def liaison(unit: str) -> str:
    return f"liaison.{unit}@{SIM_DOMAIN}"


def _outbox(replay: Replay) -> dict[str, OutboxMessage]:
    with replay.sessions() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        s.expunge_all()
    return {row.dedupe_key: row for row in rows}


def test_summary_agrees_with_the_database(replay: Replay) -> None:
    summary = replay.summary
    written = json.loads((replay.req.out / "summary.json").read_text(encoding="utf-8"))
    assert written == summary
    with replay.sessions() as s:
        items = {st.value: n for st, n in s.execute(
            select(WorkItem.status, func.count()).group_by(WorkItem.status))}
        docs = Counter(d.kind for d in s.scalars(select(Document)))
        mail = Counter(m.status for m in s.scalars(select(OutboxMessage)))
        instances = s.scalar(select(func.count(Instance.id)))
    assert summary["work_items"] == items
    assert set(items) <= {st.value for st in ItemStatus} and items.get("closed")
    assert summary["notices"] == docs[DocumentKind.NOTICE] > 0
    assert summary["second_notices"] == docs[DocumentKind.PRINCIPAL] > 0
    assert summary["bulletins"] == docs[DocumentKind.BULLETIN] > 0
    assert summary["emails"] == sum(mail.values()) > 0
    assert summary["emails_sent"] == mail[OutboxStatus.SENT] == summary["emails"]
    assert sum(summary["instances"].values()) == instances
    assert sum(summary["emails_by_kind"].values()) == summary["emails"]


def test_every_message_arrived_once_and_parses_cleanly(replay: Replay, mails: list[Mail]) -> None:
    outbox = _outbox(replay)
    assert len(mails) == replay.summary["emails_sent"]
    ids = Counter(m.headers.get("Message-ID") for m in mails)
    assert [i for i, n in ids.items() if n > 1] == []
    assert {m.key for m in mails} == set(outbox)
    sender = Config.from_env().mail_from
    for m in mails:
        assert m.defects == (), m.key
        row = outbox[m.key]
        assert m.headers["Message-ID"] == row.message_id
        assert m.mail_from == sender and m.headers["From"] == sender
        sent = parsedate_to_datetime(m.headers["Date"])
        assert sent == row.created_at.astimezone(CHINA_TZ)


def test_subjects_and_texts_are_chinese_and_decoded(replay: Replay, mails: list[Mail]) -> None:
    outbox = _outbox(replay)
    for m in mails:
        row = outbox[m.key]
        assert m.raw_headers.isascii(), m.key  # RFC 2047 encoded, no raw 8-bit headers
        assert m.headers["Subject"] == row.subject and CJK.search(row.subject), m.key
        assert "=?" not in m.headers["Subject"]
        assert m.text.strip() == row.body_text.strip() and CJK.search(m.text), m.key


def _expected_recipients(replay: Replay) -> dict[str, tuple[set[str], set[str]]]:
    """dedupe key -> (to, cc) addresses the recipient rule gives in the simulated world."""
    with replay.sessions() as s:
        rows = s.execute(select(OutboxMessage.dedupe_key, OutboxMessage.kind,
                                OutboxMessage.related_id)).all()
        item_unit = {i: u for i, u in s.execute(select(WorkItem.id, WorkItem.unit_id))}
        doc_unit = {d.id: d.unit_id for d in s.scalars(select(Document))}
    found: dict[str, tuple[set[str], set[str]]] = {}
    for key, kind, related in rows:
        if kind in ("reminder", "urge", *OUTCOMES, *PLAN_OUTCOMES):
            found[key] = ({liaison(item_unit[int(str(related))])}, set())
        elif kind in ("notice", "principal"):  # 督办通知, 二次督办通知: the office in copy
            found[key] = ({liaison(str(doc_unit[int(str(related))]))}, {SUPERVISOR})
        else:
            unit = key.rsplit(":", 1)[1]
            found[key] = ({SUPERVISOR if unit == "office" else liaison(unit)}, set())
    return found


def test_recipients_are_the_units_liaisons_and_the_supervising_office(
        replay: Replay, mails: list[Mail]) -> None:
    want = _expected_recipients(replay)
    with replay.sessions() as s:
        names = {e: n for e, n in s.execute(select(User.email, User.display_name))}
    for m in mails:
        to, cc = want[m.key]
        assert set(m.rcpt_tos) == to | cc, m.key
        got_to = getaddresses([m.headers["To"]])
        assert {addr for _, addr in got_to} == to, m.key
        assert all(name == names[addr] for name, addr in got_to), m.key
        assert {addr for _, addr in getaddresses([m.headers.get("Cc", "")]) if addr} == cc


def test_every_bulletin_reached_every_unit_and_the_office_once(
        replay: Replay, mails: list[Mail]) -> None:
    with replay.sessions() as s:
        units = set(s.scalars(select(Unit.id)))
        supervisor = s.scalars(select(User).where(User.role == Role.SUPERVISOR)).one()
        bulletins = {d.id for d in s.scalars(select(Document).where(
            Document.kind == DocumentKind.BULLETIN))}
    assert supervisor.unit_id == "dcs"  # the supervising office of the policy
    got: dict[int, Counter[str]] = defaultdict(Counter)
    for m in mails:
        if m.key.startswith("bulletin:"):
            got[int(m.key.split(":")[1])].update(m.rcpt_tos)
    assert set(got) == bulletins
    everyone = {liaison(u) for u in units} | {SUPERVISOR}
    for doc_id, counts in got.items():
        assert set(counts) == everyone and set(counts.values()) == {1}, doc_id


def test_notices_and_bulletins_carry_their_pdf(replay: Replay, mails: list[Mail]) -> None:
    outbox = _outbox(replay)
    with replay.sessions() as s:
        docs = {str(d.id): (d.kind, d.number, d.pdf_sha256) for d in s.scalars(select(Document))}
    for m in mails:
        row = outbox[m.key]
        if row.kind in ("reminder", "urge", *OUTCOMES, *PLAN_OUTCOMES):
            assert m.attachments == (), m.key
            continue
        kind, number, digest = docs[str(row.related_id)]
        label = {DocumentKind.NOTICE: "督办通知",
                 DocumentKind.PRINCIPAL: "二次督办通知"}.get(kind, "通报")
        assert row.kind == kind.value
        [pdf] = m.attachments
        assert pdf.content_type == "application/pdf" and pdf.head.startswith(b"%PDF-")
        assert pdf.filename == f"{label}（{number}）.pdf"
        assert pdf.sha256 == digest, m.key


def test_mail_names_renamed_units_by_their_name_of_the_day(
        replay: Replay, mails: list[Mail]) -> None:
    with replay.sessions() as s:
        units = s.scalars(select(Unit).where(Unit.id.in_(RENAMED))
                          .options(selectinload(Unit.names))).all()
        all_names = {u.id: {n.name for n in u.names} for u in units}
        checked: set[tuple[str, bool]] = set()
        for m in mails:
            day = parsedate_to_datetime(m.headers["Date"]).astimezone(CHINA_TZ).date()
            for unit in units:
                today = unit.name_on(day)
                for name in all_names[unit.id] - {today}:
                    assert name not in m.text, (m.key, name)
                if today in m.text:
                    checked.add((unit.id, day >= date(2018, 10, 26)))
    assert {("jxw", False), ("jxw", True)} <= checked


def test_every_outcome_reached_its_unit_once(replay: Replay, mails: list[Mail]) -> None:
    """Each review, extension decision and new assignment: one note and one mail, to the
    unit's liaison only (the oracle rebuilds the keys from the reviews, extensions and items)."""
    with replay.sessions() as s:
        want = replay_facts.outcome_messages(s)
        notes = {str(n.dedupe_key): n.unit_id for n in s.scalars(
            select(Notification).where(Notification.kind.in_(OUTCOMES)))}
    assert {k.split(":")[0] for k in want} == set(OUTCOMES)
    assert notes == want
    arrived = Counter(m.key for m in mails if m.key.split(":")[0] in OUTCOMES)
    assert set(arrived) == set(want) and set(arrived.values()) == {1}
    for m in mails:
        if m.key in want:
            assert m.rcpt_tos == (liaison(want[m.key]),), m.key


def test_every_decided_plan_reached_its_lead_unit_once(replay: Replay, mails: list[Mail]) -> None:
    """The simulated units propose 形象进度 plans and the supervisor decides them: each
    decision is one mail to the lead unit's liaison."""
    from engine.models import Plan, PlanStatus

    with replay.sessions() as s:
        decided = {f"plan:{p.id}": p.unit_id for p in s.scalars(select(Plan).where(
            Plan.status != PlanStatus.SUBMITTED))}
    assert len(decided) > 10
    arrived = Counter(m.key for m in mails if m.key.startswith("plan:"))
    assert set(arrived) == set(decided) and set(arrived.values()) == {1}
    for m in mails:
        if m.key in decided:
            assert m.rcpt_tos == (liaison(decided[m.key]),), m.key
