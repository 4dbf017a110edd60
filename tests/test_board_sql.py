"""The board page in SQL (engine.board) agrees with the one light rule (engine.lights) row by
row, in order, under every filter, and pages through everything exactly once."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from engine_fixtures import make_runtime
from sqlalchemy import select, update

from engine import cycles
from engine.board import BoardFilter, board_page
from engine.clock import ManualClock
from engine.models import Instance, ItemKind, ItemRole, ItemStatus, WorkItem
from engine.queries import board
from engine.runtime import Runtime

DAY = date(2018, 9, 1)
FILTERS = [None, "overdue", "red", "yellow", "green", "grey", "open", "returned", "submitted",
           "closed", "cancelled"]


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The seed policy's obligations of 2018-2020 with scrambled due dates and statuses, one
    obligation without an evidence item and some without a due date."""
    from datetime import datetime

    from engine.clock import CHINA_TZ

    rt = make_runtime(tmp_path_factory.mktemp("board"))
    rt.clock = ManualClock(datetime(2020, 1, 2, 9, tzinfo=CHINA_TZ))
    cycles.open_cycles(rt.sessions, rt.clock)
    rng = random.Random(7)
    statuses = list(ItemStatus)
    with rt.sessions() as s, s.begin():
        ids = list(s.scalars(select(Instance.id).order_by(Instance.id)))
        assert len(ids) > 25
        for inst_id in ids:
            due = None if rng.random() < 0.1 else DAY + timedelta(days=rng.randint(-12, 12))
            s.execute(update(Instance).where(Instance.id == inst_id).values(due_date=due))
            s.execute(update(WorkItem).where(WorkItem.instance_id == inst_id,
                                             WorkItem.role == ItemRole.LEAD)
                      .values(status=rng.choice(statuses)))
        # an obligation whose evidence item is missing (here: of another kind)
        s.execute(update(WorkItem).where(WorkItem.instance_id == ids[0],
                                         WorkItem.kind == ItemKind.EVIDENCE)
                  .values(kind=ItemKind.PLAN))
    return rt


@pytest.mark.parametrize("status", FILTERS)
def test_pages_are_the_board_in_order(rt: Runtime, status: str | None) -> None:
    for today in (DAY - timedelta(days=8), DAY, DAY + timedelta(days=5)):
        with rt.sessions() as s:
            want = board(s, today, status=status)
            got, page = [], 1
            while True:
                p = board_page(s, today, BoardFilter(status=status), page=page, per_page=7)
                got += p.rows
                if page >= p.pages:
                    break
                page += 1
        assert p.total == len(want)
        assert [(r.instance_id, r.light, r.status, r.days_overdue) for r in got] == \
            [(r.instance_id, r.light, r.status, r.days_overdue) for r in want]
        if status is None:
            assert p.lights == {k: n for k, n in _count(want).items() if n}


def _count(rows: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r.light.value] = out.get(r.light.value, 0) + 1
    return out


def test_filters_narrow_in_sql(rt: Runtime) -> None:
    with rt.sessions() as s:
        for f, kw in ((BoardFilter(unit="hefei"), {"unit": "hefei"}),
                      (BoardFilter(policy="anhui-2018-zjtx", task=2),
                       {"policy": "anhui-2018-zjtx", "task": 2}),
                      (BoardFilter(cycle="2019年度", status="grey"),
                       {"cycle": "2019年度", "status": "grey"})):
            want = board(s, DAY, **kw)  # type: ignore[arg-type]
            p = board_page(s, DAY, f, per_page=1000)
            assert want and [r.instance_id for r in p.rows] == [r.instance_id for r in want]


def test_a_page_past_the_end_is_the_last_page(rt: Runtime) -> None:
    with rt.sessions() as s:
        p = board_page(s, DAY, page=10_000, per_page=10)
        assert p.page == p.pages and p.rows
        assert board_page(s, DAY, BoardFilter(unit="nowhere")).rows == []

