"""Headers, error pages, escaping, the bpmn-js whitelist and the exports."""

from __future__ import annotations

import csv
import io

from flask import Flask
from flask.testing import FlaskClient
from webtools import do_login, first_item, tok

from engine.runtime import Runtime


def test_security_headers_on_pages(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_no_inline_scripts_in_any_template() -> None:
    from pathlib import Path

    import web

    for path in (Path(web.__file__).parent / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script>" not in text and " on" + "click=" not in text, path
        for tag in text.split("<script")[1:]:
            assert tag.lstrip().startswith("src="), path


def test_errors_are_chinese_pages_without_traceback(app: Flask) -> None:
    client = app.test_client()
    do_login(client, "hefei")
    response = client.get("/items/999999")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "页面不存在" in page or "不存在" in page
    assert "Traceback" not in page


def test_vendor_route_serves_only_the_whitelist(client: FlaskClient) -> None:
    ok = client.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    assert ok.status_code == 200 and b"BpmnJS" in ok.data[:200000]
    assert client.get("/vendor/bpmn-js/bpmn-modeler.development.js").status_code == 404
    assert client.get("/vendor/bpmn-js/../package.json").status_code == 404


def test_process_page_allows_inline_styles_only_there(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "hefei")
    response = client.get(f"/process/{item.instance_id}")
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp and "script-src 'self';" in csp
    page = response.get_data(as_text=True)
    assert "bpmn-navigated-viewer.production.min.js" in page and "js/process.js" in page


def test_user_text_is_escaped(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "hefei")
    client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "draft",
        "text": "<script>alert(1)</script>"}, content_type="multipart/form-data")
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_board_csv_has_bom_and_filters(app: Flask) -> None:
    client = app.test_client()
    do_login(client, "duchao")
    response = client.get("/board/export.csv?task=1&status=overdue")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["任务编号", "任务", "牵头单位"]
    assert len(rows) == 17  # the 16 cities of task 1, all overdue on 2018-09-15
    assert all(r[0] == "1" and r[7] == "逾期" and int(r[8]) == 16 for r in rows[1:])


def test_board_xlsx_opens_with_the_same_rows(app: Flask) -> None:
    from openpyxl import load_workbook

    client = app.test_client()
    do_login(client, "duchao")
    response = client.get("/board/export.xlsx?unit=hefei")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[2][0] == "任务编号"  # under the title and the 截至 line
    assert {v[2] for v in values[3:]} == {"合肥市人民政府"}
    assert client.get("/board/export.pdf").status_code == 404


def test_board_filters_and_overdue_first(app: Flask) -> None:
    client = app.test_client()
    do_login(client, "duchao")
    page = client.get("/board/").get_data(as_text=True)
    first_red = page.find("light-red")
    first_green = page.find("light-green")
    assert first_red != -1 and (first_green == -1 or first_red < first_green)
    only_two = client.get("/board/?task=2").get_data(as_text=True)
    assert "任务2" in only_two and "任务1</a>" not in only_two
