"""Every outcome reaches its unit once: in-app and by mail to its liaisons, through real SMTP.

Returned (with the reason), approved, extension approved (with the new date and the note) or
rejected, new assignments; the action commits, the next delivery job (or tick) announces it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from engine import service
from engine.clock import CHINA_TZ, ManualClock
from engine.models import (
    EngineEvent,
    Instance,
    ItemKind,
    ItemRole,
    PolicyTask,
    Role,
    Unit,
    User,
    WorkItem,
)
from engine.service import Actor
from notifications.models import Notification, OutboxMessage
from notifications.scheduler import deliver_job
from notifications.tick import run_tick
from tests.engine_fixtures import make_runtime

LIAISONS = ("hefei", "wuhu", "bengbu", "huainan", "jxw")
OUTCOME_KINDS = ("returned", "approved", "extension", "assigned")


def addr(unit: str) -> str:
    return f"{unit}.liaison@ah.example.cn"


@pytest.fixture
def world(tmp_path, smtp_server):
    """The seed policy on 2018-05-30 08:00, mail to the test server; liaisons of five units
    (two for Hefei), the others without any address (in-app notes only)."""
    clock = ManualClock(datetime(2018, 5, 30, 8, 0, tzinfo=CHINA_TZ))
    rt = make_runtime(tmp_path, clock=clock)
    rt = dataclasses.replace(rt, config=dataclasses.replace(rt.config, smtp_url=smtp_server.url))
    actors: dict[str, Actor] = {}
    with rt.sessions() as s, s.begin():
        def user(name: str, role: Role, unit: str, email: str) -> Actor:
            row = User(username=name, display_name=f"{name}联络员", password_hash="x",
                       role=role, unit_id=unit, email=email, active=True,
                       created_at=clock.now())
            s.add(row)
            s.flush()
            return Actor.of(row)

        for unit in LIAISONS:
            actors[unit] = user(unit, Role.LIAISON, unit, addr(unit))
        user("hefei2", Role.LIAISON, "hefei", "hefei.second@ah.example.cn")
        actors["duchao"] = user("duchao", Role.SUPERVISOR, "dcs", "duchao@ah.example.cn")
        assert s.get(Unit, "hefei") is not None
    return rt, actors


def _lead(rt, unit: str, task: int = 1) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == task, WorkItem.unit_id == unit,
            WorkItem.kind == ItemKind.EVIDENCE)).one()


def _review_item(rt, unit: str) -> int:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem.id).where(
            WorkItem.instance_id == _lead(rt, unit).instance_id,
            WorkItem.role == ItemRole.SUPERVISOR).order_by(WorkItem.id.desc())).first()


def _at(rt, day: date, hour: int = 10) -> None:
    rt.clock.set(datetime.combine(day, time(hour), CHINA_TZ))


def _mail(smtp_server, kind: str) -> dict[str, list]:
    """Received mail of one kind (the dedupe key's first part), by the addresses it went to."""
    found: dict[str, list] = {}
    for got in smtp_server.received:
        if str(got.message["X-Duban-Key"]).split(":")[0] == kind:
            for to in got.rcpt_tos:
                found.setdefault(to, []).append(got.message)
    return found


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def _notes(rt, unit: str, kind: str) -> list[Notification]:
    with rt.sessions() as s:
        return list(s.scalars(select(Notification).where(Notification.unit_id == unit,
                                                         Notification.kind == kind)))


def test_new_assignments_one_message_per_unit_listing_its_items(world, smtp_server):
    rt, _ = world
    run_tick(rt)
    got = _mail(smtp_server, "assigned")
    [hefei] = got[addr("hefei")]
    assert hefei["Subject"] == "【新交办任务】你单位有2项新的督办事项"
    assert got["hefei.second@ah.example.cn"] == [hefei]  # every liaison of the unit, one mail
    text = _body(hefei)
    assert "合肥市人民政府：" in text and "任务1" in text and "牵头" in text
    assert "2018年8月30日" in text and f"#{_lead(rt, 'hefei').id}" in text
    [jxw] = got[addr("jxw")]
    text = _body(jxw)  # lead of tasks 2-4, 6-8; supporting on the 16 cities' task 1
    assert "配合，牵头单位合肥市人民政府" in text and "任务2" in text
    assert jxw["Subject"] == f"【新交办任务】你单位有{text.count('（待办事项 #')}项新的督办事项"
    # units without an address still have the note; the supervising office gets nothing
    assert len(_notes(rt, "luan", "assigned")) == 1
    assert _notes(rt, "dcs", "assigned") == []
    assert "duchao@ah.example.cn" not in got
    before = len(smtp_server.received)
    run_tick(rt)
    deliver_job(rt)
    assert len(smtp_server.received) == before


def test_each_review_and_extension_outcome_reaches_its_unit_once(world, smtp_server):
    rt, actors = world
    run_tick(rt)
    start = len(smtp_server.received)
    _at(rt, date(2018, 8, 10))
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, actors["hefei"], _lead(rt, "hefei").id, text="已完成。")
    with rt.sessions() as s, s.begin():
        service.review(s, rt.clock, actors["duchao"], _review_item(rt, "hefei"),
                       approve=False, reason="佐证材料缺少入库企业名单")
    deliver_job(rt)  # duban serve's job, every minute: announces, then sends
    [returned] = _mail(smtp_server, "returned")[addr("hefei")]
    assert returned["Subject"].startswith("【退回】任务1")
    text = _body(returned)
    assert "退回理由：佐证材料缺少入库企业名单" in text and "2018年8月10日退回" in text
    [note] = _notes(rt, "hefei", "returned")
    assert note.title == returned["Subject"] and note.link == f"/items/{_lead(rt, 'hefei').id}"

    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, actors["hefei"], _lead(rt, "hefei").id, text="已补充名单。")
    with rt.sessions() as s, s.begin():
        service.review(s, rt.clock, actors["duchao"], _review_item(rt, "hefei"), approve=True)
        wuhu = service.request_extension(s, rt.clock, actors["wuhu"], _lead(rt, "wuhu").id,
                                         new_due=date(2018, 9, 30), reason="数据待复核")
        bengbu = service.request_extension(s, rt.clock, actors["bengbu"],
                                           _lead(rt, "bengbu").id, new_due=date(2018, 9, 15),
                                           reason="人手不足")
    with rt.sessions() as s, s.begin():
        service.decide_extension(s, rt.clock, actors["duchao"], wuhu.id, approve=True,
                                 due=date(2018, 9, 20), note="请于9月20日前报送")
        service.decide_extension(s, rt.clock, actors["duchao"], bengbu.id, approve=False,
                                 note="理由不充分")
    _at(rt, date(2018, 8, 11), hour=8)
    run_tick(rt)  # the tick announces too
    deliver_job(rt)
    run_tick(rt)

    [approved] = _mail(smtp_server, "approved")[addr("hefei")]
    assert approved["Subject"].startswith("【审核通过】任务1") and \
        approved["Subject"].endswith("已办结")
    assert "2018年8月10日审核通过" in _body(approved)
    ext = _mail(smtp_server, "extension")
    [granted] = ext[addr("wuhu")]
    assert granted["Subject"].startswith("【延期已批准】任务1") and "2018年9月20日" in \
        granted["Subject"]
    text = _body(granted)
    assert "由2018年8月30日延至2018年9月20日" in text and "审批意见：请于9月20日前报送" in text
    [refused] = ext[addr("bengbu")]
    assert refused["Subject"].startswith("【延期未批准】任务1")
    text = _body(refused)
    assert "未予批准，办理时限仍为2018年8月30日" in text and "审批意见：理由不充分" in text

    # each once, each to its own unit only; the others heard nothing of it
    # (the 签收 and progress 催办 of units that acknowledge nothing here are not outcomes)
    outcome = [m for m in smtp_server.received[start:]
               if str(m.message["X-Duban-Key"]).split(":")[0] in OUTCOME_KINDS]
    keys = Counter(str(m.message["X-Duban-Key"]) for m in outcome)
    assert set(keys.values()) == {1} and len(keys) == 4, keys
    for got in outcome:
        unit = {"returned": "hefei", "approved": "hefei"}.get(
            str(got.message["X-Duban-Key"]).split(":")[0])
        owners = {to.split(".")[0] for to in got.rcpt_tos}
        assert len(owners) == 1 and (unit is None or owners == {unit})
    for unit in ("huainan", "jxw"):
        for kind in ("returned", "approved", "extension"):
            assert _notes(rt, unit, kind) == [], (unit, kind)
    with rt.sessions() as s:
        assert s.scalar(select(EngineEvent.id).where(EngineEvent.kind.like("outcome:%"),
                                                     EngineEvent.handled_at.is_(None))) is None
        outbox = Counter(m.kind for m in s.scalars(select(OutboxMessage)))
    assert outbox["returned"] == outbox["approved"] == 1 and outbox["extension"] == 2


def test_a_refused_action_leaves_no_outcome(world, smtp_server):
    rt, actors = world
    run_tick(rt)
    _at(rt, date(2018, 8, 10))
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, actors["hefei"], _lead(rt, "hefei").id, text="已完成。")
    with pytest.raises(Exception, match="退回理由"), rt.sessions() as s, s.begin():
        service.review(s, rt.clock, actors["duchao"], _review_item(rt, "hefei"), approve=False)
    deliver_job(rt)
    assert _notes(rt, "hefei", "returned") == [] and "returned" not in {
        str(m.message["X-Duban-Key"]).split(":")[0] for m in smtp_server.received}
