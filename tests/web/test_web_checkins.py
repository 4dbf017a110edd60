"""签收 and 进展报送 through the pages: the inbox shows the kinds, one button acknowledges, the
progress form takes text, numbers, problems, next steps and a file."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import select
from webtools import do_login, first_item, tok

from engine.checkins import open_checkins
from engine.models import ItemKind, ItemStatus, ProgressReport, WorkItem
from engine.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _status(rt: Runtime, item_id: int) -> ItemStatus:
    with rt.sessions() as s:
        item = s.get(WorkItem, item_id)
        assert item is not None
        return item.status


def _reports(rt: Runtime, item_id: int) -> list[ProgressReport]:
    with rt.sessions() as s:
        return list(s.scalars(select(ProgressReport).where(
            ProgressReport.work_item_id == item_id)))


def test_acknowledge_from_the_inbox_with_one_button(app: Flask, rt: Runtime) -> None:
    assert open_checkins(rt.sessions, rt.clock) > 0
    ack = first_item(rt, "jxw", kind=ItemKind.ACK)
    client = app.test_client()
    do_login(client, "jxw")
    inbox = client.get("/inbox/").get_data(as_text=True)
    later = client.get("/inbox/?page=2").get_data(as_text=True)  # plans fill page 1 too
    assert "签收" in inbox and "进展报送" in inbox and "办结报告" in inbox + later
    assert f'action="/items/{ack.id}/ack"' in inbox
    other = app.test_client()
    do_login(other, "wuhu")
    assert other.post(f"/items/{ack.id}/ack", data={"csrf_token": tok(other)}).status_code == 404
    assert _status(rt, ack.id) is ItemStatus.OPEN
    response = client.post(f"/items/{ack.id}/ack", data={"csrf_token": tok(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox/")
    assert _status(rt, ack.id) is ItemStatus.CLOSED
    page = client.get(f"/items/{ack.id}").get_data(as_text=True)
    assert "签收与进展报送" in page and "2018年9月15日" in page  # the time it was acknowledged
    done = client.get("/inbox/done").get_data(as_text=True).split("签收交办任务")[1]
    assert "已签收" in done.split("</tr>")[0] and "审核通过" not in done.split("</tr>")[0]
    assert 'id="ack-form"' not in page
    supervisor = app.test_client()
    do_login(supervisor, "duchao")
    board = supervisor.get("/board/units/jxw").get_data(as_text=True)
    assert "<th>签收</th>" in board and "2018年9月15日 09:00" in board
    assert "未签收" in supervisor.get("/board/units/hefei").get_data(as_text=True)


def test_progress_report_with_numbers_problems_and_a_file(app: Flask, rt: Runtime) -> None:
    open_checkins(rt.sessions, rt.clock)
    item = first_item(rt, "jxw", kind=ItemKind.PROGRESS)
    client = app.test_client()
    do_login(client, "jxw")
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert 'id="progress-form"' in page and "需协调解决的问题" in page
    form = {"csrf_token": tok(client), "text": "已完成第三季度入库审核",
            "problems": "需省财政厅明确奖补资金拨付时间", "next_steps": "10月完成第二批认定"}
    bad = client.post(f"/items/{item.id}/progress", data={**form, "num_pooled": "1.5"},
                      follow_redirects=True).get_data(as_text=True)
    assert "应为整数" in bad
    assert _status(rt, item.id) is ItemStatus.OPEN and _reports(rt, item.id) == []
    response = client.post(f"/items/{item.id}/progress", data={
        **form, "num_pooled": "420", "files": [(io.BytesIO(PDF), "三季度进展.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert _status(rt, item.id) is ItemStatus.CLOSED
    [report] = _reports(rt, item.id)
    assert report.numbers == {"pooled": 420} and report.next_steps == "10月完成第二批认定"
    done = client.get("/inbox/done").get_data(as_text=True).split("季度工作进展</a>")[1]
    assert "已报送进展" in done.split("</tr>")[0] and "审核通过" not in done.split("</tr>")[0]
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "需省财政厅明确奖补资金拨付时间" in page and "三季度进展.pdf" in page
    assert "420" in page
    link = page.split("三季度进展.pdf")[0].rsplit('href="', 1)[1].split('"')[0]
    assert client.get(link).data == PDF


def test_a_refused_progress_report_is_shown_again_as_typed(app: Flask, rt: Runtime) -> None:
    """A progress item keeps no draft: a refusal (a bad number, a text too long) used to show
    an empty form (or a bare 400 page) and the liaison's report was lost."""
    open_checkins(rt.sessions, rt.clock)
    item = first_item(rt, "jxw", kind=ItemKind.PROGRESS)
    client = app.test_client()
    do_login(client, "jxw")
    form = {"csrf_token": tok(client), "text": "已完成第三季度入库审核",
            "problems": "需省财政厅明确奖补资金拨付时间", "next_steps": "10月完成第二批认定"}
    bad = client.post(f"/items/{item.id}/progress", data={**form, "num_pooled": "1.5",
                                                          "num_certified": "7"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "应为整数" in page
    assert "已完成第三季度入库审核</textarea>" in page and "需省财政厅明确奖补资金拨付时间" in page
    assert "10月完成第二批认定" in page
    assert 'name="num_pooled" value="1.5"' in page and 'name="num_certified" value="7"' in page
    long = client.post(f"/items/{item.id}/progress", data={**form, "problems": "问" * 20001})
    page = long.get_data(as_text=True)
    assert long.status_code == 200 and "需协调解决的问题不能超过 20000 字" in page
    assert "已完成第三季度入库审核</textarea>" in page
    assert _status(rt, item.id) is ItemStatus.OPEN and _reports(rt, item.id) == []
    assert client.get(f"/items/{item.id}").get_data(as_text=True).count(
        "已完成第三季度入库审核") == 0  # a later visit starts afresh
