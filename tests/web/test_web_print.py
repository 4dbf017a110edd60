"""Printing a page (Chromium's PDF printing): the content only, whole table rows, few pages."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from webtools import PASSWORD, first_item

from engine.runtime import Runtime

pytestmark = pytest.mark.browser
OUT = Path(__file__).resolve().parents[2] / "test-output" / "print"
CHROME = ("退出", "督办工作台", "筛选", "重置", "导出", "详情", "今日：", "跳到正文",
          "提交延期申请", "保存草稿")


def _login(browser: Any, base: str, username: str) -> Any:
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _print(page: Any, url: str, name: str) -> tuple[int, str]:
    """The page printed to A4 by Chromium: its page count and its text (no whitespace; NFKC,
    as Chromium's fonts map some characters to CJK radicals: ⼈ for 人)."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    pdf = page.pdf(format="A4", print_background=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in reader.pages))
    return len(reader.pages), re.sub(r"\s+", "", text)


def test_the_board_prints_its_table_only(chromium: Any, live_server: str) -> None:
    page = _login(chromium, live_server, "duchao")
    rows = page.locator("table tbody tr").count() if page.goto(f"{live_server}/board/") else 0
    pages, text = _print(page, f"{live_server}/board/", "board")
    assert rows >= 20
    assert pages == 1, pages  # 24 obligations fit one A4 page (was three)
    assert "督办总览" in text and "合肥市" in text and "亳州市" in text and "2018年8月30日" in text
    for word in CHROME:
        assert word not in text, word


def test_an_item_prints_on_one_page_without_forms(chromium: Any, live_server: str,
                                                  rt: Runtime) -> None:
    item = first_item(rt, "hefei", task_name="submit")
    page = _login(chromium, live_server, "hefei")
    pages, text = _print(page, f"{live_server}/items/{item.id}", "item")
    assert pages == 1, pages
    assert "任务要求" in text and "各市要结合实际制定" in text and "办理记录" in text
    for word in (*CHROME, "填报佐证材料", "流程图", "返回"):
        assert word not in text, word
