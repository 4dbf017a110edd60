"""Two processes tick the same days at once on PostgreSQL: nothing twice, nothing skipped."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import CHINA_TZ, ManualClock
from engine.models import ItemKind, Role, Unit, User, WorkItem
from notifications.models import Document, DocumentKind, OutboxMessage, OutboxStatus
from tests.engine_fixtures import make_runtime

pytestmark = pytest.mark.postgres

FIRST, LAST = date(2018, 8, 22), date(2018, 9, 7)
WORKERS = 2


def _days() -> list[date]:
    return [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def _worker(url: str, smtp_url: str, data_dir: str, barrier, results) -> None:
    """Tick every day in step with the other worker (spawned: imports happen here)."""
    from engine.config import Config
    from engine.db import make_engine, session_factory
    from engine.runtime import Runtime
    from notifications.tick import run_tick

    clock = ManualClock(datetime.combine(FIRST, time(8), CHINA_TZ))
    config = Config(data_dir=Path(data_dir), database_url=url, smtp_url=smtp_url)
    engine = make_engine(url)
    rt = Runtime(config=config, sessions=session_factory(engine), clock=clock)
    rt.processes()
    totals: Counter[str] = Counter()
    for day in _days():
        clock.set(datetime.combine(day, time(8), CHINA_TZ))
        barrier.wait(timeout=120)
        counts = run_tick(rt).counts
        if any(v < 0 for v in counts.values()):
            results.put(("error", day.isoformat(), counts))
        totals.update({k: v for k, v in counts.items() if v > 0})
    engine.dispose()
    results.put(("done", "", dict(totals)))


def test_two_processes_tick_the_same_days(pg_db, pg_url, tmp_path, smtp_server):
    rt = make_runtime(tmp_path, url=pg_url, create=False,
                      clock=ManualClock(datetime.combine(FIRST, time(7), CHINA_TZ)))
    with rt.sessions() as s, s.begin():
        for unit in s.scalars(select(Unit)):
            s.add(User(username=unit.id, display_name=unit.id, password_hash="x",
                       role=Role.LIAISON, unit_id=unit.id, email=f"{unit.id}@ah.example.cn",
                       active=True, created_at=rt.clock.now()))
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(pg_url, smtp_server.url, str(tmp_path / "var"),
                                               barrier, results)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    reports = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert [r[0] for r in reports] == ["done"] * WORKERS, reports
    # the two workers shared the work: together they did each thing exactly once
    together = Counter()
    for _, _, totals in reports:
        together.update(totals)
    with rt.sessions() as s:  # every unit's 签收, due 08-24, is urged too: nobody acknowledges
        acks = len(s.scalars(select(WorkItem.id).where(WorkItem.kind == ItemKind.ACK)).all())
    assert acks > 32 and together["checkins"] >= acks
    assert together["escalate"] == 16 and together["mark_overdue"] == 32 + acks

    keys = Counter(str(m.message["X-Duban-Key"]) for m in smtp_server.received)
    assert keys and set(keys.values()) == {1}, keys.most_common(3)  # nothing twice
    with rt.sessions() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        assert {m.status for m in rows} == {OutboxStatus.SENT}
        assert set(keys) == {m.dedupe_key for m in rows}  # nothing skipped
        docs = s.scalars(select(Document).order_by(Document.seq)).all()
        assert [d.seq for d in docs] == list(range(1, len(docs) + 1))
        assert len({d.number for d in docs}) == len(docs)
        notices = [d for d in docs if d.kind is DocumentKind.NOTICE]
        assert len(notices) == 16 and len({d.unit_id for d in notices}) == 16
        # August (09-03); July had nothing to say (nothing due, nothing closed)
        assert sum(d.kind is DocumentKind.BULLETIN for d in docs) == 1
    per_city = Counter(k.split(":")[0] for k in keys if not k.startswith("bulletin"))
    assert per_city["notice"] == 16 and per_city["urge"] == 32 + acks


def test_number_taken_by_a_writer_without_the_lock_is_retried(pg_db):
    from engine.clock import SystemClock
    from engine.models import UnitKind
    from notifications.mail import store_blob
    from notifications.notices import Draft, issue_document

    clock = SystemClock()
    with pg_db.begin() as s:
        s.add(Unit(id="jxw", kind=UnitKind.DEPARTMENT))
    numbers: list[str] = []

    def build(number: str, issue: int) -> Draft:
        numbers.append(number)
        if len(numbers) == 1:  # someone else commits this very number meanwhile
            with pg_db.begin() as other:
                other.add(Document(kind=DocumentKind.BULLETIN, year=2018, seq=1, number=number,
                                   office="皖政督", title="抢先", issued_on=date(2018, 9, 7),
                                   pdf_sha256=store_blob(other, b"%PDF other"), data={},
                                   dedupe_key="other", created_at=clock.now()))
        return Draft("督办通知", f"%PDF {number}".encode(), {})

    with pg_db.begin() as s:
        doc = issue_document(s, clock, kind=DocumentKind.NOTICE, office="皖政督",
                             office_unit_id="jxw", issued_on=date(2018, 9, 7), dedupe_key="mine",
                             unit_id=None, build=build)
        assert doc is not None
    assert numbers == ["皖政督〔2018〕1号", "皖政督〔2018〕2号"]
    with pg_db() as s:
        assert s.scalars(select(Document.seq).order_by(Document.seq)).all() == [1, 2]
