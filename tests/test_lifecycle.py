"""engine.lifecycle: the declared transitions (each rule, illegal ones raise), the records,
the "as of a day" readers and the 约谈 action."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from engine import lifecycle, service
from engine.clock import CHINA_TZ, ManualClock
from engine.cycles import open_cycles
from engine.errors import PermissionDeniedError, TransitionError, ValidationError
from engine.models import (
    AuditEvent,
    EscalationLevel,
    Interview,
    ItemKind,
    ItemRole,
    ItemStatus,
    Role,
    Transition,
    WorkItem,
)
from tests.engine_fixtures import add_user, make_runtime
from tests.test_engine_flow import lead_item, review_item

STATUSES = [None, *ItemStatus]
LEVELS = list(EscalationLevel)


def _allowed(kind: ItemKind, before: ItemStatus | None, after: ItemStatus) -> bool:
    return after in lifecycle.STATUS_RULES[kind].get(before, frozenset())


ROLE_OF_KIND = {ItemKind.EVIDENCE: ItemRole.LEAD, ItemKind.PLAN: ItemRole.LEAD,
                ItemKind.ACK: ItemRole.LEAD, ItemKind.PROGRESS: ItemRole.SUPPORTING,
                ItemKind.CONTRIBUTION: ItemRole.SUPPORTING, ItemKind.REVIEW: ItemRole.SUPERVISOR}


@pytest.mark.parametrize(("kind", "before", "after"), [
    (kind, before, after) for kind in ItemKind for before in STATUSES for after in ItemStatus
    if before is not after])
def test_status_rule(db, clock, kind, before, after):
    """Every (kind, from, to): the table's transitions go through and are recorded; any other
    raises TransitionError naming the item and both states, and changes nothing."""
    item = WorkItem(id=7, role=ROLE_OF_KIND[kind], kind=kind, status=before or ItemStatus.OPEN)
    with db.begin() as s:
        if before is None:
            item.status = after
            call = lambda: lifecycle.created(s, clock, item)  # noqa: E731
        else:
            call = lambda: lifecycle.set_status(s, clock, item, after, actor="t")  # noqa: E731
        if _allowed(kind, before, after):
            call()
            assert item.status is after
        else:
            with pytest.raises(TransitionError) as err:
                call()
            assert "事项 #7" in str(err.value) and f"“{after.label}”" in str(err.value)
            assert item.status is (before or after)
    with db() as s:
        rows = s.scalars(select(Transition)).all()
        if _allowed(kind, before, after):
            [row] = rows
            assert (row.from_state, row.to_state, row.field) == (
                before.value if before else None, after.value, "status")
        else:
            assert rows == []


def test_the_status_table_is_what_the_flows_use():
    """The lead's loop, a contribution, a review round, a 签收 or report once: nothing else."""
    lead = lifecycle.STATUS_RULES[ItemKind.EVIDENCE]
    assert lead[ItemStatus.SUBMITTED] == {ItemStatus.RETURNED, ItemStatus.CLOSED}
    assert ItemStatus.CLOSED not in lead  # a closed obligation never opens again
    assert lifecycle.STATUS_RULES[ItemKind.REVIEW][ItemStatus.CLOSED] == {ItemStatus.OPEN}
    for once in (ItemKind.ACK, ItemKind.PROGRESS, ItemKind.CONTRIBUTION):
        assert lifecycle.STATUS_RULES[once] == {
            None: {ItemStatus.OPEN}, ItemStatus.OPEN: {ItemStatus.CLOSED, ItemStatus.CANCELLED}}


@pytest.fixture
def rt(tmp_path):
    rt = make_runtime(tmp_path)
    open_cycles(rt.sessions, rt.clock)
    return rt


def _set_level(rt, item_id: int, level: EscalationLevel) -> None:
    with rt.sessions() as s, s.begin():
        s.execute(update(WorkItem).where(WorkItem.id == item_id).values(escalation=level))


@pytest.mark.parametrize(("before", "after"), [
    (b, a) for b, a in itertools.product(LEVELS, LEVELS) if b is not a])
def test_level_rule(rt, before, after):
    """Every (from, to) of the ladder on a lead item: allowed ones move and are recorded
    (with the stamps the sweeps read), the rest raise and change nothing."""
    item = lead_item(rt, 1, "hefei")
    _set_level(rt, item.id, before)
    ok = after in lifecycle.LEVEL_RULES[before]
    with rt.sessions() as s, s.begin():
        if ok:
            assert lifecycle.raise_level(s, rt.clock, item.id, after, reason="r",
                                         ref=("document", 3)) is before
        else:
            with pytest.raises(TransitionError) as err:
                lifecycle.raise_level(s, rt.clock, item.id, after)
            assert f"事项 #{item.id}（牵头）" in str(err.value)
            assert f"“{before.label}”" in str(err.value)
    with rt.sessions() as s:
        row = s.get(WorkItem, item.id)
        assert row.escalation is (after if ok else before)
        moved = s.scalars(select(Transition).where(Transition.field == "escalation")).all()
        assert [(t.from_state, t.to_state, t.ref_id) for t in moved] == (
            [(before.value, after.value, "3")] if ok else [])
        if ok and after is EscalationLevel.URGED:
            assert row.overdue_marked_at == rt.clock.now()
        if ok and after is EscalationLevel.NOTICED:
            assert row.escalated_at == rt.clock.now()


def test_a_supporting_item_is_urged_but_never_noticed(rt):
    with rt.sessions() as s:
        part = s.scalars(select(WorkItem).where(WorkItem.role == ItemRole.SUPPORTING)).first()
    with rt.sessions() as s, s.begin():
        lifecycle.raise_level(s, rt.clock, part.id, EscalationLevel.URGED)
    with pytest.raises(TransitionError, match="配合"), rt.sessions() as s, s.begin():
        lifecycle.raise_level(s, rt.clock, part.id, EscalationLevel.NOTICED)


def test_actions_record_every_status_change_and_the_as_of_readers_replay_them(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    item = lead_item(rt, 1, "hefei")
    days = iter(date(2018, 7, d) for d in (2, 3, 4, 5))

    def on(day: date) -> None:
        rt.clock.set(datetime.combine(day, datetime.min.time(), CHINA_TZ) + timedelta(hours=10))

    on(next(days))
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, item.id, text="初稿")
    on(next(days))
    with rt.sessions() as s, s.begin():
        service.review(s, rt.clock, sup, review_item(rt, item.instance_id).id, approve=False,
                       reason="缺佐证")
    on(next(days))
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, item.id, text="补充")
    on(next(days))
    with rt.sessions() as s, s.begin():
        service.review(s, rt.clock, sup, review_item(rt, item.instance_id).id, approve=True)
    with rt.sessions() as s:
        rows = s.scalars(select(Transition).where(Transition.object_id == item.id,
                                                  Transition.field == "status")
                         .order_by(Transition.id)).all()
        assert [(r.from_state, r.to_state) for r in rows] == [
            (None, "open"), ("open", "submitted"), ("submitted", "returned"),
            ("returned", "submitted"), ("submitted", "closed")]
        assert [r.actor for r in rows][1:] == ["hefei", "duchao", "hefei", "duchao"]
        seen = [lifecycle.status_on(s, item.id, date(2018, 7, d)) for d in (1, 2, 3, 4, 5)]
        assert seen == [ItemStatus.OPEN, ItemStatus.SUBMITTED, ItemStatus.RETURNED,
                        ItemStatus.SUBMITTED, ItemStatus.CLOSED]
        assert lifecycle.status_on(s, item.id, date(2018, 5, 29)) is None
        review = s.scalars(select(Transition).where(
            Transition.object_id != item.id, Transition.to_state == "open")).all()
        assert review  # the review items' rounds: open, closed, open again


def test_an_extension_takes_the_item_back_down_the_ladder_recorded(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        lifecycle.raise_level(s, rt.clock, item.id, EscalationLevel.URGED)
        lifecycle.raise_level(s, rt.clock, item.id, EscalationLevel.NOTICED)
        req = service.request_extension(s, rt.clock, hefei, item.id, new_due=date(2018, 9, 30),
                                        reason="需审议")
        service.decide_extension(s, rt.clock, sup, req.id, approve=True)
    with rt.sessions() as s:
        row = s.get(WorkItem, item.id)
        assert row.escalation is EscalationLevel.NONE and row.overdue_marked_at is None
        last = s.scalars(select(Transition).order_by(Transition.id.desc())).first()
        assert (last.from_state, last.to_state, last.actor, last.ref_type) == (
            "noticed", "none", "duchao", "extension")
        today = rt.clock.now().date()
        assert lifecycle.level_on(s, item.id, today) is EscalationLevel.NONE
        assert lifecycle.level_on(s, item.id, date(2018, 5, 1)) is EscalationLevel.NONE


def _to_principal(rt, item_id: int) -> None:
    with rt.sessions() as s, s.begin():
        for level in (EscalationLevel.URGED, EscalationLevel.NOTICED,
                      EscalationLevel.PRINCIPAL):
            lifecycle.raise_level(s, rt.clock, item_id, level)


def test_an_interview_is_recorded_once_after_the_second_notice(rt):
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    item = lead_item(rt, 1, "hefei")
    rt.clock.set(rt.clock.now() + timedelta(days=100))  # 2018-09-07
    today = rt.clock.now().astimezone(CHINA_TZ).date()
    kw = {"held_on": today, "interviewee": "张三（副市长）", "summary": "要求十日内办结"}
    with pytest.raises(TransitionError, match="“未升级”"), rt.sessions() as s, s.begin():
        lifecycle.record_interview(s, rt.clock, sup, item.id, **kw)
    _to_principal(rt, item.id)
    with pytest.raises(PermissionDeniedError), rt.sessions() as s, s.begin():
        lifecycle.record_interview(s, rt.clock, hefei, item.id, **kw)
    for bad in ({"held_on": today + timedelta(days=1)}, {"held_on": today - timedelta(days=1)},
                {"interviewee": " "}, {"summary": ""}):
        with pytest.raises(ValidationError), rt.sessions() as s, s.begin():
            lifecycle.record_interview(s, rt.clock, sup, item.id, **{**kw, **bad})
    with rt.sessions() as s, s.begin():
        iv = lifecycle.record_interview(s, rt.clock, sup, item.id, **kw)
    with pytest.raises(TransitionError, match="“已约谈”"), rt.sessions() as s, s.begin():
        lifecycle.record_interview(s, rt.clock, sup, item.id, **kw)
    with rt.sessions() as s:
        assert s.get(WorkItem, item.id).escalation is EscalationLevel.INTERVIEWED
        assert [i.id for i in s.scalars(select(Interview))] == [iv.id]
        last = s.scalars(select(Transition).order_by(Transition.id.desc())).first()
        assert (last.to_state, last.ref_type, last.ref_id) == ("interviewed", "interview",
                                                                str(iv.id))
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "interview")).one()
        assert audit.actor == "duchao" and audit.after["interviewee"] == "张三（副市长）"


def test_an_illegal_status_change_inside_an_action_changes_nothing(rt):
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, item.id, text="已完成")
    with rt.sessions() as s:
        row = s.get(WorkItem, item.id)
        with pytest.raises(TransitionError, match="不能从“待审核”变为“待办理”"):
            lifecycle.set_status(s, rt.clock, row, ItemStatus.OPEN)
        s.rollback()
    with rt.sessions() as s:
        assert s.get(WorkItem, item.id).status is ItemStatus.SUBMITTED


def test_manual_clock_is_the_only_time(rt):
    """Transitions carry the business clock's time, never the wall clock's."""
    rt.clock.set(datetime(2019, 1, 2, 8, tzinfo=CHINA_TZ))
    item = lead_item(rt, 1, "hefei")
    with rt.sessions() as s, s.begin():
        lifecycle.raise_level(s, rt.clock, item.id, EscalationLevel.URGED)
    with rt.sessions() as s:
        t = s.scalars(select(Transition).where(Transition.field == "escalation")).one()
        assert t.at == datetime(2019, 1, 2, 8, tzinfo=CHINA_TZ)
    assert isinstance(rt.clock, ManualClock)
