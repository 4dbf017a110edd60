"""Bulletins report progress, not only closure (issue 12 item 9): the part 进展报送情况 with
the reports due in the period, on time, late and missing per unit, the late units named."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time

from pypdf import PdfReader
from sqlalchemy import select

from engine import checkins
from engine.access import Actor
from engine.clock import CHINA_TZ, ManualClock
from engine.models import Blob, ItemKind, ItemRole, Policy, Role, WorkItem
from engine.reporting import report_counts
from engine.workdays import WorkCalendar
from notifications.bulletins import BulletinCalendar, _month, collect
from notifications.models import Document, DocumentKind
from notifications.tick import (
    run_tick,
    step_bulletins,
    step_checkins,
    step_fire_timers,
    step_open_cycles,
)
from tests.engine_fixtures import make_runtime

POLICY = "anhui-2018-zjtx"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


def _report_all(rt, unit: str, role: ItemRole | None = None) -> int:
    """Every open progress item of the unit (in a role) reported now."""
    actor = Actor(None, f"{unit}-l", Role.LIAISON, unit)
    with rt.sessions() as s, s.begin():
        q = select(WorkItem.id).where(WorkItem.unit_id == unit,
                                      WorkItem.kind == ItemKind.PROGRESS,
                                      WorkItem.status == "open")
        if role is not None:
            q = q.where(WorkItem.role == role)
        ids = list(s.scalars(q.order_by(WorkItem.id)))
        for item_id in ids:
            checkins.report_progress(s, rt.clock, actor, item_id, text="按计划推进。")
    return len(ids)


def _september(tmp_path):
    """Reports due 2018-09-25: jxw reports every one on time, rst its lead part late
    (09-28), everyone else never."""
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 9, 3))))
    step_open_cycles(rt)
    assert step_checkins(rt) > 0
    rt.clock.set(at(date(2018, 9, 20)))
    assert _report_all(rt, "jxw") >= 2
    rt.clock.set(at(date(2018, 9, 28)))
    assert _report_all(rt, "rst", ItemRole.LEAD) == 1
    return rt


def test_report_counts_as_of_the_period_end(tmp_path):
    rt = _september(tmp_path)
    with rt.sessions() as s:
        sept = report_counts(s, POLICY, date(2018, 9, 1), date(2018, 9, 30))
        august = report_counts(s, POLICY, date(2018, 8, 1), date(2018, 8, 31))
        # a report handed in after the period's end was missing as of that day
        before = report_counts(s, POLICY, date(2018, 9, 1), date(2018, 9, 27))
        facts = collect(s, s.get(Policy, POLICY), _month(2018, 9, BulletinCalendar(),
                                                         WorkCalendar()))
    assert august == {}
    jxw, rst = sept["jxw"], sept["rst"]
    assert jxw.due == jxw.on_time >= 2 and jxw.late == jxw.missing == 0
    assert (rst.due, rst.on_time, rst.late, rst.missing) == (2, 0, 1, 1)  # lead + supporting
    assert (before["rst"].late, before["rst"].missing) == (0, 2)
    assert sept["wuhu"].missing == sept["wuhu"].due == 1
    rows = {r.unit: r for r in facts.reporting}
    assert not rows["安徽省经济和信息化委员会"].behind
    assert rows["安徽省人力资源和社会保障厅"].late == 1
    assert facts.summary(_month(2018, 9, BulletinCalendar(), WorkCalendar()))["progress"][
        "late"] == 1


def test_monthly_bulletin_pdf_has_the_progress_part(tmp_path):
    rt = _september(tmp_path)
    rt.clock.set(at(date(2018, 10, 8)))   # the first working day after National Day
    rt.config.extra["DUBAN_BULLETINS"] = "monthly"
    counts = run_tick(rt, [("fire_timers", step_fire_timers), ("bulletins", step_bulletins)])
    assert counts.counts["bulletins"] == 1
    with rt.sessions() as s:
        doc = s.scalars(select(Document).where(Document.kind == DocumentKind.BULLETIN)).one()
        assert doc.dedupe_key == f"bulletin:{POLICY}:monthly:2018-09"
        pdf = s.get(Blob, doc.pdf_sha256).data
        progress = doc.data["progress"]
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "进展报送情况" in text and "工作进展报送情况统计表" in text
    due, on_time = progress["due"], progress["on_time"]
    assert f"各单位应报送工作进展{due}份，按时报送{on_time}份，逾期报送1份" in text
    named = text.split("以下单位迟报或漏报工作进展：")[1].split("请有关单位")[0]
    assert "安徽省人力资源和社会保障厅（迟报1份，未报送1份）" in named
    assert "芜湖市人民政府（未报送1份）" in named
    assert "经济和信息化" not in named   # jxw reported every one on time
    assert "安徽省经济和信息化委员会" not in progress["behind_units"]
