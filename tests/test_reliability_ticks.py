"""Two schedulers on one database (issue 10, items 1 and 6): real ``duban tick`` processes."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from reliability_tools import duban, duban_env, fresh_pg_database, lines, start_duban
from sqlalchemy import select, text

from engine.clock import CHINA_TZ
from engine.config import Config
from engine.runtime import DatabaseClock, open_runtime
from notifications.advance import TICK_HOUR
from notifications.locks import tick_lock
from notifications.models import OutboxMessage, OutboxStatus
from notifications.tick import run_steps

START, UNTIL = date(2018, 5, 30), date(2018, 9, 30)
DAY_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})：")


@pytest.fixture
def pg_deployment(pg_url: str, tmp_path: Path, smtp_server) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database after ``duban init --demo`` on a simulated clock."""
    with fresh_pg_database(pg_url) as url:
        env = duban_env(tmp_path / "var", database_url=url, clock=START.isoformat(),
                        smtp_url=smtp_server.url)
        done = duban(env, "init", "--demo")
        assert done.returncode == 0, done.stderr
        yield env


def _days(stdout: str) -> list[date]:
    return [date.fromisoformat(m[1]) for line in stdout.splitlines()
            if (m := DAY_LINE.match(line)) and "无需再推进" not in line]


@pytest.mark.postgres
def test_two_tick_until_processes_send_every_key_exactly_once(pg_deployment, smtp_server):
    env = pg_deployment
    procs = [start_duban(env, "tick", "--until", UNTIL.isoformat()) for _ in range(2)]
    outs = [p.communicate(timeout=3600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert all("Traceback" not in err and " ERROR " not in err for _, err in outs), outs
    ran = [_days(out) for out, _ in outs]
    # they took turns: every day exactly once, in order, by one or the other
    every_day = [START + timedelta(n) for n in range((UNTIL - START).days + 1)]
    assert sorted(ran[0] + ran[1]) == every_day
    assert all(days == sorted(days) for days in ran)

    rt = open_runtime(Config.from_env(env))
    with rt.sessions() as s:
        rows = s.scalars(select(OutboxMessage)).all()
    got = Counter(str(m.message["X-Duban-Key"]) for m in smtp_server.received)
    assert len(rows) > 100 and {m.status for m in rows} == {OutboxStatus.SENT}
    assert got == Counter({m.dedupe_key: 1 for m in rows})  # every key once, nothing else
    late = [m.dedupe_key for m in rows
            if m.sent_at.astimezone(CHINA_TZ).date() != m.created_at.astimezone(CHINA_TZ).date()]
    assert late == []  # nothing a simulated day late
    assert {m.attempts for m in rows} == {1}
    print(f"\ntwo tick --until {UNTIL}: days run {len(ran[0])} + {len(ran[1])}, "
          f"{len(rows)} outbox rows, {sum(got.values())} messages received, "
          f"{len(late)} a simulated day late")
    rt.sessions.kw["bind"].dispose()


@pytest.mark.postgres
def test_a_second_tick_on_postgresql_waits_its_turn_then_finds_the_day_done(pg_deployment):
    env = pg_deployment
    rt = open_runtime(Config.from_env(env))
    clock = rt.clock
    assert isinstance(clock, DatabaseClock)
    engine = rt.sessions.kw["bind"]
    with tick_lock(rt):
        proc = start_duban(env, "tick", "--until", START.isoformat())
        _wait_for_advisory_waiter(engine, proc)
        clock.set(datetime.combine(START, TICK_HOUR, CHINA_TZ))  # this process runs the day
        assert not run_steps(rt).failed
        clock.mark_ticked(START)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert lines(out) == [f"{START}：此前各日的调度步骤都已运行，无需再推进"]
    engine.dispose()


def _wait_for_advisory_waiter(engine, proc) -> None:
    """Until a session waits for an advisory lock (the child reached the tick lock)."""
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        with engine.connect() as conn:
            if conn.execute(query).scalar():
                return
        time.sleep(0.05)
    raise AssertionError("the second tick never waited for the lock")


def test_a_second_tick_on_sqlite_is_refused_in_one_line(tmp_path):
    env = duban_env(tmp_path / "var", clock=START.isoformat())
    assert duban(env, "init").returncode == 0
    rt = open_runtime(Config.from_env(env))
    with tick_lock(rt):
        refused = duban(env, "tick")
        refused_until = duban(env, "tick", "--until", "2018-06-02")
    for result in (refused, refused_until):
        assert result.returncode == 2 and result.stdout == ""
        [line] = lines(result.stderr)
        assert line.startswith("错误：SQLite 只支持一个调度进程"), line
    after = duban(env, "tick", "--until", "2018-05-31")  # the lock is free again
    assert after.returncode == 0, after.stderr
    assert _days(after.stdout) == [START, START + timedelta(1)]
    rt.sessions.kw["bind"].dispose()


def test_the_delivery_job_skips_its_run_while_a_tick_holds_the_lock(tmp_path):
    from notifications.mail import enqueue
    from notifications.scheduler import deliver_job
    from tests.engine_fixtures import make_runtime

    rt = make_runtime(tmp_path)
    with rt.sessions() as s, s.begin():
        enqueue(s, rt.clock, dedupe_key="k", kind="urge", to=["x@example.cn"], subject="催办",
                text="正文")
    with tick_lock(rt):  # an admin-page advance in another thread or process
        deliver_job(rt)
        with rt.sessions() as s:
            assert s.scalar(select(OutboxMessage.status)) is OutboxStatus.PENDING
    deliver_job(rt)
    with rt.sessions() as s:
        assert s.scalar(select(OutboxMessage.status)) is OutboxStatus.SENT
