"""What supervisors see of the progress reports (issue 12 item 9): the last report on the
board and unit pages, the obligations behind schedule, and the problems to coordinate."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select
from webtools import PASSWORD, do_login, first_item

from engine import checkins
from engine.access import Actor
from engine.checkins import open_checkins
from engine.clock import CHINA_TZ
from engine.models import ItemKind, Role, WorkItem
from engine.runtime import Runtime

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def _report(rt: Runtime, item_id: int, unit: str, text: str, **extra: object) -> None:
    with rt.sessions() as s, s.begin():
        checkins.report_progress(s, rt.clock, Actor(None, f"{unit}-l", Role.LIAISON, unit),
                                 item_id, text=text, **extra)  # type: ignore[arg-type]


def _scenario(rt: Runtime) -> dict[str, WorkItem]:
    """The 2018-09-25 reports: jxw (lead of six tasks) reports every one on time, the first
    with numbers and a problem to coordinate; rst (lead) and hefei (supporting) report late;
    ahtz (lead) and wuhu (supporting) never."""
    assert open_checkins(rt.sessions, rt.clock) > 0
    items = {"jxw": first_item(rt, "jxw", kind=ItemKind.PROGRESS),
             "rst": first_item(rt, "rst", kind=ItemKind.PROGRESS),
             "ahtz": first_item(rt, "ahtz", kind=ItemKind.PROGRESS),
             "hefei": first_item(rt, "hefei", "supporting", kind=ItemKind.PROGRESS),
             "wuhu": first_item(rt, "wuhu", "supporting", kind=ItemKind.PROGRESS)}
    assert all(it.due_date and it.due_date.isoformat() == "2018-09-25" for it in items.values())
    rt.clock.set(datetime(2018, 9, 20, 10, 0, tzinfo=CHINA_TZ))
    _report(rt, items["jxw"].id, "jxw", "已完成第三季度入库企业审核工作，累计入库企业稳步增加。",
            problems="需省财政厅明确奖补资金拨付时间", numbers=_numbers(rt, items["jxw"]))
    with rt.sessions() as s:
        others = list(s.scalars(select(WorkItem.id).where(
            WorkItem.unit_id == "jxw", WorkItem.kind == ItemKind.PROGRESS,
            WorkItem.id != items["jxw"].id).order_by(WorkItem.id)))
    for n, item_id in enumerate(others):
        _report(rt, item_id, "jxw", f"按计划推进（{n}）。",
                problems="需协调用地指标" if n == 0 else None)
    rt.clock.set(datetime(2018, 9, 28, 10, 0, tzinfo=CHINA_TZ))
    _report(rt, items["rst"].id, "rst", "人社厅第三季度工作进展：已召开推进会。")
    _report(rt, items["hefei"].id, "hefei", "合肥市配合工作进展。")
    rt.clock.set(datetime(2018, 10, 8, 9, 0, tzinfo=CHINA_TZ))
    return items


def _numbers(rt: Runtime, item: WorkItem) -> dict[str, float]:
    from engine.models import Instance

    with rt.sessions() as s:
        inst = s.get(Instance, item.instance_id)
        assert inst is not None
        return {t["key"]: 7 for t in inst.task.targets}


def test_board_and_unit_pages_show_the_last_report_in_one_query(app: Flask,
                                                                rt: Runtime) -> None:
    items = _scenario(rt)
    client = app.test_client()
    do_login(client, "duchao")
    unit = client.get("/board/units/jxw").get_data(as_text=True)
    assert "<th>最近进展</th>" in unit
    assert "2018年9月20日" in unit and "已完成第三季度入库企业审核工作" in unit
    with rt.sessions() as s:
        from engine.models import Instance
        inst = s.get(Instance, items["jxw"].instance_id)
        assert inst is not None
        targets = inst.task.targets
    assert targets  # numbers so far against the target: "label 7/amount unit"
    assert f"{targets[0]['label']} 7/{targets[0]['amount']}" in unit
    rst = client.get("/board/units/rst").get_data(as_text=True)
    assert "人社厅第三季度工作进展" in rst and "迟报" in rst
    assert "尚无" in client.get("/board/units/ahtz").get_data(as_text=True)
    # the paged board: the reports come in one query for the page, not one per row
    engine = rt.sessions.kw["bind"]
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        board = client.get("/board/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert "已完成第三季度入库企业审核工作" in board and "人社厅第三季度工作进展" in board
    assert sum("progress_reports" in q for q in seen) == 1


def test_behind_schedule_lists_late_and_missing_reports(app: Flask, rt: Runtime) -> None:
    _scenario(rt)
    client = app.test_client()
    do_login(client, "duchao")
    page = client.get("/board/behind").get_data(as_text=True)
    rows = page.split('id="behind"')[1].split("</table>")[0].split("<tr>")[2:]

    def of(unit: str) -> list[str]:
        return [r for r in rows if f'href="/board/units/{unit}"' in r]

    assert of("ahtz") and all("进展未报送" in r for r in of("ahtz"))
    assert of("wuhu") and all("进展未报送" in r and "配合" in r for r in of("wuhu"))
    late = [r for r in of("rst") if "进展迟报" in r]  # its lead part (its supporting part: none)
    assert late and "2018年9月28日" in late[0] and "配合" not in late[0]
    assert of("hefei") and all("进展迟报" in r for r in of("hefei"))
    assert of("jxw") == []  # every report on time: not behind
    assert rows.index(of("ahtz")[0]) < rows.index(late[0])  # the missing first
    only = client.get("/board/behind?unit=hefei").get_data(as_text=True)
    table = only.split('id="behind"')[1]
    assert "进展迟报" in table and "进展未报送" not in table and "/units/ahtz" not in table
    none = client.get("/board/behind?policy=no-such").get_data(as_text=True)
    assert "没有进度滞后的事项" in none


def test_problems_page_lists_what_units_asked_to_coordinate(app: Flask, rt: Runtime) -> None:
    items = _scenario(rt)
    client = app.test_client()
    do_login(client, "duchao")
    page = client.get("/board/problems").get_data(as_text=True)
    table = page.split('id="problems"')[1]
    assert table.index("需协调用地指标") < table.index("需省财政厅明确奖补资金拨付时间")
    assert f'href="/items/{items["jxw"].id}"' in table and "2018年9月20日" in table
    assert "/units/rst" not in table and "/units/hefei" not in table  # they asked nothing
    assert "需省财政厅" not in client.get("/board/problems?unit=rst").get_data(as_text=True)
    csv = client.get("/board/problems.csv?unit=jxw")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("报送日期,单位") and "需协调用地指标" in text
    board = client.get("/board/").get_data(as_text=True)
    assert 'href="/board/problems"' in board and 'href="/board/behind"' in board


@pytest.mark.browser
def test_problems_page_in_chromium(chromium: Any, live_server: str, rt: Runtime) -> None:
    _scenario(rt)
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}) \
        .new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "duchao")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/board/problems")
    rows = page.locator("#problems tbody tr")
    assert rows.count() == 2
    assert "需协调用地指标" in rows.nth(0).inner_text()  # the newest first
    assert page.locator(".tabs a.active").inner_text() == "需协调解决的问题"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "progress-problems.png"), full_page=True)
    page.select_option("#f-unit", "rst")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "暂无需协调解决的问题" in page.inner_text("main")
    assert "unit=rst" in page.url
    page.goto(f"{live_server}/board/behind")
    assert page.locator("#behind tbody tr").count() > 0
    page.screenshot(path=str(SHOTS / "progress-behind.png"), full_page=True)
    page.goto(f"{live_server}/board/units/jxw")
    assert "需协调" not in page.inner_text("main")   # the board shows the report, not problems
    assert page.locator("td.report-cell", has_text="已完成第三季度").count() == 1
    page.screenshot(path=str(SHOTS / "progress-unit-board.png"), full_page=True)
