"""The closed loop in Debian's Chromium: submit with a file, return, resubmit, approve, board."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtools import PASSWORD

from engine.runtime import Runtime

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _login(browser: Any, base: str, username: str, **context: Any) -> Any:
    page = browser.new_context(locale="zh-CN", **context).new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_closed_loop_in_chromium(chromium: Any, live_server: str, rt: Runtime,
                                 tmp_path: Path) -> None:
    base = live_server
    login_page = chromium.new_context(locale="zh-CN").new_page()
    login_page.goto(f"{base}/login")
    _shot(login_page, "01-login")

    liaison = _login(chromium, base, "hefei")
    assert liaison.url.endswith("/inbox/")
    assert liaison.locator(".light-red").count() > 0
    _shot(liaison, "02-inbox")
    liaison.locator("td.title-cell a").first.click()
    liaison.wait_for_load_state("networkidle")
    item_url = liaison.url
    report = tmp_path / "合肥市实施方案.pdf"
    report.write_bytes(PDF)
    liaison.fill("#text", "合肥市已出台《专精特新中小企业培育实施方案》。")
    liaison.set_input_files("#files", str(report))
    _shot(liaison, "03-item-form")
    liaison.click("button[value=submit]")
    liaison.wait_for_load_state("networkidle")
    assert "已提交" in liaison.inner_text(".flashes")

    supervisor = _login(chromium, base, "duchao")
    assert supervisor.url.endswith("/review/")
    _shot(supervisor, "04-review-queue")
    supervisor.locator("a.btn-primary", has_text="审核").first.click()
    supervisor.wait_for_load_state("networkidle")
    assert "合肥市实施方案.pdf" in supervisor.content()
    _shot(supervisor, "05-review-item")
    supervisor.fill("#reason", "请补充政策文件的发文号。")
    supervisor.click("button[value=return]")
    supervisor.wait_for_load_state("networkidle")
    assert "已退回" in supervisor.inner_text(".flashes")

    liaison.goto(item_url)
    assert "请补充政策文件的发文号" in liaison.inner_text(".flash-error")
    liaison.fill("#text", "合肥市已出台实施方案（合政〔2018〕88号）。")
    liaison.click("button[value=submit]")
    liaison.wait_for_load_state("networkidle")

    supervisor.goto(f"{base}/review/")
    supervisor.locator("a.btn-primary", has_text="审核").first.click()
    supervisor.click("button[value=approve]")
    supervisor.wait_for_load_state("networkidle")
    assert "办结销号" in supervisor.inner_text(".flashes")

    supervisor.goto(f"{base}/board/?unit=hefei&task=1")
    row = supervisor.locator("table tbody tr").first
    assert "已办结" in row.inner_text()
    supervisor.goto(f"{base}/board/")
    _shot(supervisor, "06-board")
    supervisor.goto(f"{base}/board/tasks/2")
    _shot(supervisor, "07-task")

    liaison.goto(item_url)
    liaison.click("text=流程图")
    liaison.wait_for_selector("#diagram[data-ready=true]", timeout=15000)
    assert liaison.locator(".djs-element.completed").count() >= 3
    assert "closed" in (liaison.get_attribute("#diagram", "data-completed") or "")
    assert liaison.locator(".bjs-powered-by").is_visible()
    _shot(liaison, "08-process")


def test_phone_layout_and_admin_pages(chromium: Any, live_server: str) -> None:
    phone = _login(chromium, live_server, "hefei", viewport={"width": 390, "height": 844},
                   device_scale_factor=2)
    assert not phone.locator(".mainnav").is_visible()
    phone.click("label.nav-toggle-label")
    assert phone.locator(".mainnav").is_visible()
    _shot(phone, "09-phone-inbox")
    admin = _login(chromium, live_server, "admin")
    _shot(admin, "10-admin-users")
    admin.goto(f"{live_server}/admin/clock")
    _shot(admin, "11-admin-clock")


def test_diagram_marks_the_current_step(chromium: Any, live_server: str) -> None:
    page = _login(chromium, live_server, "duchao")
    page.goto(f"{live_server}/board/?task=2")
    page.locator("a", has_text="流程").first.click()
    page.wait_for_selector("#diagram[data-ready=true]", timeout=15000)
    assert "submit" in (page.get_attribute("#diagram", "data-current") or "").split()
    assert page.locator(".djs-element.current").count() >= 1
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.reload()
    page.wait_for_selector("#diagram[data-ready=true]", timeout=15000)
    assert not [e for e in errors if "Content Security Policy" in e], errors
