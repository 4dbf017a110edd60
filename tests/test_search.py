"""engine/search.py: the filters of the search box (policy, unit, status, period) on tasks and
evidence; a liaison reads only its own unit's evidence."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine import service
from engine.clock import CHINA_TZ
from engine.cycles import open_cycles
from engine.models import ItemRole, Role, WorkItem
from engine.search import Filters, search
from tests.engine_fixtures import add_user, make_runtime

DAY = date(2018, 9, 15)


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    """合肥 reports task 1 on 2018-07-02, 芜湖 on 2018-08-20 (both say 专项资金)."""
    rt = make_runtime(tmp_path_factory.mktemp("search"))
    open_cycles(rt.sessions, rt.clock)
    for unit, month, day in (("hefei", 7, 2), ("wuhu", 8, 20)):
        rt.clock.set(datetime(2018, month, day, 10, tzinfo=CHINA_TZ))
        who = add_user(rt, unit, Role.LIAISON, unit)
        with rt.sessions() as s, s.begin():
            item = s.scalars(select(WorkItem).where(WorkItem.unit_id == unit,
                                                    WorkItem.role == ItemRole.LEAD)
                             .order_by(WorkItem.id)).first()
            service.submit(s, rt.clock, who, item.id, text=f"{unit}设立专项资金")
    return rt


def _hits(rt, kind: str, query: str, actor=None, **filters) -> list[dict]:
    actor = actor or add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    with rt.sessions() as s:
        return [h.ref for h in search(s, actor, query, DAY, Filters(**filters)).hits[kind]]


def test_evidence_by_unit_period_status_and_policy(rt):
    assert {h["unit"] for h in _hits(rt, "evidence", "专项资金")} == {"hefei", "wuhu"}
    assert {h["unit"] for h in _hits(rt, "evidence", "专项资金", unit="wuhu")} == {"wuhu"}
    since = _hits(rt, "evidence", "专项资金", since=date(2018, 8, 1), until=date(2018, 8, 31))
    assert {h["unit"] for h in since} == {"wuhu"}
    assert _hits(rt, "evidence", "专项资金", until=date(2018, 7, 1)) == []
    assert len(_hits(rt, "evidence", "专项资金", status="submitted")) == 2
    assert _hits(rt, "evidence", "专项资金", status="closed") == []
    assert _hits(rt, "evidence", "专项资金", policy="another-policy") == []
    liaison = add_user(rt, "hefei", Role.LIAISON, "hefei")
    assert {h["unit"] for h in _hits(rt, "evidence", "专项资金", liaison)} == {"hefei"}


def test_tasks_by_policy_and_by_the_units_they_name(rt):
    everyone = {h["number"] for h in _hits(rt, "task", "专精特新")}
    assert everyone == {2, 6, 7, 8}
    assert _hits(rt, "task", "专精特新", policy="another-policy") == []
    # 芜湖 supports task 2 only; the 人社厅 leads task 5 (工匠)
    assert {h["number"] for h in _hits(rt, "task", "专精特新", unit="wuhu")} == {2}
    assert _hits(rt, "task", "专精特新", unit="rst") == []
    assert {h["number"] for h in _hits(rt, "task", "工匠", unit="rst")} == {5}
