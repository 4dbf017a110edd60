"""The outbox under real concurrency on PostgreSQL: two processes, two threads."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine.clock import CHINA_TZ, ManualClock
from engine.db import make_engine, session_factory
from notifications.mail import deliver, enqueue, message_id_for
from notifications.models import OutboxMessage, OutboxStatus
from notifications.transport import SmtpTransport

pytestmark = pytest.mark.postgres

NOW = datetime(2018, 6, 1, 9, 0, tzinfo=CHINA_TZ)


def _deliver_in_child(db_url: str, smtp_url: str, barrier, results) -> None:
    """A separate process (spawned): deliver the whole outbox, report how many it sent."""
    engine = make_engine(db_url)
    barrier.wait(timeout=60)
    sent = deliver(session_factory(engine), ManualClock(NOW), SmtpTransport(smtp_url), batch=10)
    engine.dispose()
    results.put(sent)


def test_two_processes_deliver_each_message_exactly_once(pg_db, pg_url, clock, smtp_server):
    with pg_db.begin() as s:
        for i in range(200):
            enqueue(s, clock, dedupe_key=f"load:{i}", kind="reminder",
                    to=[(f"第{i % 17}单位", f"u{i % 17}@example.cn")],
                    subject=f"催办提醒 {i}", text=f"第 {i} 条：请按时报送。")
    smtp_server.delay = 0.005  # keeps both processes busy long enough to overlap
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_deliver_in_child, args=(pg_url, smtp_server.url, barrier, results))
             for _ in range(2)]
    for p in procs:
        p.start()
    counts = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    ids = [str(r.message["Message-ID"]) for r in smtp_server.received]
    assert len(ids) == 200
    assert set(ids) == {message_id_for(f"load:{i}") for i in range(200)}
    assert sum(counts) == 200 and min(counts) > 0, counts  # both worked, none twice
    with pg_db() as s:
        rows = s.execute(select(OutboxMessage.status, func.count())
                         .group_by(OutboxMessage.status)).all()
    assert rows == [(OutboxStatus.SENT, 200)]


def test_two_threads_enqueue_same_key_one_row(pg_db, clock):
    start = threading.Barrier(2)
    outcomes: list[bool] = []

    def work() -> None:
        with pg_db.begin() as s:
            start.wait(timeout=30)
            msg = enqueue(s, clock, dedupe_key="escalation:42", kind="notice",
                          to=["合肥市人民政府 <hefei@example.cn>"], subject="督办通知",
                          text="逾期未报送。")
            outcomes.append(msg is not None)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False, True]
    with pg_db() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
