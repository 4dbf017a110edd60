"""Approve and return racing on one review item on PostgreSQL (issue 10, item 4): one winner
each round, the loser sees 状态已变化 on the item page, never an error page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from reliability_tools import fresh_pg_database
from sqlalchemy import func, select

from engine import accounts, service
from engine.clock import CHINA_TZ, ManualClock
from engine.cycles import open_cycles
from engine.models import ACTIONABLE, Cycle, ItemRole, PolicyTask, Review, Role, WorkItem
from engine.runtime import Runtime
from tests.engine_fixtures import add_user, make_runtime
from tests.web.webtools import do_login, make_app, tok

ROUNDS = 50
EXTRA_CYCLES = 4
PASSWORD = "correct-horse-9"
WON = {"approve": "已审核通过", "return": "已退回，等待单位重新报送"}


@pytest.fixture
def pg_rt(pg_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """The seed policy on a fresh PostgreSQL database with enough obligations for every round
    to end in an approval: task 1 gets extra cycles (16 cities each)."""
    with fresh_pg_database(pg_url) as url:
        rt = make_runtime(tmp_path, url=url,
                          clock=ManualClock(datetime(2018, 9, 15, 9, 0, tzinfo=CHINA_TZ)))
        with rt.sessions() as s, s.begin():
            task = s.scalars(select(PolicyTask).where(PolicyTask.number == 1)).first()
            assert task is not None
            s.add_all(Cycle(task_id=task.id, label=f"竞争{n}", opens_on=date(2018, 6, 1),
                            due_date=date(2018, 12, 31)) for n in range(EXTRA_CYCLES))
        open_cycles(rt.sessions, rt.clock)
        with rt.sessions() as s:
            open_leads = s.scalar(select(func.count()).select_from(WorkItem).where(
                WorkItem.role == ItemRole.LEAD, WorkItem.status.in_(ACTIONABLE)))
        assert (open_leads or 0) >= ROUNDS
        with rt.sessions() as s, s.begin():
            accounts.create_user(s, rt.clock, username="duchao", display_name="督查员",
                                 role=Role.SUPERVISOR, password=PASSWORD, unit_id="dcs")
        yield rt
        rt.sessions.kw["bind"].dispose()


def _submit_next(rt: Runtime, liaisons: dict) -> int:
    """Submit the next open lead item; the id of its review item."""
    with rt.sessions() as s, s.begin():
        lead = s.scalars(select(WorkItem).where(WorkItem.role == ItemRole.LEAD,
                                                WorkItem.status.in_(ACTIONABLE))
                         .order_by(WorkItem.id)).first()
        assert lead is not None, "no open obligation left"
        unit = lead.unit_id
    if unit not in liaisons:
        liaisons[unit] = add_user(rt, f"l-{unit}", Role.LIAISON, unit)
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, liaisons[unit], lead.id, text="已按要求完成。")
    with rt.sessions() as s:
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == lead.instance_id,
                                                  WorkItem.role == ItemRole.SUPERVISOR,
                                                  WorkItem.status.in_(ACTIONABLE))).one()
        return review.id


@pytest.mark.postgres
def test_approve_and_return_race_has_one_winner_and_no_error_page(pg_rt):
    app = make_app(pg_rt)
    clients = {decision: app.test_client() for decision in WON}
    for client in clients.values():
        do_login(client, "duchao", PASSWORD)
    liaisons: dict = {}
    won = dict.fromkeys(WON, 0)
    for _ in range(ROUNDS):
        review_id = _submit_next(pg_rt, liaisons)
        before = _reviews(pg_rt, review_id)  # a returned obligation's review item comes back
        pages = _race(clients, review_id, tok)
        assert {status for status, _ in pages.values()} == {200}, pages
        winners = [d for d, (_, page) in pages.items() if WON[d] in page]
        losers = [d for d, (_, page) in pages.items() if "状态已变化" in page]
        assert len(winners) == 1 and len(losers) == 1 and winners != losers, pages
        assert _reviews(pg_rt, review_id) == before + 1
        won[winners[0]] += 1
    print(f"\n{ROUNDS} rounds: approve won {won['approve']}, return won {won['return']}, "
          "every loser saw 状态已变化, no status but 200")


def _reviews(rt: Runtime, review_id: int) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(Review)
                        .where(Review.work_item_id == review_id)) or 0


def _race(clients: dict, review_id: int, tok) -> dict[str, tuple[int, str]]:
    """Both decisions posted at once; each answer after its redirect."""
    start = threading.Barrier(len(clients))
    pages: dict[str, tuple[int, str]] = {}

    def post(decision: str) -> None:
        client = clients[decision]
        start.wait(timeout=120)
        response = client.post(f"/review/{review_id}", follow_redirects=True, data={
            "csrf_token": tok(client), "decision": decision, "reason": "请补充佐证材料"})
        pages[decision] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=post, args=(d,)) for d in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return pages


def test_lost_races_are_conflicts_and_nothing_else_is():
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from engine.errors import ConflictError
    from engine.service import conflict

    class Driver(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    for code in ("40P01", "40001", "55P03"):  # deadlock, serialization, lock not available
        lost = conflict(OperationalError("UPDATE …", {}, Driver(code)))
        assert isinstance(lost, ConflictError) and "状态已变化" in str(lost)
    assert "状态已变化" in str(conflict(StaleDataError("stale")))
    assert conflict(IntegrityError("INSERT …", {}, Driver("23505"))) is None
    assert conflict(RuntimeError("boom")) is None
