"""An SMTP outage of days (issue 10, item 3): retried with a capped backoff for the configured
days, then failed; the admin's 全部重新发送; pointless reminders skipped, late mail marked."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from engine.access import Actor
from engine.clock import CHINA_TZ, ManualClock
from engine.models import AuditEvent, Role, Unit, User, WorkItem
from notifications.advance import advance
from notifications.delivery import deliver_report
from notifications.mail import RetryPolicy, enqueue
from notifications.models import OutboxMessage, OutboxStatus
from notifications.outbox import attention, retry_failed
from notifications.transport import SmtpTransport
from tests.engine_fixtures import make_runtime

DOWN, UP = date(2018, 8, 22), date(2018, 9, 12)  # three weeks without SMTP


def _replay_runtime(tmp_path, smtp_url: str, retry_days: int | None = None):
    clock = ManualClock(datetime(2018, 8, 15, 0, 0, tzinfo=CHINA_TZ))
    rt = make_runtime(tmp_path, clock=clock)
    config = dataclasses.replace(rt.config, smtp_url=smtp_url,
                                 mail_retry_days=retry_days or rt.config.mail_retry_days)
    rt = dataclasses.replace(rt, config=config)
    with rt.sessions() as s, s.begin():
        for unit in s.scalars(select(Unit)):
            s.add(User(username=unit.id, display_name=unit.id, password_hash="x",
                       role=Role.LIAISON, unit_id=unit.id, email=f"{unit.id}@ah.example.cn",
                       active=True, created_at=clock.now()))
    return rt


def test_three_week_outage_in_a_replay_delivers_everything_once(tmp_path, smtp_server):
    rt = _replay_runtime(tmp_path, smtp_server.url)  # the default settings: nobody's hand
    advance(rt, DOWN - timedelta(days=1))
    before = len(smtp_server.received)
    smtp_server.stop()
    advance(rt, UP - timedelta(days=1))
    assert len(smtp_server.received) == before
    with rt.sessions() as s:
        waiting = s.scalars(select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING)).all()
        # one attempt on each simulated day since it was written (the backoff is under a day)
        assert waiting and all(
            m.attempts == (UP - m.created_at.astimezone(CHINA_TZ).date()).days for m in waiting)
    smtp_server.start()
    advance(rt, UP + timedelta(days=2))

    with rt.sessions() as s:
        rows = {m.dedupe_key: m for m in s.scalars(select(OutboxMessage))}
        due = {m.dedupe_key: s.get(WorkItem, int(m.related_id)).due_date
               for m in rows.values() if m.status is OutboxStatus.SKIPPED}
    assert {m.status for m in rows.values()} == {OutboxStatus.SENT, OutboxStatus.SKIPPED}
    got = Counter(str(m.message["X-Duban-Key"]) for m in smtp_server.received)
    sent = {k for k, m in rows.items() if m.status is OutboxStatus.SENT}
    assert got == Counter(dict.fromkeys(sent, 1))  # every message once, none twice
    # reminders whose due date passed during the outage were not sent, with the reason
    assert due and all(k.startswith("reminder:") for k in due)
    assert all(day < UP for day in due.values())
    assert all("已过截止日期" in (rows[k].note or "") for k in due)
    # what went out late says so, what went out on its day does not
    for mail in smtp_server.received:
        row = rows[str(mail.message["X-Duban-Key"])]
        body = mail.message.get_body(("plain",)).get_content()
        late = row.sent_at.astimezone(CHINA_TZ).date() > row.created_at.astimezone(CHINA_TZ).date()
        assert ("因邮件服务中断延迟" in body) is late, row.dedupe_key
        assert (row.note is not None) is late
    assert any(k.startswith("notice:") and rows[k].note for k in rows)  # 督办通知 of 09-07
    late = sum(1 for k in sent if rows[k].note)
    print(f"\noutage {DOWN}..{UP - timedelta(days=1)}: {len(rows)} outbox rows, {len(sent)} "
          f"messages delivered once each ({late} marked late), {len(due)} reminders skipped, "
          f"at most {max(m.attempts for m in rows.values())} attempts")


def test_outage_longer_than_the_retry_window_fails_then_retry_all_delivers(db, smtp_server):
    clock = ManualClock(datetime.combine(DOWN, time(8), CHINA_TZ))
    with db.begin() as s:
        for i in range(3):
            enqueue(s, clock, dedupe_key=f"urge:{i}", kind="urge", to=["x@example.cn"],
                    subject=f"催办 {i}", text="请抓紧办理。")
    transport = SmtpTransport(smtp_server.url, timeout=5)
    retry = RetryPolicy.from_days(7)
    smtp_server.stop()
    delays = []
    for _ in range(10):  # ten days, several attempts a day while the backoff is short
        for _ in range(4):
            report = deliver_report(db, clock, transport, policy=retry)
            with db() as s:
                delays += [m.next_attempt_at - clock.now() for m in s.scalars(
                    select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))]
            clock.advance(timedelta(hours=2))
        clock.set(datetime.combine(clock.now().date() + timedelta(days=1), time(8), CHINA_TZ))
    assert max(delays) == timedelta(hours=1)  # the backoff is capped
    with db() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        assert {m.status for m in rows} == {OutboxStatus.FAILED}
        assert all(m.last_attempt_at - m.first_attempt_at >= timedelta(days=7) for m in rows)
        assert attention(s, clock).failed == 3
    admin = Actor(user_id=None, username="admin", role=Role.ADMIN, unit_id=None)
    with db.begin() as s:
        assert retry_failed(s, clock, admin) == 3
        assert s.scalars(select(AuditEvent.action)).all() == ["retry_mail"]
    smtp_server.start()
    report = deliver_report(db, clock, transport, policy=retry)
    assert (report.sent, report.failed) == (3, 0)
    assert sorted(str(m.message["X-Duban-Key"]) for m in smtp_server.received) == [
        "urge:0", "urge:1", "urge:2"]
    assert all("因邮件服务中断延迟" in m.message.get_body(("plain",)).get_content()
               for m in smtp_server.received)


def test_reminder_of_an_item_no_longer_open_is_skipped(tmp_path, smtp_server):
    rt = _replay_runtime(tmp_path, smtp_server.url, retry_days=7)
    advance(rt, date(2018, 8, 23))  # T-7 of the items due 08-30 is queued and sent
    with rt.sessions() as s, s.begin():
        item = s.scalars(select(WorkItem).where(WorkItem.unit_id == "hefei")).first()
        enqueue(s, rt.clock, dedupe_key="reminder:test", kind="reminder",
                to=["hefei@ah.example.cn"], subject="提醒", text="请报送。",
                related=("work_item", item.id))
        item.status = item.status.CLOSED
    report = deliver_report(rt.sessions, rt.clock, SmtpTransport(smtp_server.url))
    assert (report.sent, report.skipped) == (0, 1)
    with rt.sessions() as s:
        row = s.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == "reminder:test")).one()
    assert row.status is OutboxStatus.SKIPPED and "已办结" in (row.note or "")
