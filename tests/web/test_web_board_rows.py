"""The board's rows as people read them: a late submission's light, the review queue's two
dates, exports with real dates and the days a closed item was late, history in true order."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from webtools import do_login, first_item, tok

from engine.lights import Light
from engine.models import ItemRole, ItemStatus, WorkItem
from engine.runtime import Runtime


def _clients(app: Flask) -> tuple[FlaskClient, FlaskClient]:
    liaison, supervisor = app.test_client(), app.test_client()
    do_login(liaison, "hefei")
    do_login(supervisor, "duchao")
    return liaison, supervisor


def _submit(liaison: FlaskClient, item_id: int, text: str = "已出台") -> None:
    response = liaison.post(f"/items/{item_id}/evidence", data={
        "csrf_token": tok(liaison), "action": "submit", "text": text},
        content_type="multipart/form-data")
    assert response.status_code == 302


def _review_item(rt: Runtime, instance_id: int) -> int:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem.id).where(WorkItem.instance_id == instance_id,
                                                   WorkItem.role == ItemRole.SUPERVISOR,
                                                   WorkItem.status == ItemStatus.OPEN)).one()


def _decide(rt: Runtime, supervisor: FlaskClient, instance_id: int, decision: str) -> None:
    response = supervisor.post(f"/review/{_review_item(rt, instance_id)}", data={
        "csrf_token": tok(supervisor), "decision": decision, "reason": "请补充发文号"})
    assert response.status_code == 302


def test_signal_names_why_a_light_is_yellow() -> None:
    from engine.lights import signal

    due, today = date(2018, 8, 30), date(2018, 9, 15)
    late = signal(ItemStatus.SUBMITTED, due, today, date(2018, 9, 15))
    assert (late.light, late.label) == (Light.YELLOW, "逾期报送·待审")
    assert signal(ItemStatus.SUBMITTED, due, today, date(2018, 8, 29)).label == "按期报送·待审"
    assert signal(ItemStatus.OPEN, due, date(2018, 8, 25)).label == "临期"
    assert signal(ItemStatus.OPEN, due, today).label == "逾期"


def test_a_late_submission_is_not_临期_and_the_queue_shows_both_dates(app: Flask,
                                                                      rt: Runtime) -> None:
    liaison, supervisor = _clients(app)
    item = first_item(rt, "hefei", task_name="submit")
    _submit(liaison, item.id)
    board = supervisor.get("/board/?unit=hefei&task=1").get_data(as_text=True)
    row = re.search(r"<tbody>(.*?)</tr>", board, re.S).group(1)  # type: ignore[union-attr]
    assert "逾期报送·待审" in row and "临期" not in row
    queue = supervisor.get("/review/").get_data(as_text=True)
    assert "<th>办理时限</th>" in queue and "<th>审核期限</th>" in queue
    assert "2018年8月30日" in queue  # the obligation's own due date
    assert "逾期报送·待审" in queue


def test_exports_have_dates_a_title_and_days_late_of_closed_items(app: Flask,
                                                                 rt: Runtime) -> None:
    from openpyxl import load_workbook

    liaison, supervisor = _clients(app)
    item = first_item(rt, "hefei", task_name="submit")
    _submit(liaison, item.id)
    _decide(rt, supervisor, item.instance_id, "approve")  # closed 2018-09-15, due 08-30
    response = supervisor.get("/board/export.xlsx?unit=hefei")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "督办总览" and rows[1][0] == "截至 2018年9月15日"
    header = list(rows[2])
    assert header[:5] == ["任务编号", "任务", "牵头单位", "周期", "截止日期"]
    assert sheet.auto_filter.ref == f"A3:I{len(rows)}" and sheet.freeze_panes == "A4"
    task1 = next(dict(zip(header, r, strict=True)) for r in rows[3:] if r[0] == 1)
    assert isinstance(task1["截止日期"], datetime) and task1["截止日期"].date() == date(2018, 8, 30)
    assert task1["办结日期"].date() == date(2018, 9, 15)
    assert task1["状态"] == "已办结" and task1["逾期天数"] == 16  # the bulletin counts it late
    text = supervisor.get("/board/export.csv?unit=hefei").data.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(text)))
    assert csv_rows[0] == header
    line = next(dict(zip(header, r, strict=True)) for r in csv_rows[1:] if r[0] == "1")
    assert (line["截止日期"], line["办结日期"], line["逾期天数"]) == ("2018-08-30", "2018-09-15",
                                                                "16")


def test_history_on_a_standing_clock_keeps_the_true_order(app: Flask, rt: Runtime) -> None:
    liaison, supervisor = _clients(app)  # the ManualClock stands at 2018-09-15 09:00
    item = first_item(rt, "hefei", task_name="submit")
    _submit(liaison, item.id, "第一次")
    _decide(rt, supervisor, item.instance_id, "return")
    _submit(liaison, item.id, "第二次")
    _decide(rt, supervisor, item.instance_id, "approve")
    want = ["报送材料", "退回修改", "报送材料", "审核通过，办结销号"]
    for url in (f"/items/{item.id}", f"/process/{item.instance_id}"):
        page = supervisor.get(url)
        html = page.get_data(as_text=True)
        timeline = html[html.index('class="timeline numbered"'):]
        timeline = timeline[:timeline.index("</ol>")]
        entries = re.findall(r'<span class="seq">(\d+)</span><time[^>]*>([^<]+)</time>([^<]+)<',
                             timeline)
        actions = [a.strip() for _, _, a in entries]
        assert [a for a in actions if a in want] == want
        assert [int(n) for n, _, _ in entries] == list(range(1, len(entries) + 1))
        assert all(t.endswith("09:00:00") for _, t, _ in entries[-4:])  # one and the same second


def test_the_board_pages_through_every_obligation_once(app: Flask, rt: Runtime,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts cover the whole filtered board; each page shows its slice, with links on."""
    from web.views import board

    monkeypatch.setattr(board, "PER_PAGE", 5)
    _, supervisor = _clients(app)
    first = supervisor.get("/board/").get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 条，第 1/(\d+) 页", first).group(1))  # type: ignore[union-attr]
    pages = -(-total // 5)
    assert total > 10 and f"第 1/{pages} 页" in first and 'rel="next"' in first
    seen: list[str] = []
    for n in range(1, pages + 1):
        html = supervisor.get(f"/board/?page={n}").get_data(as_text=True)
        seen += re.findall(r'href="/process/(\d+)"', html)
    assert len(seen) == total and len(set(seen)) == total
    last = supervisor.get(f"/board/?page={pages + 3}").get_data(as_text=True)
    assert f"第 {pages}/{pages} 页" in last and 'rel="next"' not in last
    stats = re.findall(r'<div class="stat[^"]*"><b>(\d+)</b>', first)
    assert sum(int(n) for n in stats) == total
