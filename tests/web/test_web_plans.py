"""形象进度 through the pages: a bad plan is refused in Chinese and changes nothing; a good one
goes to the supervisor; once approved, the progress form offers its milestones to tick."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from webtools import do_login, tok

from engine import plans
from engine.checkins import open_checkins
from engine.models import Instance, ItemKind, ItemStatus, PolicyTask, WorkItem
from engine.runtime import Runtime


def _item(rt: Runtime, kind: ItemKind, instance_id: int | None = None) -> WorkItem:
    with rt.sessions() as s:
        q = (select(WorkItem).join(Instance).join(PolicyTask)
             .where(WorkItem.unit_id == "jxw", WorkItem.kind == kind,
                    WorkItem.status == ItemStatus.OPEN, PolicyTask.number == 2))
        if instance_id is not None:
            q = q.where(WorkItem.instance_id == instance_id)
        item = s.scalars(q.order_by(WorkItem.id)).first()
        assert item is not None
        return item


def _flashes(client, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def test_plan_form_refuses_then_submits_and_milestones_are_ticked(app: Flask, rt: Runtime) -> None:
    open_checkins(rt.sessions, rt.clock)
    plan = _item(rt, ItemKind.PLAN)
    liaison = app.test_client()
    do_login(liaison, "jxw")
    page = liaison.get(f"/items/{plan.id}").get_data(as_text=True)
    assert 'id="plan-form"' in page and 'name="m0_pooled"' in page
    bad = liaison.post(f"/items/{plan.id}/plan", data={
        "csrf_token": tok(liaison), "m0_name": "摸底", "m0_date": "2030-01-01"})
    assert bad.status_code == 302 and bad.headers["Location"].endswith(f"/items/{plan.id}")
    assert "日期应在" in _flashes(liaison, f"/items/{plan.id}")
    with rt.sessions() as s:
        assert plans.versions(s, plan.id) == []
        assert s.get(WorkItem, plan.id).status is ItemStatus.OPEN
    ok = liaison.post(f"/items/{plan.id}/plan", data={
        "csrf_token": tok(liaison), "m0_name": "完成摸底", "m0_date": "2018-09-01",
        "m0_pooled": "300", "m1_name": "全年入库", "m1_date": "2018-12-31", "note": "说明"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/inbox/")
    supervisor = app.test_client()
    do_login(supervisor, "duchao")
    assert "完成摸底" in supervisor.get(f"/items/{plan.id}").get_data(as_text=True)
    assert 'id="plan-decision"' in supervisor.get(f"/items/{plan.id}").get_data(as_text=True)
    assert "审核计划" in supervisor.get("/review/").get_data(as_text=True)
    done = supervisor.post(f"/items/{plan.id}/plan/decide", data={
        "csrf_token": tok(supervisor), "decision": "approve"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/review/")
    with rt.sessions() as s:
        [first, _] = plans.approved_milestones(s, plan.instance_id)
    report = _item(rt, ItemKind.PROGRESS, plan.instance_id)
    page = liaison.get(f"/items/{report.id}").get_data(as_text=True)
    assert f'name="reached" value="{first.id}"' in page
    sent = liaison.post(f"/items/{report.id}/progress", data={
        "csrf_token": tok(liaison), "text": "摸底完成", "reached": str(first.id)},
        content_type="multipart/form-data")
    assert sent.status_code == 302
    with rt.sessions() as s:
        assert plans.approved_milestones(s, plan.instance_id)[0].reached_on is not None
