"""The whole life of obligations through the service layer, on SQLite."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engine import queries, service
from engine.audit import verify_chain
from engine.clock import overdue_from
from engine.cycles import fire_due_timers, open_cycles
from engine.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StateError,
    ValidationError,
)
from engine.models import (
    EngineEvent,
    Evidence,
    Instance,
    InstanceStatus,
    ItemRole,
    ItemStatus,
    PolicyTask,
    Review,
    Role,
    Timer,
    WorkItem,
)
from tests.engine_fixtures import add_user, make_runtime


@pytest.fixture
def rt(tmp_path):
    rt = make_runtime(tmp_path)
    open_cycles(rt.sessions, rt.clock)
    return rt


def lead_item(rt, task_number: int, unit: str) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == task_number, WorkItem.unit_id == unit,
            WorkItem.role == ItemRole.LEAD).order_by(WorkItem.id)).first()


def review_item(rt, instance_id: int) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                WorkItem.role == ItemRole.SUPERVISOR)).one()


def test_first_cycles_open_with_one_instance_per_lead_unit(rt):
    with rt.sessions() as s:
        per_task = dict(s.execute(select(PolicyTask.number, func.count(Instance.id))
                                  .join(Instance).group_by(PolicyTask.number)).all())
        assert per_task[1] == 16 and per_task[6] == 2 and per_task[2] == 1
        hefei = queries.inbox(s, "hefei")
        # its own task 1, and its part in task 2 (各市人民政府 support 省经信委)
        assert sorted(i.role.value for i in hefei) == ["lead", "supporting"]
        assert hefei[0].due_date == date(2018, 8, 30) and hefei[0].role is ItemRole.LEAD
        # 省经信委 supports task 1 for every city: 16 contributions in its inbox, among others
        assert sum(1 for i in queries.inbox(s, "jxw", limit=500)
                   if i.role is ItemRole.SUPPORTING) >= 16
    assert open_cycles(rt.sessions, rt.clock) == 0  # idempotent


def test_submit_return_twice_then_approve_closes_on_time(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    item = lead_item(rt, 1, "hefei")
    for round_ in range(3):
        with rt.sessions() as s, s.begin():
            service.submit(s, rt.clock, hefei, item.id, text=f"第{round_ + 1}次报送")
        rev = review_item(rt, item.instance_id)
        assert rev.status is ItemStatus.OPEN
        with rt.sessions() as s, s.begin():
            service.review(s, rt.clock, sup, rev.id, approve=round_ == 2,
                           reason=None if round_ == 2 else "材料不全")
        with rt.sessions() as s:
            lead = s.get(WorkItem, item.id)
            if round_ < 2:
                assert lead.status is ItemStatus.RETURNED and lead.return_reason == "材料不全"
    with rt.sessions() as s:
        inst = s.get(Instance, item.instance_id)
        assert inst.status is InstanceStatus.CLOSED and inst.closed_on_time is True
        assert s.get(WorkItem, item.id).status is ItemStatus.CLOSED
        assert s.get(Timer, inst.id) is None
        # the outstanding contribution of 省经信委 is cancelled by 办结销号
        sup_items = s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id,
                                                     WorkItem.role == ItemRole.SUPPORTING)).all()
        assert {w.status for w in sup_items} == {ItemStatus.CANCELLED}
        assert verify_chain(s).ok


def _snapshot(rt):
    with rt.sessions() as s:
        return (s.scalar(select(func.count(Evidence.id))),
                tuple(s.execute(select(WorkItem.id, WorkItem.status, WorkItem.updated_at)
                                .order_by(WorkItem.id)).all()),
                tuple(s.execute(select(Instance.id, Instance.version)).all()))


@pytest.mark.parametrize("case", ["wrong_unit", "wrong_role", "bad_number", "empty_text",
                                  "unknown_target", "review_as_liaison"])
def test_refused_actions_change_nothing(rt, case):
    add_user(rt, "hefei", Role.LIAISON, "hefei")
    wuhu = add_user(rt, "wuhu", Role.LIAISON, "wuhu")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    jxw = add_user(rt, "jxw", Role.LIAISON, "jxw")
    item = lead_item(rt, 1, "hefei")
    task2 = lead_item(rt, 2, "jxw")
    before = _snapshot(rt)
    errors = {"wrong_unit": NotFoundError, "wrong_role": PermissionDeniedError,
              "bad_number": ValidationError, "empty_text": ValidationError,
              "unknown_target": ValidationError, "review_as_liaison": NotFoundError}
    with pytest.raises(errors[case]):
        with rt.sessions() as s, s.begin():
            if case == "wrong_unit":
                service.submit(s, rt.clock, wuhu, item.id, text="越权")
            elif case == "wrong_role":
                service.submit(s, rt.clock, sup, item.id, text="督查不能代报")
            elif case == "bad_number":
                service.submit(s, rt.clock, jxw, task2.id, text="x",
                               numbers={"cultivated": -5})
            elif case == "empty_text":
                service.submit(s, rt.clock, jxw, task2.id, text="  ")
            elif case == "unknown_target":
                service.submit(s, rt.clock, jxw, task2.id, text="x", numbers={"nope": 1})
            else:
                service.review(s, rt.clock, wuhu, item.id, approve=True)
    assert _snapshot(rt) == before


def test_closed_item_refused(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, item.id, text="已完成")
    with pytest.raises(StateError), rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, item.id, text="再报一次")


def test_an_action_reads_the_obligation_again_under_its_lock(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    jxw = add_user(rt, "jxw", Role.LIAISON, "jxw")
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        contrib = s.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                   WorkItem.role == ItemRole.SUPPORTING)).one()
    slow = rt.sessions()
    slow.begin()
    stale = service.get_item(slow, hefei, item.id)  # holds the instance at version N
    assert stale.instance.version == 1
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, jxw, contrib.id, text="配合意见")
    service.submit(slow, rt.clock, hefei, item.id, text="同时报送")  # on version N + 1
    slow.commit()
    slow.close()
    with rt.sessions() as s:
        assert s.get(WorkItem, item.id).status is ItemStatus.SUBMITTED
        assert s.get(WorkItem, contrib.id).status is ItemStatus.CLOSED  # nothing of it lost


def test_stale_version_conflict(rt):
    """A writer that skipped the lock (holding a stale copy) gets ConflictError, keeps nothing."""
    from engine import instances

    jxw = add_user(rt, "jxw", Role.LIAISON, "jxw")
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        contrib = s.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                   WorkItem.role == ItemRole.SUPPORTING)).one()
    slow = rt.sessions()
    slow.begin()
    inst = slow.get(Instance, item.instance_id)
    wf = instances.load(slow, inst)
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, jxw, contrib.id, text="配合意见")
    inst.last_error = "stale write"
    with pytest.raises(ConflictError):
        instances.save(slow, inst, wf)
    slow.rollback()
    slow.close()
    with rt.sessions() as s:
        assert s.get(Instance, item.instance_id).last_error is None


def test_deadline_timer_fires_once_keeps_the_work_and_leaves_overdue_to_the_sweep(rt):
    from notifications.reminders import mark_overdue

    rt.clock.set(rt.clock.now().replace(year=2018, month=8, day=31, hour=0, minute=30))
    assert fire_due_timers(rt.sessions, rt.clock) >= 16
    assert fire_due_timers(rt.sessions, rt.clock) == 0
    with rt.sessions() as s:
        # one source of "overdue" (docs/scheduler.md): the timer raises no event to consume
        assert s.scalar(select(func.count(EngineEvent.id)).where(
            EngineEvent.kind.like("escalation:%"))) == 0
        assert queries.inbox(s, "hefei")[0].status is ItemStatus.OPEN
    rt.clock.set(rt.clock.now().replace(hour=8))
    assert mark_overdue(rt.sessions, rt.clock) == 32  # 16 cities' task 1 and their parts
    with rt.sessions() as s:
        assert s.get(WorkItem, lead_item(rt, 1, "hefei").id).escalation.value == "urged"


def test_extension_moves_due_date_and_timer(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        req = service.request_extension(s, rt.clock, hefei, item.id, new_due=date(2018, 9, 30),
                                        reason="需市政府常务会审议")
    with pytest.raises(StateError), rt.sessions() as s, s.begin():
        service.request_extension(s, rt.clock, hefei, item.id, new_due=date(2018, 10, 30),
                                  reason="再次申请")
    with rt.sessions() as s, s.begin():
        service.decide_extension(s, rt.clock, sup, req.id, approve=True)
    rt.clock.advance(timedelta(days=93))  # 2018-08-31
    fire_due_timers(rt.sessions, rt.clock)
    with rt.sessions() as s:
        inst = s.get(Instance, item.instance_id)
        assert inst.due_date == date(2018, 9, 30) and inst.original_due_date == date(2018, 8, 30)
        assert s.get(WorkItem, item.id).due_date == date(2018, 9, 30)
        assert s.get(Timer, inst.id).due_at == overdue_from(date(2018, 9, 30))
    rt.clock.advance(timedelta(days=31))  # 2018-10-01
    assert fire_due_timers(rt.sessions, rt.clock) >= 1
    with rt.sessions() as s:
        timer = s.get(Timer, item.instance_id)
        assert timer is None or timer.due_at > rt.clock.now()
        assert s.scalar(select(func.count(EngineEvent.id)).where(
            EngineEvent.kind.like("escalation:%"))) == 0


def test_review_items_belong_to_supervisors_only(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    jxw = add_user(rt, "jxw", Role.LIAISON, "jxw")  # the supervising office's own liaison
    admin = add_user(rt, "admin", Role.ADMIN, None)
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, item.id, text="已完成")
    rev = review_item(rt, item.instance_id)
    with rt.sessions() as s:
        assert rev.unit_id == "dcs"
        assert rev.id not in {i.id for i in queries.inbox(s, "jxw", limit=500)}
        assert queries.inbox_count(s, "jxw") == len(queries.inbox(s, "jxw", limit=500))
        with pytest.raises(NotFoundError):
            service.get_item(s, jxw, rev.id)
    with pytest.raises(PermissionDeniedError), rt.sessions() as s, s.begin():
        service.review(s, rt.clock, admin, rev.id, approve=True)


def test_board_lists_every_obligation_overdue_first(rt):
    rt.clock.set(rt.clock.now().replace(month=9, day=3))
    with rt.sessions() as s:
        rows = queries.board(s, date(2018, 9, 3))
        assert len(rows) == 24
        assert [r.days_overdue for r in rows[:16]] == [4] * 16
        assert {r.task_number for r in rows[:16]} == {1}
        assert rows[0].unit_name.endswith("人民政府")
        assert [r.unit_id for r in queries.board(s, date(2018, 9, 3), unit="hefei")] == ["hefei"]
        assert len(queries.board(s, date(2018, 9, 3), status="overdue")) == 16


def test_review_records_the_lead_evidence_even_after_a_late_contribution(rt):
    jxw = add_user(rt, "jxw", Role.LIAISON, "jxw")
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    item = lead_item(rt, 2, "jxw")
    with rt.sessions() as s, s.begin():
        lead = service.submit(s, rt.clock, jxw, item.id, text="全年完成",
                              numbers={"pooled": 1000})
        evidence_id = s.scalars(select(Evidence.id).where(
            Evidence.work_item_id == lead.id)).one()
    with rt.sessions() as s, s.begin():
        contrib = s.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                   WorkItem.unit_id == "hefei")).one()
        service.submit(s, rt.clock, hefei, contrib.id, text="合肥配合材料")  # after the lead's
    with rt.sessions() as s, s.begin():
        service.review(s, rt.clock, sup, review_item(rt, item.instance_id).id, approve=True)
    with rt.sessions() as s:
        review = s.scalars(select(Review).where(Review.instance_id == item.instance_id)).one()
        assert review.evidence_id == evidence_id
