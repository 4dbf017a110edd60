"""Importing a table through the pages: upload, preview, map a unit, correct a cell, confirm."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from webtools import do_login, tok

from engine.cycles import open_cycles
from engine.models import ImportDraft, Instance, Policy, PolicyTask, UnitAlias, WorkItem
from engine.runtime import Runtime


def table_xlsx() -> bytes:
    """A small 分工方案 as a workbook: a title row, a header, a section row, three tasks."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "任务"
    ws.append(["江淮市“专精特新”企业培育行动任务分工"])
    ws.append(["印发日期：2018年9月1日"])
    ws.append(["序号", "重点任务", "牵头单位", "配合单位", "完成时限"])
    ws.append(["一、培育壮大"])
    ws.append([1, "建立市级专精特新企业培育库", "市经信局", "省财政厅", "2018年12月31日前"])
    ws.append([2, "开展专精特新企业梯度培育", "合肥市人民政府", "各区县政府", "2018年12月底前"])
    ws.append([3, "组织企业参加省级认定", "合肥市人民政府", "市经信局", "2018年11月30日前"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(client: FlaskClient) -> int:
    response = client.post("/policies/import", data={
        "csrf_token": tok(client), "policy_id": "jianghuai-2018", "issued_on": "2018-09-01",
        "file": (io.BytesIO(table_xlsx()), "江淮市任务分工.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/import/(\d+)", response.headers["Location"]).group(1))


def test_upload_preview_map_correct_confirm(app: Flask, rt: Runtime) -> None:
    sup = app.test_client()
    do_login(sup, "duchao")
    draft = _upload(sup)
    page = sup.get(f"/policies/import/{draft}").get_data(as_text=True)
    assert "建立市级专精特新企业培育库" in page and "市经信局" in page
    assert "各区县政府" in page and "还有" in page  # an error blocks the import
    assert sup.post(f"/policies/import/{draft}/confirm",
                    data={"csrf_token": tok(sup)}).status_code == 302
    with rt.sessions() as s:
        assert s.get(Policy, "jianghuai-2018") is None  # nothing written before it is ready
    sup.post(f"/policies/import/{draft}/map", data={"csrf_token": tok(sup), "name": "市经信局",
                                                    "unit_id": "hefei"})
    sup.post(f"/policies/import/{draft}/correct", data={
        "csrf_token": tok(sup), "number": "2", "lead": "合肥市人民政府", "supporting": "市经信局",
        "deadline": "2018年12月底前"})
    page = sup.get(f"/policies/import/{draft}").get_data(as_text=True)
    assert "确认导入（3 项任务）" in page, page
    done = sup.post(f"/policies/import/{draft}/confirm", data={"csrf_token": tok(sup)})
    assert done.headers["Location"].endswith("/policies/jianghuai-2018")
    with rt.sessions() as s:
        tasks = {t.number: t for t in s.scalars(select(PolicyTask).where(
            PolicyTask.policy_id == "jianghuai-2018"))}
        assert tasks[1].lead_unit_ids == ["hefei"] and tasks[1].path == ["一、培育壮大"]
        assert tasks[2].supporting_unit_ids == []  # 市经信局 is 合肥 here: not its own support
        assert s.get(UnitAlias, "市经信局").unit_id == "hefei"
        assert s.get(ImportDraft, draft).policy_id == "jianghuai-2018"
    open_cycles(rt.sessions, rt.clock)
    city = app.test_client()
    do_login(city, "hefei")
    inbox = city.get("/inbox/").get_data(as_text=True)
    assert "建立市级专精特新企业培育库" in inbox or "任务1" in inbox
    with rt.sessions() as s:
        item = s.scalars(select(WorkItem.id).join(Instance).join(PolicyTask).where(
            PolicyTask.policy_id == "jianghuai-2018", PolicyTask.number == 1,
            WorkItem.unit_id == "hefei")).first()
    assert "一、培育壮大" in city.get(f"/items/{item}").get_data(as_text=True)  # its path
    # two policies now: the inbox offers the choice and narrows to one
    assert 'name="policy"' in inbox
    mine = city.get("/inbox/?policy=jianghuai-2018").get_data(as_text=True)
    seed = city.get("/inbox/?policy=anhui-2018-zjtx").get_data(as_text=True)
    assert f"/items/{item}\"" in mine and f"/items/{item}\"" not in seed
    assert "江淮市" in mine and "江淮市" not in seed.split('name="policy"')[1].split("</form>")[1]
    assert city.get("/inbox/?policy=nonsense").get_data(as_text=True).count("/items/") == \
        inbox.count("/items/")  # an unknown policy narrows nothing
    task = sup.get("/board/tasks/1?policy=jianghuai-2018").get_data(as_text=True)
    assert "一、培育壮大" in task and "建立市级专精特新企业培育库" in task
    board = sup.get("/board/?policy=jianghuai-2018").get_data(as_text=True)
    assert "合肥市人民政府" in board and "2018年12月31日" in board


def test_a_liaison_cannot_import(app: Flask) -> None:
    city = app.test_client()
    do_login(city, "hefei")
    assert city.get("/policies/import").status_code == 403


@pytest.mark.browser
def test_import_in_chromium(live_server: str, chromium, rt: Runtime, tmp_path) -> None:
    """A supervisor uploads an XLSX, maps the unknown unit, corrects a cell, confirms; the
    liaison then finds the new work in the inbox."""
    from webtools import PASSWORD

    path = tmp_path / "江淮市任务分工.xlsx"
    path.write_bytes(table_xlsx())
    page = chromium.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#username", "duchao")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/policies/import")
    page.set_input_files("#file", str(path))
    page.fill("#policy_id", "jianghuai-2018")
    page.fill("#issued_on", "2018-09-01")
    page.click("text=上传并预览")
    page.wait_for_selector("#units")
    page.select_option("select[aria-label='市经信局 对应的单位']", "hefei")
    page.locator("#units button").first.click()
    page.wait_for_selector("text=已处理：合肥市人民政府")
    page.locator("#task-2 ~ tr.correct-row summary").first.click()
    page.fill("#sup-2", "市经信局")
    page.locator("#task-2 ~ tr.correct-row button").first.click()
    page.wait_for_selector("text=确认导入（3 项任务）")
    page.screenshot(path=str(_shots() / "import-preview.png"), full_page=True)
    page.click("text=确认导入（3 项任务）")
    page.wait_for_selector("text=已导入政策 jianghuai-2018")
    open_cycles(rt.sessions, rt.clock)
    page.click("text=退出")
    page.fill("#username", "hefei")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=待办事项")
    assert "建立市级专精特新企业培育库" in page.content() or "任务1" in page.content()
    page.screenshot(path=str(_shots() / "import-inbox.png"), full_page=True)
    page.close()


def _shots():
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out
