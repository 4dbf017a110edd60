"""The liaison's 通知 page shows the outcome of a return within the next delivery job."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from webtools import do_login, first_item, tok

from engine.models import ItemRole, WorkItem
from engine.runtime import Runtime
from notifications.scheduler import deliver_job


def test_a_return_reaches_the_units_notifications_page_only(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    liaison, other, supervisor = app.test_client(), app.test_client(), app.test_client()
    do_login(liaison, "hefei")
    do_login(other, "wuhu")
    do_login(supervisor, "duchao")
    liaison.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(liaison), "action": "submit", "text": "已出台地方版政策措施"},
        content_type="multipart/form-data")
    with rt.sessions() as s:
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                  WorkItem.role == ItemRole.SUPERVISOR)).one()
    supervisor.post(f"/review/{review.id}", data={
        "csrf_token": tok(supervisor), "decision": "return", "reason": "请补充<文件>正文"})
    assert "请补充" not in liaison.get("/inbox/notifications").get_data(as_text=True)
    deliver_job(rt)  # duban serve runs it every minute
    page = liaison.get("/inbox/notifications").get_data(as_text=True)
    assert "【退回】任务1" in page and "退回理由：请补充&lt;文件&gt;正文" in page
    assert " · 退回 · <strong>未读</strong>" in page
    assert f'href="/items/{item.id}"' in page
    assert "请补充" not in other.get("/inbox/notifications").get_data(as_text=True)
