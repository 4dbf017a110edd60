"""Owned claims on the wall clock, a crash reclaimed at once, the attempt recorded before the send
(issue 10, items 1, 2 and 9), against a real SMTP server."""

from __future__ import annotations

import socket
import subprocess
from collections import Counter
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pg
import pytest
from aiosmtpd.controller import Controller
from reliability_tools import PYTHON, ROOT, HoldingHandler
from sqlalchemy import select

from engine.clock import ManualClock
from notifications.delivery import Owner, deliver_report
from notifications.mail import enqueue, message_id_for
from notifications.models import OutboxMessage, OutboxStatus
from notifications.transport import SmtpTransport

CHILD = """
import sys
from datetime import datetime
from engine.clock import ManualClock
from engine.db import make_engine, session_factory
from notifications.mail import deliver
from notifications.transport import SmtpTransport
url, smtp, now = sys.argv[1:]
deliver(session_factory(make_engine(url)), ManualClock(datetime.fromisoformat(now)),
        SmtpTransport(smtp, timeout=600))  # the test holds the reply until it has killed us
"""


def _fill(db, clock, n: int) -> None:
    with db.begin() as s:
        for i in range(n):
            enqueue(s, clock, dedupe_key=f"m:{i}", kind="notice", to=["合肥 <hefei@example.cn>"],
                    subject=f"督办通知 {i}", text="请于 2018年8月30日前 报送。")


def _rows(db) -> list[OutboxMessage]:
    with db() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _ids(raw: list[bytes]) -> Counter[str]:
    parse = BytesParser(policy=policy.default).parsebytes
    return Counter(str(parse(m)["Message-ID"]) for m in raw)


def _dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_kill_9_while_sending_is_reclaimed_at_once_by_the_restart(db, db_url, clock):
    _fill(db, clock, 3)
    handler = HoldingHandler()
    port = pg.free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    url = f"smtp://127.0.0.1:{port}"
    child = subprocess.Popen([PYTHON, "-c", CHILD, db_url, url, clock.now().isoformat()],
                             cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        assert handler.got_first.wait(300), "the child never sent"
        # the server has the first message; the child waits for its 250: the send window
        rows = _rows(db)
        assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.SENDING, 1)}
        assert {r.claimed_by for r in rows} == {f"{socket.gethostname()}:{child.pid}"}
        assert {r.last_attempt_at for r in rows} == {clock.now()}
        child.kill()
        assert child.wait(60) == -9
    finally:
        handler.release.set()
    try:
        report = deliver_report(db, clock, SmtpTransport(url))  # the restart: no lease to wait for
    finally:
        server.stop()
    assert (report.released, report.sent) == (3, 3)
    assert [(r.status, r.attempts) for r in _rows(db)] == [(OutboxStatus.SENT, 2)] * 3
    got = _ids(handler.received)
    assert got == {message_id_for("m:0"): 2, message_id_for("m:1"): 1, message_id_for("m:2"): 1}


class CrashAfterSend:
    """Sends, then the process 'dies' (BaseException) before the result is recorded."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner, self.sender = inner, inner.sender

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise KeyboardInterrupt  # nothing after this runs


def test_injected_crash_of_another_process_is_released_not_waited_for(db, clock, smtp_server):
    _fill(db, clock, 2)
    transport = SmtpTransport(smtp_server.url)
    dead = Owner(socket.gethostname(), _dead_pid())
    with pytest.raises(KeyboardInterrupt):
        deliver_report(db, clock, CrashAfterSend(transport), owner=dead)
    assert {r.claimed_by for r in _rows(db)} == {str(dead)}
    report = deliver_report(db, clock, transport)  # same business and wall time: no lease lapsed
    assert (report.released, report.sent) == (2, 2)
    assert [(r.status, r.attempts) for r in _rows(db)] == [(OutboxStatus.SENT, 2)] * 2
    ids = Counter(str(r.message["Message-ID"]) for r in smtp_server.received)
    assert ids == {message_id_for("m:0"): 2, message_id_for("m:1"): 1}


def test_a_live_claim_of_another_host_waits_for_its_wall_clock_lease(db, clock, smtp_server):
    _fill(db, clock, 1)
    transport = SmtpTransport(smtp_server.url)
    wall = ManualClock(clock.now())
    other = Owner("other-host", 1)
    with pytest.raises(KeyboardInterrupt):
        deliver_report(db, clock, CrashAfterSend(transport), wall=wall, owner=other)
    clock.advance(timedelta(days=1))  # another process moves the simulated clock a day
    assert deliver_report(db, clock, transport, wall=wall).sent == 0
    wall.advance(timedelta(minutes=10, seconds=1))
    assert deliver_report(db, clock, transport, wall=wall).sent == 1


class ClockMover:
    """While a message is in the SMTP call, another process moves the simulated clock a day
    and runs its own delivery (the race of two ``tick --until``)."""

    def __init__(self, inner: SmtpTransport, db, clock: ManualClock) -> None:
        self.inner, self.sender, self.db, self.clock = inner, inner.sender, db, clock
        self.other_sent = 0

    def send(self, message: EmailMessage) -> None:
        if not self.other_sent:
            self.clock.advance(timedelta(days=1))
            self.other_sent += 1 + deliver_report(self.db, self.clock, self.inner,
                                                  owner=Owner("other-host", 2)).sent
        self.inner.send(message)


def test_moving_the_simulated_clock_does_not_free_a_claim(db, clock, smtp_server):
    _fill(db, clock, 3)
    mover = ClockMover(SmtpTransport(smtp_server.url), db, clock)
    assert deliver_report(db, clock, mover).sent == 3
    assert mover.other_sent == 1  # the other process found every row claimed
    ids = Counter(str(r.message["Message-ID"]) for r in smtp_server.received)
    assert sorted(ids.values()) == [1, 1, 1]
    assert {(r.status, r.attempts) for r in _rows(db)} == {(OutboxStatus.SENT, 1)}
