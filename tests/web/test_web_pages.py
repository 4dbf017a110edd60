"""Every page renders for the roles that may see it, in Chinese, with user text escaped."""

from __future__ import annotations

import pytest
from flask import Flask
from webtools import do_login, first_item

from engine.runtime import Runtime

PAGES = {
    "hefei": ["/inbox/", "/inbox/done", "/inbox/notifications", "/archive/"],
    "duchao": ["/review/", "/review/extensions", "/board/", "/board/?status=overdue",
               "/board/units/hefei", "/board/tasks/2", "/archive/"],
    "admin": ["/admin/users", "/admin/units", "/admin/clock", "/admin/outbox", "/board/"],
}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_pages_render(app: Flask, username: str) -> None:
    client = app.test_client()
    do_login(client, username)
    for url in PAGES[username]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert "督办工作台" in page and "Traceback" not in page, url


def test_item_and_process_pages_render(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "hefei")
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "任务要求" in page and "提交" in page and "逾期" in page
    response = client.get(f"/process/{item.instance_id}")
    assert response.status_code == 200
    data = client.get(f"/process/{item.instance_id}/diagram.json").get_json()
    assert "submit" in data["current"] and "start" in data["completed"]
    assert data["xml"].startswith("<?xml") or "<bpmn:definitions" in data["xml"]
