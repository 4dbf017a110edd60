"""The 约谈 form on the process page: supervisors only, once the item is past its 二次督办;
recorded through the engine, shown with the ladder, audited."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from webtools import do_login, first_item, tok

from engine import lifecycle
from engine.models import AuditEvent, EscalationLevel, Interview
from engine.runtime import Runtime


def _to_principal(rt: Runtime, item_id: int) -> None:
    with rt.sessions() as s, s.begin():
        for level in (EscalationLevel.URGED, EscalationLevel.NOTICED,
                      EscalationLevel.PRINCIPAL):
            lifecycle.raise_level(s, rt.clock, item_id, level, reason=f"测试{level.label}")


def test_a_supervisor_records_an_interview_and_sees_it(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    page = f"/process/{item.instance_id}"
    sup = app.test_client()
    do_login(sup, "duchao")
    assert "记录约谈" not in sup.get(page).get_data(as_text=True)  # not at the level yet
    _to_principal(rt, item.id)
    html = sup.get(page).get_data(as_text=True)
    assert "记录约谈" in html and "已二次督办（主要负责同志）" in html
    form = {"csrf_token": tok(sup), "held_on": "2018-09-15", "interviewee": "张三（副市长）",
            "summary": "要求十个工作日内办结"}
    bad = sup.post(f"{page}/interview", data={**form, "held_on": "2018-09-16"},
                   follow_redirects=True).get_data(as_text=True)
    assert "约谈日期不能晚于今天" in bad
    got = sup.post(f"{page}/interview", data=form, follow_redirects=True)
    html = got.get_data(as_text=True)
    assert got.status_code == 200 and "约谈情况已记录" in html
    assert "约谈 2018年9月15日" in html and "张三（副市长）" in html
    assert "要求十个工作日内办结" in html
    assert "当前：已约谈" in html and "记录约谈</button>" not in html  # once
    with rt.sessions() as s:
        [iv] = s.scalars(select(Interview)).all()
        assert iv.work_item_id == item.id and iv.recorded_by == "duchao"
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "interview")).one()
    again = sup.post(f"{page}/interview", data=form, follow_redirects=True)
    assert "约谈已记录过，不能重复记录" in again.get_data(as_text=True)  # a second tab


def test_a_liaison_can_neither_see_the_form_nor_post_it(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    _to_principal(rt, item.id)
    client = app.test_client()
    do_login(client, "hefei")
    page = f"/process/{item.instance_id}"
    assert "记录约谈" not in client.get(page).get_data(as_text=True)
    got = client.post(f"{page}/interview", data={
        "csrf_token": tok(client), "held_on": "2018-09-15", "interviewee": "某某",
        "summary": "x"})
    assert got.status_code == 403
    with rt.sessions() as s:
        assert s.scalars(select(Interview)).all() == []


def test_a_too_long_interview_field_is_refused_in_chinese(app: Flask, rt: Runtime) -> None:
    """WTForms' own message ("Field cannot be longer than 200 characters.") was flashed."""
    item = first_item(rt, "hefei")
    _to_principal(rt, item.id)
    sup = app.test_client()
    do_login(sup, "duchao")
    page = f"/process/{item.instance_id}"
    got = sup.post(f"{page}/interview", data={
        "csrf_token": tok(sup), "held_on": "2018-09-15", "interviewee": "张" * 201,
        "summary": "要求十个工作日内办结"}, follow_redirects=True).get_data(as_text=True)
    assert "被约谈人不能超过 200 字" in got and "Field cannot" not in got
    with rt.sessions() as s:
        assert s.scalars(select(Interview)).all() == []
