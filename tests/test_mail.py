"""The outbox against a real SMTP server (aiosmtpd): content, outages, retries, the crash window."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from engine.clock import ManualClock
from engine.config import Config
from engine.errors import ValidationError
from engine.models import Blob
from notifications.mail import (
    RetryPolicy,
    deliver,
    enqueue,
    message_id_for,
    outbox_counts,
    requeue,
)
from notifications.models import Document, DocumentKind, OutboxMessage, OutboxStatus
from notifications.transport import (
    EmlTransport,
    SmtpTransport,
    transport_from_config,
)

SENDER = "安徽省经信委督办系统 <duban@jx.example.cn>"
PDF = b"%PDF-1.4\n" + "督办通知".encode() + bytes(range(256))
PDF_NAME = "督办通知（皖政督〔2018〕3号）.pdf"


def _enqueue(session, clock, key: str, **kw):
    args = dict(kind="notice", to=[("合肥市人民政府", "hefei@example.cn")],
                subject=f"关于任务 {key} 的督办通知", text="请于 2018年8月30日前 报送。",
                html="<p>请于 <b>2018年8月30日前</b> 报送。</p>")
    args.update(kw)
    return enqueue(session, clock, dedupe_key=key, **args)


def _fill(db, clock, n: int, prefix: str = "m") -> None:
    with db.begin() as s:
        for i in range(n):
            _enqueue(s, clock, f"{prefix}:{i}")


def _rows(db) -> list[OutboxMessage]:
    with db() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_chinese_mail_arrives_intact(db, clock, smtp_server):
    with db.begin() as s:
        msg = _enqueue(s, clock, "notice:1", to=["合肥市人民政府 <hefei@example.cn>"],
                       cc=[("安徽省经信委", "jxw@example.cn")],
                       attachments=[(PDF_NAME, "application/pdf", PDF)], related=("document", 7))
        assert msg is not None and msg.related_id == "7"
    assert deliver(db, clock, SmtpTransport(smtp_server.url, sender=SENDER)) == 1

    [got] = smtp_server.received
    mail = got.message
    assert sorted(got.rcpt_tos) == ["hefei@example.cn", "jxw@example.cn"]
    assert mail["Subject"] == "关于任务 notice:1 的督办通知"
    assert mail["From"].addresses[0].display_name == "安徽省经信委督办系统"
    assert mail["To"].addresses[0].display_name == "合肥市人民政府"
    assert mail["Cc"].addresses[0].addr_spec == "jxw@example.cn"
    assert mail["Message-ID"] == message_id_for("notice:1")
    assert mail.get_body(("plain",)).get_content().strip() == "请于 2018年8月30日前 报送。"
    assert "<b>2018年8月30日前</b>" in mail.get_body(("html",)).get_content()
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == PDF_NAME
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == PDF
    [row] = _rows(db)
    assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.SENT, 1, clock.now())


def test_duplicate_enqueue_adds_nothing(db, clock):
    attachment = [(PDF_NAME, "application/pdf", PDF)]
    with db.begin() as s:
        assert _enqueue(s, clock, "reminder:1:T-7", attachments=attachment) is not None
        assert _enqueue(s, clock, "reminder:1:T-7", subject="另一个") is None
    with db.begin() as s:
        assert _enqueue(s, clock, "reminder:1:T-7", attachments=attachment) is None
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert s.scalar(select(func.count()).select_from(Blob)) == 1
        assert s.scalar(select(OutboxMessage.subject)) == "关于任务 reminder:1:T-7 的督办通知"


def test_bad_address_is_refused(db, clock):
    with db.begin() as s, pytest.raises(ValidationError, match="邮件地址无效"):
        _enqueue(s, clock, "x", to=["合肥市人民政府"])
    with db.begin() as s, pytest.raises(ValidationError, match="没有收件人"):
        _enqueue(s, clock, "y", to=[])


def test_outage_keeps_everything_then_delivers_each_once(db, clock, smtp_server):
    _fill(db, clock, 5)
    transport = SmtpTransport(smtp_server.url, sender=SENDER, timeout=5)
    smtp_server.stop()
    assert deliver(db, clock, transport) == 0
    assert deliver(db, clock, transport) == 0  # not due again yet: no second attempt
    for row in _rows(db):
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
        assert "不可用" in (row.last_error or "")
        assert row.next_attempt_at == clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=1))
    assert deliver(db, clock, transport) == 0
    assert {r.next_attempt_at for r in _rows(db)} == {clock.now() + timedelta(minutes=2)}

    smtp_server.start()
    clock.advance(timedelta(minutes=2))
    assert deliver(db, clock, transport) == 5
    assert deliver(db, clock, transport) == 0
    ids = sorted(str(r.message["Message-ID"]) for r in smtp_server.received)
    assert ids == sorted(message_id_for(f"m:{i}") for i in range(5))
    assert {(r.status, r.attempts) for r in _rows(db)} == {(OutboxStatus.SENT, 3)}


def test_gives_up_after_max_attempts_and_requeue(db, clock, smtp_server):
    _fill(db, clock, 1)
    smtp_server.stop()
    retry = RetryPolicy(max_attempts=3)
    transport = SmtpTransport(smtp_server.url, timeout=5)
    for _ in range(5):
        deliver(db, clock, transport, policy=retry)
        clock.advance(timedelta(hours=2))
    [row] = _rows(db)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert row.last_error
    with db.begin() as s:
        assert outbox_counts(s) == {"failed": 1}
        assert requeue(s, clock, row.id) and not requeue(s, clock, row.id)
    smtp_server.start()
    assert deliver(db, clock, transport) == 1


def test_backoff_doubles_and_is_capped():
    retry = RetryPolicy(first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=30))
    assert [retry.delay(n).total_seconds() / 60 for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_permanent_refusal_fails_at_once(db, clock, smtp_server):
    _fill(db, clock, 1)
    smtp_server.refuse = "550 5.1.1 mailbox unavailable"
    assert deliver(db, clock, SmtpTransport(smtp_server.url)) == 0
    [row] = _rows(db)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert "550" in (row.last_error or "")


def test_one_bad_row_does_not_block_the_rest(db, clock, smtp_server):
    with db.begin() as s:
        _enqueue(s, clock, "a:0", attachments=[("缺失.pdf", "application/pdf", b"gone")])
        s.flush()
        s.execute(delete(Blob))
        _enqueue(s, clock, "a:1")
        _enqueue(s, clock, "a:2")
    assert deliver(db, clock, SmtpTransport(smtp_server.url)) == 2
    by_key = {r.dedupe_key: r for r in _rows(db)}
    assert by_key["a:0"].status == OutboxStatus.FAILED
    assert "附件内容缺失" in (by_key["a:0"].last_error or "")
    assert len(smtp_server.received) == 2


class Crash(BaseException):
    """The process dies: nothing after this runs."""


class CrashAfterSend:
    """Sends through SMTP, then 'dies' once before deliver can record the result."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner
        self.sender = inner.sender
        self.crashed = False

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        if not self.crashed:
            self.crashed = True
            raise Crash()


def test_crash_between_send_and_record_resends_once(db, clock, smtp_server):
    """A claim of a live process (here: this one) waits for its lease on the wall clock."""
    _fill(db, clock, 2)
    transport = SmtpTransport(smtp_server.url)
    wall = ManualClock(clock.now())
    with pytest.raises(Crash):
        deliver(db, clock, CrashAfterSend(transport), wall=wall)
    assert [(r.status, r.attempts) for r in _rows(db)] == [(OutboxStatus.SENDING, 1)] * 2
    assert len(smtp_server.received) == 1
    clock.advance(timedelta(days=1))  # the business clock moving never frees a claim
    assert deliver(db, clock, transport, wall=wall) == 0

    wall.advance(RetryPolicy().lease + timedelta(seconds=1))
    assert deliver(db, clock, transport, wall=wall) == 2
    assert deliver(db, clock, transport, wall=wall) == 0
    ids = [str(r.message["Message-ID"]) for r in smtp_server.received]
    assert sorted(ids) == sorted([message_id_for("m:0")] * 2 + [message_id_for("m:1")])
    assert [(r.status, r.attempts) for r in _rows(db)] == [(OutboxStatus.SENT, 2)] * 2


def test_two_threads_deliver_each_message_once_on_sqlite(db, clock, smtp_server):
    _fill(db, clock, 40)
    transport = SmtpTransport(smtp_server.url)
    counts: list[int] = []
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        counts.append(deliver(db, clock, transport, batch=5))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 40
    ids = [str(r.message["Message-ID"]) for r in smtp_server.received]
    assert len(ids) == len(set(ids)) == 40


def test_eml_transport_writes_parseable_files(db, clock, tmp_path: Path):
    with db.begin() as s:
        _enqueue(s, clock, "bulletin:2018:1", attachments=[(PDF_NAME, "application/pdf", PDF)])
    transport = transport_from_config(Config(data_dir=tmp_path, mail_from=SENDER))
    assert isinstance(transport, EmlTransport)
    assert deliver(db, clock, transport) == 1
    [path] = (tmp_path / "outbox").iterdir()
    assert path == transport.path_for("bulletin:2018:1") and path.suffix == ".eml"
    mail = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert mail["Subject"] == "关于任务 bulletin:2018:1 的督办通知"
    assert mail["From"].addresses[0].display_name == "安徽省经信委督办系统"
    [part] = list(mail.iter_attachments())
    assert (part.get_filename(), part.get_content()) == (PDF_NAME, PDF)


def test_smtp_url_parsing():
    t = transport_from_config(Config(smtp_url="smtps://u%40x:p%3Aw@mail.example.cn"))
    assert isinstance(t, SmtpTransport)
    assert (t.host, t.port, t.ssl, t.user, t.password) == (
        "mail.example.cn", 465, True, "u@x", "p:w")
    t = SmtpTransport("smtp://127.0.0.1:2525?starttls=1")
    assert (t.port, t.ssl, t.starttls, t.user) == (2525, False, True, None)
    with pytest.raises(ValidationError, match="DUBAN_SMTP_URL"):
        SmtpTransport("http://example.cn")


def test_document_number_is_unique(db, clock):
    with db() as s:
        s.add(Blob(sha256="0" * 64, data=b"%PDF"))
        for i in range(2):
            s.add(Document(kind=DocumentKind.NOTICE, year=2018, seq=3 + i, office="皖政督",
                           number="皖政督〔2018〕3号", title="督办通知",
                           issued_on=date(2018, 9, 3),
                           pdf_sha256="0" * 64, data={}, dedupe_key=f"notice:{i}",
                           created_at=clock.now()))
        with pytest.raises(IntegrityError, match="number"):
            s.flush()
