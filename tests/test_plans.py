"""形象进度 (engine.plans): the lead unit's plan item, versions through return and approval,
permission checks, outcome events, milestones reached by progress reports, and the light
"behind schedule" (进度滞后, 进展迟报) in Python and SQL alike."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from engine import checkins, lifecycle, plans
from engine.access import Action, item_actions
from engine.board import BoardFilter, board_page
from engine.clock import CHINA_TZ
from engine.errors import DubanError, PermissionDeniedError, ValidationError
from engine.lights import Light, light, signal
from engine.models import (
    EngineEvent,
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    PlanStatus,
    PolicyTask,
    Role,
    WorkItem,
)
from engine.queries import board, unit_work
from notifications.tick import run_tick, step_checkins, step_open_cycles
from tests.engine_fixtures import add_user, make_runtime

MILESTONES = [{"name": "完成摸底", "due_on": "2018-07-31", "amounts": {"pooled": "300"}},
              {"name": "完成入库", "due_on": date(2018, 11, 30), "amounts": {"pooled": 1000}}]


@pytest.fixture
def rt(tmp_path):
    rt = make_runtime(tmp_path)  # 2018-05-30 09:00
    run_tick(rt, [("open_cycles", step_open_cycles), ("checkins", step_checkins)])
    return rt


def access_actions(s, actor, item_id: int):
    return item_actions(actor, s.get(WorkItem, item_id))


def _at(rt, day: date) -> None:
    rt.clock.set(datetime.combine(day, time(9), CHINA_TZ))


def _plan_item(rt, task: int) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == task, WorkItem.kind == ItemKind.PLAN)).one()


def _actors(rt):
    return (add_user(rt, "jxw1", Role.LIAISON, "jxw"),
            add_user(rt, "dcs1", Role.SUPERVISOR, "dcs"),
            add_user(rt, "jxwsup", Role.SUPERVISOR, "jxw"),
            add_user(rt, "rst1", Role.LIAISON, "rst"))


def test_a_long_obligation_gets_one_plan_item_for_its_lead_due_in_ten_working_days(rt) -> None:
    item = _plan_item(rt, 2)
    assert item.unit_id == "jxw" and item.role is ItemRole.LEAD
    assert item.due_date == date(2018, 6, 13) and item.status is ItemStatus.OPEN  # 端午 6-18
    assert run_tick(rt, [("checkins", step_checkins)]) is not None
    with rt.sessions() as s:  # twice: nothing twice; short obligations (< 90 days) get none
        assert len(s.scalars(select(WorkItem).where(WorkItem.kind == ItemKind.PLAN,
                                                    WorkItem.instance_id == item.instance_id))
                   .all()) == 1


def test_propose_return_resubmit_approve_keeps_every_version(rt) -> None:
    jxw, dcs, _, _ = _actors(rt)
    item = _plan_item(rt, 2)
    with rt.sessions() as s, s.begin():
        assert Action.PROPOSE in access_actions(s, jxw, item.id)
        v1 = plans.propose(s, rt.clock, jxw, item.id, milestones=MILESTONES, note="初稿")
        assert v1.version == 1 and [m.amounts for m in v1.milestones] == [
            {"pooled": 300.0}, {"pooled": 1000.0}]
    with rt.sessions() as s, s.begin():
        assert access_actions(s, dcs, item.id) == frozenset({Action.DECIDE_PLAN})
        with pytest.raises(ValidationError, match="退回理由"):
            plans.decide(s, rt.clock, dcs, item.id, approve=False, reason=" ")
    with rt.sessions() as s, s.begin():
        plans.decide(s, rt.clock, dcs, item.id, approve=False, reason="节点过粗，请按季度细化")
    with rt.sessions() as s, s.begin():
        assert s.get(WorkItem, item.id).status is ItemStatus.RETURNED
        v2 = plans.propose(s, rt.clock, jxw, item.id, milestones=MILESTONES[:1] + [
            {"name": "三季度入库", "due_on": "2018-09-30", "amounts": {"pooled": 600}},
            MILESTONES[1]])
        assert v2.version == 2
    with rt.sessions() as s, s.begin():
        plans.decide(s, rt.clock, dcs, item.id, approve=True)
    with rt.sessions() as s:
        got = plans.versions(s, item.id)
        assert [(p.version, p.status, len(p.milestones)) for p in got] == [
            (1, PlanStatus.RETURNED, 2), (2, PlanStatus.APPROVED, 3)]
        assert got[0].reason == "节点过粗，请按季度细化"
        assert s.get(WorkItem, item.id).status is ItemStatus.CLOSED
        assert [t.to_state for t in lifecycle.history(s, [item.id])
                if t.field == "status"] == ["open", "submitted", "returned", "submitted",
                                            "closed"]
        events = s.scalars(select(EngineEvent).where(EngineEvent.kind == "outcome:plan")
                           .order_by(EngineEvent.id)).all()
        assert [(e.unit_id, e.payload["status"]) for e in events] == [
            ("jxw", "returned"), ("jxw", "approved")]
        assert [m.name for m in plans.approved_milestones(s, item.instance_id)] == [
            "完成摸底", "三季度入库", "完成入库"]


def test_only_the_lead_proposes_and_nobody_decides_their_own_units_plan(rt) -> None:
    jxw, dcs, jxwsup, rst = _actors(rt)
    item = _plan_item(rt, 2)
    for who in (rst, dcs):
        with rt.sessions() as s, s.begin(), pytest.raises(DubanError):
            plans.propose(s, rt.clock, who, item.id, milestones=MILESTONES)
    with rt.sessions() as s, s.begin():
        plans.propose(s, rt.clock, jxw, item.id, milestones=MILESTONES)
    for who in (jxw, jxwsup):
        with rt.sessions() as s, s.begin(), pytest.raises(PermissionDeniedError):
            plans.decide(s, rt.clock, who, item.id, approve=True)
    with rt.sessions() as s:
        assert access_actions(s, jxwsup, item.id) == frozenset()
        assert s.get(WorkItem, item.id).status is ItemStatus.SUBMITTED


@pytest.mark.parametrize("bad, message", [
    ([], "至少填写一个节点"),
    ([{"name": "", "due_on": "2018-07-01"}], "节点名称"),
    ([{"name": "x", "due_on": "2018-13-01"}], "无效"),
    ([{"name": "x", "due_on": "2019-01-01"}], "之间"),
    ([{"name": "x", "due_on": "2018-07-01", "amounts": {"nope": 1}}], "没有指标"),
    ([{"name": "x", "due_on": "2018-07-01", "amounts": {"pooled": "很多"}}], "应为数字"),
])
def test_a_bad_plan_is_refused_in_chinese_and_changes_nothing(rt, bad, message) -> None:
    jxw, *_ = _actors(rt)
    item = _plan_item(rt, 2)
    with rt.sessions() as s, s.begin(), pytest.raises(ValidationError, match=message):
        plans.propose(s, rt.clock, jxw, item.id, milestones=bad)
    with rt.sessions() as s:
        assert plans.versions(s, item.id) == []
        assert s.get(WorkItem, item.id).status is ItemStatus.OPEN


def _approve(rt, jxw, dcs) -> WorkItem:
    item = _plan_item(rt, 2)
    with rt.sessions() as s, s.begin():
        plans.propose(s, rt.clock, jxw, item.id, milestones=MILESTONES)
    with rt.sessions() as s, s.begin():
        plans.decide(s, rt.clock, dcs, item.id, approve=True)
    return item


def test_a_milestone_passed_unmet_lights_the_obligation_yellow_until_reported(rt) -> None:
    jxw, dcs, _, _ = _actors(rt)
    item = _approve(rt, jxw, dcs)
    inst = item.instance_id
    _at(rt, date(2018, 6, 20))
    with rt.sessions() as s, s.begin():
        checkins.report_progress(s, rt.clock, jxw, _open_report(s, inst).id, text="按计划推进")
    with rt.sessions() as s:
        assert plans.behind(s, [inst], date(2018, 7, 31)) == {}
        assert plans.behind(s, [inst], date(2018, 8, 1)) == {inst: plans.BEHIND}
        [row] = [r for r in board(s, date(2018, 8, 1)) if r.instance_id == inst]
        assert (row.light, row.signal and row.signal.label) == (Light.YELLOW, "进度滞后")
        page = board_page(s, date(2018, 8, 1), BoardFilter(status="yellow"), per_page=1000)
        assert inst in [r.instance_id for r in page.rows]
        work = [w for w in unit_work(s, "jxw", date(2018, 8, 1))
                if w.id == _evidence_id(s, inst)]
        assert [w.light for w in work] == ["yellow"]
        assert "plan" in {w.kind for w in unit_work(s, "jxw", date(2018, 8, 1))}
    _at(rt, date(2018, 8, 2))
    run_tick(rt, [("checkins", step_checkins)])
    with rt.sessions() as s, s.begin():
        first = plans.approved_milestones(s, inst)[0]
        report = _open_report(s, inst)
        with pytest.raises(ValidationError, match="不属于"):
            checkins.report_progress(s, rt.clock, jxw, report.id, text="推进", reached=[99999])
    with rt.sessions() as s, s.begin():
        checkins.report_progress(s, rt.clock, jxw, report.id, text="摸底完成",
                                 reached=[first.id])
    with rt.sessions() as s:
        assert plans.approved_milestones(s, inst)[0].reached_on == date(2018, 8, 2)
        assert plans.behind(s, [inst], date(2018, 8, 3)) == {}


def _open_report(s, inst: int) -> WorkItem:
    return s.scalars(select(WorkItem).where(WorkItem.instance_id == inst,
                                            WorkItem.kind == ItemKind.PROGRESS,
                                            WorkItem.unit_id == "jxw",
                                            WorkItem.status == ItemStatus.OPEN)).one()


def _evidence_id(s, inst: int) -> int:
    return s.scalar(select(WorkItem.id).where(WorkItem.instance_id == inst,
                                              WorkItem.kind == ItemKind.EVIDENCE))


def test_a_late_progress_report_is_behind_schedule_and_red_stays_overdue(rt) -> None:
    with rt.sessions() as s:
        inst = _plan_item(rt, 2).instance_id
        assert plans.behind(s, [inst], date(2018, 6, 25)) == {}
        assert plans.behind(s, [inst], date(2018, 6, 26)) == {inst: plans.LATE_REPORT}
    day = date(2018, 7, 1)
    late = signal(ItemStatus.OPEN, date(2018, 12, 31), day, behind="进展迟报")
    assert (late.light, late.label) == (Light.YELLOW, "进展迟报")
    soon = signal(ItemStatus.OPEN, date(2018, 7, 3), day, behind="进度滞后")
    assert soon.label == "临期·进度滞后"
    assert light(ItemStatus.OPEN, date(2018, 6, 30), day, behind=True) is Light.RED
    assert light(ItemStatus.SUBMITTED, date(2018, 12, 31), day, behind=True) is Light.GREEN
    assert light(ItemStatus.OPEN, None, day, behind=True) is Light.YELLOW
    assert light(ItemStatus.CLOSED, None, day, behind=True) is Light.GREY


def test_handing_in_the_evidence_withdraws_an_open_plan(rt) -> None:
    from engine import service

    jxw, *_ = _actors(rt)
    item = _plan_item(rt, 2)
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, jxw, _evidence_id(s, item.instance_id), text="已完成",
                       numbers={"pooled": 1000})
    with rt.sessions() as s:
        assert s.get(WorkItem, item.id).status is ItemStatus.CANCELLED


def test_the_unit_hears_that_its_plan_was_returned_then_approved_once_each(rt) -> None:
    from notifications.models import Notification
    from notifications.outcomes import announce

    jxw, dcs, _, _ = _actors(rt)
    item = _plan_item(rt, 2)
    with rt.sessions() as s, s.begin():
        plans.propose(s, rt.clock, jxw, item.id, milestones=MILESTONES)
    with rt.sessions() as s, s.begin():
        plans.decide(s, rt.clock, dcs, item.id, approve=False, reason="请按季度细化")
    announce(rt.sessions, rt.clock)
    with rt.sessions() as s, s.begin():
        plans.propose(s, rt.clock, jxw, item.id, milestones=MILESTONES)
    with rt.sessions() as s, s.begin():
        plans.decide(s, rt.clock, dcs, item.id, approve=True)
    announce(rt.sessions, rt.clock)
    announce(rt.sessions, rt.clock)  # nothing twice
    with rt.sessions() as s:
        notes = s.scalars(select(Notification).where(Notification.kind.in_(
            ("plan_returned", "plan_approved"))).order_by(Notification.id)).all()
    assert [(n.unit_id, n.kind) for n in notes] == [("jxw", "plan_returned"),
                                                   ("jxw", "plan_approved")]
    assert "退回理由：请按季度细化" in notes[0].body and "第1版" in notes[0].body
    assert "第2版" in notes[1].body and "2个节点" in notes[1].body
