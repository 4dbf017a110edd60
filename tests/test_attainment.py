"""Target attainment is one rule (engine.attainment): the task chart and the bulletin agree."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select

from engine import service
from engine.clock import CHINA_TZ, ManualClock
from engine.models import Instance, ItemRole, Policy, PolicyTask, Role, WorkItem
from engine.workdays import WorkCalendar
from notifications.bulletins import BulletinCalendar, _month, collect
from notifications.tick import step_open_cycles
from tests.engine_fixtures import add_user, make_runtime

FUND = {"key": "fund", "label": "带动社会融资", "amount": 10, "unit": "亿元", "per": "year",
        "kind": "amount"}


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


def _items(rt, task: int) -> tuple[WorkItem, WorkItem | None]:
    """The lead item of jxw's 2018 obligation of a task, and its review item if any."""
    with rt.sessions() as s:
        lead = s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == task, WorkItem.unit_id == "jxw",
            WorkItem.role == ItemRole.LEAD).order_by(WorkItem.id)).first()
        review = s.scalars(select(WorkItem).where(
            WorkItem.instance_id == lead.instance_id,
            WorkItem.role == ItemRole.SUPERVISOR)).first()
        return lead, review


@pytest.fixture
def rt(tmp_path):
    """Task 2 and task 7 approved on 08-21 (task 7 with a decimal amount), task 3 on 09-03."""
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 8, 20))))
    step_open_cycles(rt)
    with rt.sessions() as s, s.begin():  # an amount target: 2.5 亿元 must stay 2.5
        task = s.scalars(select(PolicyTask).where(PolicyTask.number == 7)).one()
        task.targets = [*task.targets, FUND]
    jxw, sup = add_user(rt, "jxw", Role.LIAISON, "jxw"), add_user(rt, "duchao", Role.SUPERVISOR,
                                                                   "dcs")
    for task, numbers in ((2, {"pooled": 300, "certified": 120}), (7, {"listed": 12,
                                                                       "fund": "2.5"})):
        with rt.sessions() as s, s.begin():
            service.submit(s, rt.clock, jxw, _items(rt, task)[0].id, text="完成", numbers=numbers)
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, jxw, _items(rt, 3)[0].id, text="基地", numbers={"bases": 31})
    rt.clock.set(at(date(2018, 8, 21)))
    for task in (2, 7):
        with rt.sessions() as s, s.begin():
            service.review(s, rt.clock, sup, _items(rt, task)[1].id, approve=True)
    rt.clock.set(at(date(2018, 9, 3)))
    with rt.sessions() as s, s.begin():
        service.review(s, rt.clock, sup, _items(rt, 3)[1].id, approve=True)
    return rt


def _bulletin(rt, month: int) -> dict[tuple[int, str], str]:
    """(task, target label) -> what the month's bulletin says was achieved."""
    from notifications.documents import quantity

    with rt.sessions() as s:
        policy = s.get(Policy, "anhui-2018-zjtx")
        facts = collect(s, policy, _month(2018, month, BulletinCalendar(), WorkCalendar()))
    return {(t.task_number, t.label): f"{quantity(t.achieved)}{t.unit}" for t in facts.targets}


def _charts(rt, as_of: date) -> dict[tuple[int, str], str]:
    """(task, target label) -> the 2018 bar of the task page's chart."""
    from web.views.attainment import attainment

    found = {}
    with rt.sessions() as s:
        for task in s.scalars(select(PolicyTask).order_by(PolicyTask.number)):
            for target, chart in zip(task.targets, attainment(s, task, as_of), strict=True):
                bars = [b for b in chart.bars if b.label in ("2018年度", "一次性")]
                if bars:
                    found[(task.number, target["label"])] = bars[0].value_text
    return found


def test_the_chart_and_the_bulletin_agree(rt) -> None:
    august, chart_august = _bulletin(rt, 8), _charts(rt, date(2018, 8, 31))
    assert august[(7, "带动社会融资")] == "2.5亿元"  # the bulletin no longer truncates to 2
    assert august[(2, "培育入库“专精特新”中小企业")] == "300户"
    assert august[(3, "培育认定省级小微企业创业基地")] == "0个"  # approved 09-03: not yet
    assert chart_august == august  # every target of every task, the same figure
    september, chart_september = _bulletin(rt, 9), _charts(rt, date(2018, 9, 30))
    assert september[(3, "培育认定省级小微企业创业基地")] == "31个"
    assert chart_september == september


def test_figures_as_of_a_day_and_settled_targets(rt) -> None:
    from engine.attainment import cycle_figures, year_figures

    with rt.sessions() as s:
        tasks = list(s.scalars(select(PolicyTask).order_by(PolicyTask.number)))
        task3 = next(t for t in tasks if t.number == 3)
        assert cycle_figures(s, task3, date(2018, 9, 2))[0].value("bases") == 0
        assert cycle_figures(s, task3, date(2018, 9, 3))[0].value("bases") == 31
        figures = {(f.task_number, f.key): f for f in year_figures(s, tasks, 2018,
                                                                    date(2018, 8, 31))}
    assert figures[(7, "fund")].achieved == Decimal("2.5") and figures[(7, "fund")].settled
    assert figures[(2, "pooled")].settled  # its one obligation is approved
    assert not figures[(3, "bases")].settled  # due 2018-12-31, not approved by 08-31
    assert not figures[(4, "platforms")].settled  # a 2020 target
    assert figures[(4, "platforms")].due_date == date(2020, 12, 31)
