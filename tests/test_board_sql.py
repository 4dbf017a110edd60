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
from engine.models import (
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    Milestone,
    Plan,
    PlanStatus,
    WorkItem,
)
from engine.queries import board
from engine.runtime import Runtime

DAY = date(2018, 9, 1)
FILTERS = [None, "overdue", "red", "yellow", "green", "grey", "open", "returned", "submitted",
           "closed", "cancelled"]


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The seed policy's obligations of 2018-2020 with scrambled due dates and statuses, one
    obligation without an evidence item, some without a due date, some behind schedule."""
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
            _behind_facts(s, rng, inst_id)
        # an obligation whose evidence item is missing (here: of another kind)
        s.execute(update(WorkItem).where(WorkItem.instance_id == ids[0],
                                         WorkItem.kind == ItemKind.EVIDENCE)
                  .values(kind=ItemKind.PLAN))
    return rt


def _behind_facts(s, rng: random.Random, inst_id: int) -> None:
    """Some obligations behind schedule around DAY: an approved plan's milestone passed unmet
    (or met, or in a returned plan), the lead's progress report late (or done, or not yet due)."""
    from datetime import datetime

    from engine.clock import CHINA_TZ

    lead = s.scalar(select(Instance.lead_unit_id).where(Instance.id == inst_id))
    at = datetime(2018, 6, 1, tzinfo=CHINA_TZ)
    if rng.random() < 0.4:
        plan = Plan(work_item_id=s.scalar(select(WorkItem.id).where(
            WorkItem.instance_id == inst_id)), instance_id=inst_id, unit_id=lead, version=1,
            status=rng.choice(list(PlanStatus)), submitted_at=at)
        s.add(plan)
        s.flush()
        s.add(Milestone(plan_id=plan.id, seq=0, name="节点", amounts={},
                        due_on=DAY + timedelta(days=rng.randint(-10, 10)),
                        reached_on=DAY if rng.random() < 0.3 else None))
    if rng.random() < 0.4:
        s.add(WorkItem(instance_id=inst_id, task_name="progress:x", unit_id=lead,
                       role=rng.choice([ItemRole.LEAD, ItemRole.SUPPORTING]),
                       kind=ItemKind.PROGRESS, title="报送进展",
                       due_date=DAY + timedelta(days=rng.randint(-10, 10)),
                       status=rng.choice(list(ItemStatus)), created_at=at, updated_at=at))


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
        assert [(r.instance_id, r.light, r.status, r.days_overdue, r.signal) for r in got] == \
            [(r.instance_id, r.light, r.status, r.days_overdue, r.signal) for r in want]
        if status is None and today == DAY:  # the facts make some rows yellow for being behind
            assert {r.signal.label for r in want if r.signal} & {"进度滞后", "进展迟报"}
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

