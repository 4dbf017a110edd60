"""Concurrent writers on PostgreSQL: one wins, the other gets a clear conflict, nothing is torn."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine import service
from engine.audit import verify_chain
from engine.cycles import fire_due_timers, open_cycles
from engine.errors import ConflictError, StateError
from engine.models import (
    EngineEvent,
    Evidence,
    Instance,
    InstanceStatus,
    ItemStatus,
    Role,
    WorkItem,
)
from tests.engine_fixtures import add_user, make_runtime
from tests.test_engine_flow import lead_item

pytestmark = pytest.mark.postgres


@pytest.fixture
def rt(tmp_path, pg_db, pg_url):
    rt = make_runtime(tmp_path, url=pg_url, create=False)
    open_cycles(rt.sessions, rt.clock)
    return rt


def test_two_threads_submit_the_same_item(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    item = lead_item(rt, 1, "hefei")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(n: int) -> None:
        with rt.sessions() as s:
            s.begin()
            held = service.get_item(s, hefei, item.id)
            assert held.instance.version == 1
            barrier.wait()
            try:
                service.submit(s, rt.clock, hefei, item.id, text=f"第{n}路报送")
                s.commit()
                outcomes.append("ok")
            except (ConflictError, StateError) as exc:
                s.rollback()
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["ConflictError", "ok"]
    with rt.sessions() as s:
        assert s.scalar(select(func.count(Evidence.id))) == 1
        assert s.get(WorkItem, item.id).status is ItemStatus.SUBMITTED
        assert s.get(Instance, item.instance_id).version == 2
        assert verify_chain(s).ok


def test_two_timer_sweeps_at_once_fire_without_events(rt):
    rt.clock.set(rt.clock.now().replace(month=9, day=1))
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(
        fire_due_timers(rt.sessions, rt.clock))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with rt.sessions() as s:
        # the overdue sweep is the one source of "overdue": timers raise no events
        assert s.scalar(select(func.count(EngineEvent.id)).where(
            EngineEvent.kind.like("escalation:%"))) == 0
        assert s.scalar(select(func.count(Instance.id)).where(
            Instance.status != InstanceStatus.RUNNING)) == 0
    assert len(results) == 2 and sum(results) >= 16
