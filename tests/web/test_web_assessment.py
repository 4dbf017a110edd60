"""The 考核 pages and the cockpit: ranking, a unit's items, adjusting, publishing, the map."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from webtools import PASSWORD, do_login, tok

from engine.clock import CHINA_TZ
from engine.runtime import Runtime


def _next_year(rt: Runtime) -> None:
    rt.clock.set(datetime(2019, 1, 10, 9, 0, tzinfo=CHINA_TZ))  # type: ignore[attr-defined]


def test_ranking_unit_items_adjust_and_publish(app: Flask, rt: Runtime) -> None:
    _next_year(rt)
    sup = app.test_client()
    do_login(sup, "duchao")
    page = sup.get("/assessment/?year=2018").get_data(as_text=True)
    assert "2018年度考核" in page and "合肥市人民政府" in page and "不参加考核" in page
    detail = sup.get("/assessment/units/hefei?year=2018").get_data(as_text=True)
    assert "无正当理由逾期未办理" in detail and "得分 = 起评分" in detail
    sup.post("/assessment/adjust", data={"csrf_token": tok(sup), "year": "2018",
                                         "unit_id": "hefei", "points": "3",
                                         "reason": "领导评价：整改到位"})
    assert "领导评价：整改到位" in sup.get("/assessment/units/hefei?year=2018").get_data(
        as_text=True)
    refused = sup.post("/assessment/adjust", data={
        "csrf_token": tok(sup), "year": "2018", "unit_id": "hefei", "points": "50",
        "reason": "过多"}, follow_redirects=True).get_data(as_text=True)
    assert "±20" in refused
    done = sup.post("/assessment/publish", data={"csrf_token": tok(sup), "year": "2018"},
                    follow_redirects=True).get_data(as_text=True)
    assert "已发布" in done and "皖政督〔2019〕" in done
    archive = sup.get("/archive/?kind=assessment").get_data(as_text=True)
    assert "考核结果的通报" in archive
    again = sup.post("/assessment/adjust", data={
        "csrf_token": tok(sup), "year": "2018", "unit_id": "hefei", "points": "1",
        "reason": "发布后"}, follow_redirects=True).get_data(as_text=True)
    assert "已发布，不能再修改" in again
    xlsx = sup.get("/assessment/export.xlsx?year=2018")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_rules_are_edited_before_a_year_is_published(app: Flask, rt: Runtime) -> None:
    _next_year(rt)
    sup = app.test_client()
    do_login(sup, "duchao")
    before = sup.get("/assessment/units/bengbu?year=2018&policy=anhui-2018-zjtx").get_data(
        as_text=True)
    assert "-10" in before
    sup.post("/assessment/rules", data={"csrf_token": tok(sup), "policy": "anhui-2018-zjtx",
                                        "base": "100", "grading": "bands",
                                        "points_no_action": "-5", "cap_no_action": "30"})
    after = sup.get("/assessment/units/bengbu?year=2018&policy=anhui-2018-zjtx").get_data(
        as_text=True)
    assert "-5" in after and "-10" not in after.split("加减分明细")[1].split("历年得分")[0]


@pytest.mark.parametrize("unit, points, message", [
    ("hefei", "nan", "±20"), ("hefei", "-inf", "±20"), ("nosuch", "1", None)])
def test_an_adjustment_of_no_number_or_no_unit_is_refused(app: Flask, rt: Runtime, unit: str,
                                                         points: str,
                                                         message: str | None) -> None:
    """``nan`` passed the cap check (a comparison with NaN is false) and an unknown unit the
    form: both were a 500 (the database's NOT NULL or foreign key refused them)."""
    from sqlalchemy import func, select

    from notifications.assessment_models import AssessmentItem

    _next_year(rt)
    sup = app.test_client()
    do_login(sup, "duchao")
    got = sup.post("/assessment/adjust", data={"csrf_token": tok(sup), "year": "2018",
                                               "unit_id": unit, "points": points,
                                               "reason": "领导评价"}, follow_redirects=True)
    if message is None:
        assert got.status_code == 404
    else:
        assert got.status_code == 200 and message in got.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AssessmentItem)) == 0


@pytest.mark.parametrize("field, value", [
    ("base", "nan"), ("base", "inf"), ("base", "-1e308"), ("points_no_action", "nan"),
    ("cap_no_action", "1e999")])
def test_rules_of_no_finite_number_are_refused(app: Flask, rt: Runtime, field: str,
                                               value: str) -> None:
    """The 考核细则 form saved NaN, infinity and -1e308 as points (every score then NaN)."""
    from engine.policies import get

    sup = app.test_client()
    do_login(sup, "duchao")
    got = sup.post("/assessment/rules", data={"csrf_token": tok(sup),
                                              "policy": "anhui-2018-zjtx", field: value})
    page = got.get_data(as_text=True)
    assert got.status_code == 200 and "考核细则格式不正确" in page and "±1000" in page
    with rt.sessions() as s:
        assert "assessment" not in get(s, "anhui-2018-zjtx").data or \
            get(s, "anhui-2018-zjtx").data["assessment"].get("base", 100) == 100


def test_liaisons_do_not_see_the_ranking(app: Flask) -> None:
    city = app.test_client()
    do_login(city, "hefei")
    assert city.get("/assessment/").status_code == 403
    assert city.get("/assessment/cockpit").status_code == 403


def test_cockpit_tables_and_map_data(app: Flask) -> None:
    sup = app.test_client()
    do_login(sup, "duchao")
    page = sup.get("/assessment/cockpit").get_data(as_text=True)
    assert "各市按时办结率" in page and "逐月逾期事项" in page and "进度最落后的单位" in page
    # the task furthest behind names its policy by title, not by its id
    assert "（安徽省人民政府关于进一步推进中小企业“…）" in page
    assert "anhui-2018-zjtx）" not in page
    geo = sup.get("/assessment/map.json").get_json()
    names = {f["properties"]["name"] for f in geo["features"]}
    assert len(names) == 16 and "亳州市" in names


def test_cockpit_with_a_city_that_has_nothing_due_yet(app: Flask, rt: Runtime) -> None:
    """A city with nothing due has no rate (None): sorting the table by rate compared None
    with a float and the cockpit was a 500 (the demo's replay has such a city after an
    extension)."""
    from datetime import date

    from sqlalchemy import update

    from engine.models import Instance

    with rt.sessions() as s, s.begin():
        s.execute(update(Instance).where(Instance.lead_unit_id == "hefei")
                  .values(due_date=date(2018, 10, 31)))
    sup = app.test_client()
    do_login(sup, "duchao")
    got = sup.get("/assessment/cockpit")
    assert got.status_code == 200
    table = got.get_data(as_text=True).split("<th>市</th>")[1].split("</table>")[0]
    rows = table.split("<tr>")[1:]
    assert "合肥市" in rows[-1] and "—" in rows[-1]  # no rate: last


@pytest.mark.browser
def test_cockpit_in_chromium(live_server: str, chromium) -> None:
    from pathlib import Path

    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#username", "duchao")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/assessment/cockpit")
    page.wait_for_selector("body[data-map-ready='1']")
    page.wait_for_selector("#map-rate svg path")
    assert page.locator("#map-rate svg path").count() >= 16
    assert page.locator("#chart-months svg rect").count() >= 1
    assert page.locator("#map-rate svg text", has_text="100%").count() == 1  # the rate's scale
    page.click(".map-switch button[data-metric=score]")  # coloured by the year's score
    page.wait_for_selector("#map-rate[data-metric=score] svg text:has-text('高分')")
    assert page.locator("#map-rate svg text", has_text="100%").count() == 0
    out = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "cockpit.png"), full_page=True)
    page.close()
