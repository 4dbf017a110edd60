"""Target attainment charts: sums of approved numbers per cycle, drawn as inline SVG."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select
from webtools import do_login, first_item, tok

from engine.models import ItemRole, WorkItem
from engine.runtime import Runtime
from web.views.charts import bar_chart, nice_ceiling


def test_nice_ceiling_and_geometry() -> None:
    assert [nice_ceiling(v) for v in (0.5, 1, 1.1, 3, 7, 110, 1100)] == \
        [1, 1, 2, 5, 10, 200, 2000]
    chart = bar_chart("入库", "户", [("2018年度", 1200.0), ("2019年度", 400.0)], 1000.0)
    high, low = chart.bars
    assert high.met and not low.met
    assert abs(high.height - 3 * low.height) < 0.01  # proportional to the values
    assert chart.goal_y is not None and high.y < chart.goal_y < low.y
    assert "2018年度1200户" in chart.summary and "目标 1000户" in chart.summary


def test_task_page_charts_approved_numbers(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "jxw", task_name="submit")
    liaison, supervisor = app.test_client(), app.test_client()
    do_login(liaison, "jxw")
    do_login(supervisor, "duchao")
    with rt.sessions() as s:
        task_number = s.get(WorkItem, item.id).instance.task.number  # type: ignore[union-attr]
        targets = s.get(WorkItem, item.id).instance.task.targets  # type: ignore[union-attr]
    assert task_number == 2 and targets
    numbers = {f"num_{t['key']}": "1234" for t in targets}
    liaison.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(liaison), "action": "submit", "text": "完成", **numbers},
        content_type="multipart/form-data")
    with rt.sessions() as s:
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                  WorkItem.role == ItemRole.SUPERVISOR)).one()
    before = supervisor.get("/board/tasks/2").get_data(as_text=True)
    assert "1234户" not in before  # not approved yet: not counted
    supervisor.post(f"/review/{review.id}", data={"csrf_token": tok(supervisor),
                                                  "decision": "approve"})
    page = supervisor.get("/board/tasks/2").get_data(as_text=True)
    assert page.count("1234户") >= len(targets)
    assert re.search(r'<rect class="bar met"', page)
    unit_page = supervisor.get("/board/units/jxw").get_data(as_text=True)
    assert "1234户" in unit_page
