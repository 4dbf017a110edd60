"""The bulletin calendar, figures as of a period's last day, and the yearly bulletin on cities."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time

from pypdf import PdfReader
from sqlalchemy import select

from engine import service
from engine.clock import CHINA_TZ, ManualClock
from engine.models import Blob, Instance, ItemRole, Policy, PolicyTask, Role, WorkItem
from engine.workdays import WorkCalendar
from notifications.bulletins import (
    BulletinCalendar,
    _month,
    collect,
    due_periods,
    nth_working_day,
)
from notifications.models import Document, DocumentKind, OutboxMessage
from notifications.tick import run_tick, step_bulletins, step_fire_timers, step_open_cycles
from tests.engine_fixtures import add_user, make_runtime

CAL = WorkCalendar()
ISSUED = date(2018, 5, 30)


def keys(day: date, when: BulletinCalendar | None = None) -> list[str]:
    return [p.key for p in due_periods(day, ISSUED, 2020, when or BulletinCalendar(), CAL)]


def test_calendar():
    assert nth_working_day(2018, 10, 1, CAL) == date(2018, 10, 8)  # National Day week
    assert nth_working_day(2019, 1, 1, CAL) == date(2019, 1, 2)
    assert keys(date(2018, 6, 1)) == []   # issued 05-30: two days of May join June
    assert keys(date(2018, 7, 1)) == []   # Sunday: June's is due 07-02
    assert keys(date(2018, 7, 2)) == ["monthly:2018-06"]
    first = due_periods(date(2018, 7, 2), ISSUED, 2020, BulletinCalendar(), CAL)[0]
    assert (first.start, first.end, first.label) == (ISSUED, date(2018, 6, 30), "2018年5—6月")
    assert keys(date(2018, 10, 7)) == ["monthly:2018-08"]
    assert keys(date(2018, 10, 8)) == ["monthly:2018-09"]
    assert keys(date(2019, 1, 1)) == ["monthly:2018-11"]   # 2017 is before the policy
    assert keys(date(2019, 1, 2)) == ["monthly:2018-12", "yearly:2018"]
    assert keys(date(2021, 1, 4)) == ["monthly:2020-12", "yearly:2020"]
    assert keys(date(2021, 2, 1)) == ["yearly:2020"]       # past the horizon
    third = BulletinCalendar(monthly_working_day=3, yearly=False)
    assert keys(date(2018, 7, 3), third) == []
    assert keys(date(2018, 7, 4), third) == ["monthly:2018-06"]
    assert keys(date(2018, 7, 4), BulletinCalendar(monthly=False)) == []


def at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


def _lead(rt, task: int, unit: str) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == task, WorkItem.unit_id == unit,
            WorkItem.role == ItemRole.LEAD)).one()


def test_figures_are_as_of_the_period_end(tmp_path):
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 8, 20))))
    step_open_cycles(rt)
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    wuhu = add_user(rt, "wuhu", Role.LIAISON, "wuhu")
    jxw = add_user(rt, "jxw", Role.LIAISON, "jxw")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, hefei, _lead(rt, 1, "hefei").id, text="已制定")
        service.submit(s, rt.clock, jxw, _lead(rt, 2, "jxw").id, text="入库",
                       numbers={"pooled": 300, "certified": 120})
    rt.clock.set(at(date(2018, 8, 21)))
    with rt.sessions() as s, s.begin():
        for unit in ("hefei", "jxw"):
            task = 1 if unit == "hefei" else 2
            rev = s.scalars(select(WorkItem).where(
                WorkItem.instance_id == _lead(rt, task, unit).instance_id,
                WorkItem.role == ItemRole.SUPERVISOR)).one()
            service.review(s, rt.clock, sup, rev.id, approve=True)
    rt.clock.set(at(date(2018, 9, 2)))  # wuhu submits late, after the period's end
    step_fire_timers(rt)
    with rt.sessions() as s, s.begin():
        service.submit(s, rt.clock, wuhu, _lead(rt, 1, "wuhu").id, text="补报")
    with rt.sessions() as s:
        policy = s.get(Policy, "anhui-2018-zjtx")
        facts = collect(s, policy, _month(2018, 8, BulletinCalendar(), CAL))
        now = collect(s, policy, _month(2018, 9, BulletinCalendar(), CAL))
    assert (facts.totals.assigned, facts.totals.closed, facts.totals.overdue) == (24, 2, 15)
    late = {r.unit for r in facts.overdue}
    assert "芜湖市人民政府" in late and "合肥市人民政府" not in late
    assert {r.days_overdue for r in facts.overdue} == {1}
    rows = {r.name: r for r in facts.units}
    assert rows["合肥市人民政府"].closed_on_time == 1 and rows["合肥市人民政府"].is_city
    assert not rows["安徽省经济和信息化委员会"].is_city  # the name of 08-31
    pooled = [t for t in facts.targets if t.task_number == 2 and t.target == 1000]
    assert [t.achieved for t in pooled] == [300]
    assert {t.task_number for t in facts.targets} == {2, 3, 4, 5, 7}
    # as of 09-30 wuhu waits for review (yellow), so it is no longer counted overdue
    assert "芜湖市人民政府" not in {r.unit for r in now.overdue}
    assert now.totals.overdue == 14


def test_yearly_bulletin_on_every_city(tmp_path):
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 5, 30))))
    step_open_cycles(rt)
    rt.clock.set(at(date(2019, 1, 2)))
    rt.config.extra["DUBAN_BULLETINS"] = "yearly"
    counts = run_tick(rt, [("fire_timers", step_fire_timers), ("bulletins", step_bulletins)])
    assert counts.counts["bulletins"] == 1
    assert run_tick(rt, [("bulletins", step_bulletins)]).counts["bulletins"] == 0
    with rt.sessions() as s:
        doc = s.scalars(select(Document).where(Document.kind == DocumentKind.BULLETIN)).one()
        assert doc.dedupe_key == "bulletin:anhui-2018-zjtx:yearly:2018"
        assert doc.title == "关于2018年度各市培育和发展情况的通报"
        assert doc.number == "皖政督〔2019〕1号" and doc.data["as_of"] == "2018-12-31"
        pdf = s.get(Blob, doc.pdf_sha256).data
        assert s.scalars(select(OutboxMessage)).all() == []  # nobody has an address
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "各市培育和发展情况" in text and "2019年第1期" in text
    assert "安徽省人民政府督查室" in text and "督查室办公室" not in text  # it prints its own
    assert "省经信厅" in text and "省经信委" not in text  # tables: short names of 2018-12-31
    for city in ("合肥市", "芜湖市", "亳州市", "池州市"):
        assert f"{city}人民政府" in text
    # the year's 考核 ranking and the cities' map travel with the yearly bulletin
    assert "2018年度考核得分和名次（初步）" in text and "各市按时办结率分布图" in text
    assert "不合格" in text or "合格" in text


def test_a_bad_stored_address_never_blocks_the_others_mail(tmp_path):
    """Issue 9 item 6: an address stored with a line break (before input was checked) used to
    fail the enqueue of its unit's mail and roll back the whole distribution with it."""
    from engine.models import Unit, User
    from notifications.models import Notification

    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 5, 30))))
    step_open_cycles(rt)
    with rt.sessions() as s, s.begin():
        for unit in s.scalars(select(Unit)):
            unit.email = f"{unit.id}@ah.example.cn"
        s.get(Unit, "hefei").email = "hefei@ah.example.cn\n"
        s.add(User(username="wuhu", display_name="芜湖联络员", password_hash="x",
                   role=Role.LIAISON, unit_id="wuhu", email="wuhu@ah.example.cn\r\nBcc: x@evil.cn",
                   active=True, created_at=rt.clock.now()))
        units = set(s.scalars(select(Unit.id)))
    rt.clock.set(at(date(2019, 1, 2)))
    rt.config.extra["DUBAN_BULLETINS"] = "yearly"
    report = run_tick(rt, [("fire_timers", step_fire_timers), ("bulletins", step_bulletins)])
    assert report.counts["bulletins"] == 1
    with rt.sessions() as s:
        mails = s.scalars(select(OutboxMessage)).all()
        noted = set(s.scalars(select(Notification.unit_id).where(
            Notification.kind == "bulletin")))
    to = {addr for m in mails for addr in m.recipients + m.cc}
    assert all("\n" not in a and "evil" not in a for a in to)
    reached = {u for u in units if any(f"{u}@ah.example.cn" in a for a in to)}
    # everyone else's mail is queued; wuhu's goes to the unit's address instead of the bad one
    assert reached == units - {"hefei"}
    assert "hefei" in noted  # hefei still gets the in-app note
