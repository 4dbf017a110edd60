"""签收, 进展报送 and 形象进度 in Debian's Chromium: a liaison acknowledges, reports progress
with numbers and an attachment, proposes milestones; the supervisor returns the plan, then
approves the resubmitted one (version 2, both versions shown)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_web_browser import PDF, _login, _shot

from engine import checkins, plans
from engine.models import Instance, ItemKind, ItemStatus, PlanStatus, PolicyTask, WorkItem
from engine.runtime import Runtime

pytestmark = pytest.mark.browser


def _items(rt: Runtime, unit: str, task: int) -> dict[ItemKind, int]:
    checkins.open_checkins(rt.sessions, rt.clock)
    with rt.sessions() as s:
        rows = s.execute(select(WorkItem.kind, WorkItem.id).join(Instance).join(PolicyTask)
                         .where(WorkItem.unit_id == unit, PolicyTask.number == task,
                                WorkItem.status == ItemStatus.OPEN)
                         .order_by(WorkItem.due_date)).all()
    found: dict[ItemKind, int] = {}
    for kind, item_id in rows:
        found.setdefault(kind, item_id)
    return found


def test_ack_progress_and_plan_in_chromium(chromium: Any, live_server: str, rt: Runtime,
                                           tmp_path: Path) -> None:
    base = live_server
    ids = _items(rt, "jxw", 2)
    assert {ItemKind.ACK, ItemKind.PROGRESS, ItemKind.PLAN} <= set(ids)
    liaison = _login(chromium, base, "jxw")
    liaison.goto(f"{base}/items/{ids[ItemKind.ACK]}")
    liaison.click("#ack-form button[type=submit]")
    liaison.wait_for_load_state("networkidle")
    assert "已签收" in liaison.inner_text(".flashes")

    liaison.goto(f"{base}/items/{ids[ItemKind.PROGRESS]}")
    report = tmp_path / "入库企业名单.pdf"
    report.write_bytes(PDF)
    liaison.fill("#progress-form textarea[name=text]", "已完成全省摸底，组织两批入库申报。")
    liaison.fill("#num_pooled", "420")
    liaison.fill("#progress-form textarea[name=problems]", "部分市申报材料不齐，需协调。")
    liaison.set_input_files("#progress_files", str(report))
    _shot(liaison, "plans-01-progress-form")
    liaison.click("#progress-form button[type=submit]")
    liaison.wait_for_load_state("networkidle")
    assert "工作进展已报送" in liaison.inner_text(".flashes")

    plan_url = f"{base}/items/{ids[ItemKind.PLAN]}"
    liaison.goto(plan_url)
    liaison.fill("input[name=m0_name]", "完成摸底和第一批入库")
    liaison.fill("input[name=m0_date]", "2018-07-31")
    liaison.fill("input[name=m0_pooled]", "300")
    liaison.fill("input[name=m1_name]", "全年入库")
    liaison.fill("input[name=m1_date]", "2018-12-31")
    liaison.fill("input[name=m1_pooled]", "1000")
    _shot(liaison, "plans-02-plan-form")
    liaison.click("#plan-form button[type=submit]")
    liaison.wait_for_load_state("networkidle")
    assert "形象进度计划已报送" in liaison.inner_text(".flashes")

    supervisor = _login(chromium, base, "duchao")
    supervisor.goto(f"{base}/review/")
    assert "待审核的形象进度计划" in supervisor.content()
    _shot(supervisor, "plans-03-review-queue")
    supervisor.locator("a.btn-primary", has_text="审核计划").first.click()
    supervisor.wait_for_load_state("networkidle")
    assert "完成摸底和第一批入库" in supervisor.content()
    supervisor.click("#plan-decision button[value=return]")  # no reason: refused
    supervisor.wait_for_load_state("networkidle")
    assert "退回理由" in supervisor.inner_text(".flashes")
    supervisor.goto(plan_url)
    supervisor.fill("#plan_reason", "请按季度细化节点。")
    supervisor.click("#plan-decision button[value=return]")
    supervisor.wait_for_load_state("networkidle")
    assert "已退回形象进度计划" in supervisor.inner_text(".flashes")

    liaison.goto(plan_url)
    assert "请按季度细化节点" in liaison.content()
    assert liaison.input_value("input[name=m0_name]") == "完成摸底和第一批入库"  # prefilled
    liaison.fill("input[name=m1_name]", "三季度入库")
    liaison.fill("input[name=m1_date]", "2018-09-30")
    liaison.fill("input[name=m1_pooled]", "600")
    liaison.fill("input[name=m2_name]", "全年入库")
    liaison.fill("input[name=m2_date]", "2018-12-31")
    liaison.fill("input[name=m2_pooled]", "1000")
    liaison.click("#plan-form button[type=submit]")
    liaison.wait_for_load_state("networkidle")

    supervisor.goto(plan_url)
    assert "第2版" in supervisor.content()
    supervisor.click("#plan-decision button[value=approve]")
    supervisor.wait_for_load_state("networkidle")
    assert "已批准形象进度计划" in supervisor.inner_text(".flashes")
    supervisor.goto(plan_url)
    text = supervisor.inner_text("#plans")
    assert "第1版" in text and "第2版" in text and "已退回" in text and "已批准" in text
    _shot(supervisor, "plans-04-versions")
    with rt.sessions() as s:
        got = plans.versions(s, ids[ItemKind.PLAN])
        assert [(p.version, p.status, len(p.milestones)) for p in got] == [
            (1, PlanStatus.RETURNED, 2), (2, PlanStatus.APPROVED, 3)]
