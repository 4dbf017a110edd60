"""The bulletin's layout as rendered: whole chart labels, short names in tables, notes kept with
their table, tied ranks, targets not yet due, quotes inside quotes (real PDFs, pdfplumber)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path

import pdfplumber
import pytest

from notifications.documents import (
    OverdueRow,
    TargetRow,
    UnitRow,
    bulletin_pdf,
    render_bulletin_html,
    self_reference,
)
from tests.test_documents import CITIES, make_bulletin

OUT = Path(__file__).resolve().parent.parent / "test-output" / "documents"
LEFT_MARGIN_PT = 28 / 25.4 * 72  # the type area starts 28 mm from the page's left edge


def full_named() -> list[UnitRow]:
    """The test's cities under their full names (亳州市人民政府) with their short names."""
    return [replace(u, name=f"{u.name}人民政府", short_name=u.name) if u.is_city else u
            for u in make_bulletin().units]


@pytest.fixture(scope="module")
def full_pdf() -> bytes:
    """A monthly bulletin over units with full and short names, kept under test-output/."""
    doc = make_bulletin(units=full_named())
    doc = replace(doc, overdue=[replace(o, unit_short=o.unit.removesuffix("人民政府"))
                                for o in doc.overdue])
    pdf = bulletin_pdf(doc)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "monthly-full-names.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(OUT / "monthly-full-names.pdf"),
                    str(OUT / "monthly-full-names")], check=True, timeout=120)
    return pdf


def _chart_words(pdf: bytes) -> list[dict]:
    """The words drawn above the chart's caption, on the rank annex's page."""
    with pdfplumber.open(BytesIO(pdf)) as document:
        page = next(p for p in document.pages
                    if "图：各市任务按时办结率" in (p.extract_text() or ""))
        words = page.extract_words()
    caption = next(w for w in words if w["text"].startswith("图："))
    return [w for w in words if w["bottom"] <= caption["top"] and w["top"] > 150]


def test_chart_labels_are_whole_even_for_long_names() -> None:
    units = [replace(u, name=f"{u.name}人民政府") if u.is_city else u  # no short names at all
             for u in make_bulletin().units]
    words = _chart_words(bulletin_pdf(make_bulletin(units=units)))
    labels = {w["text"] for w in words if w["text"].endswith("人民政府")}
    assert labels == {f"{city}人民政府" for city in CITIES}  # 亳州市人民政府, not 州市人民政府
    assert min(w["x0"] for w in words) >= LEFT_MARGIN_PT - 1  # nothing drawn off the chart


def test_tables_and_chart_use_short_names(full_pdf: bytes) -> None:
    labels = {w["text"] for w in _chart_words(full_pdf) if w["text"].endswith("市")}
    assert labels == set(CITIES)
    with pdfplumber.open(BytesIO(full_pdf)) as document:
        cells = [cell or "" for page in document.pages for table in page.extract_tables()
                 for row in table for cell in row]
    assert "亳州市" in cells and "马鞍山市" in cells  # one line each: no wrap inside the cell
    assert not any("人民政府" in cell for cell in cells if not cell.startswith("抄送"))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in pdfplumber.open(
        BytesIO(full_pdf)).pages))
    assert "亳州市人民政府（任务" in text  # the body names a unit in full


def test_the_note_stays_with_its_table(full_pdf: bytes) -> None:
    with pdfplumber.open(BytesIO(full_pdf)) as document:
        pages = [re.sub(r"\s+", "", p.extract_text() or "") for p in document.pages]
    note = next(i for i, text in enumerate(pages) if "注：按时办结率" in text)
    assert "滁州市" in pages[note]  # the table's last row is on the note's page
    assert re.sub(r"—\d+—", "", pages[note].split("注：")[0]) != ""  # not alone on the page


def test_equal_rates_are_tied_places(full_pdf: bytes) -> None:
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in pdfplumber.open(
        BytesIO(full_pdf)).pages))
    assert "并列第1" in text  # 六安市 and 合肥市 both at 100%
    assert "六安市、合肥市（均为100.0%）" in text
    assert "第16" in text  # 滁州市 alone last: competition ranking keeps the count


def test_targets_not_yet_due_read_未到期_not_zero() -> None:
    due = date(2018, 12, 31)
    targets = (TargetRow(2, "培育入库“专精特新”中小企业", 1000, 0, "户", due, settled=False),
               TargetRow(3, "培育认定省级小微企业创业基地", 30, 31, "个", due, settled=True))
    html = render_bulletin_html(replace(make_bulletin(), targets=targets))
    text = re.sub(r"<[^>]+>|\s+", "", html)
    assert "任务3“培育认定省级小微企业创业基地”目标30个，已完成31个，完成率103.3%。" in text
    assert "另有1项目标尚未到期，暂不计算完成率。" in text
    assert not re.search(r"(?<![\d.])0\.0%", text)
    assert "<td class=\"num\">未到期</td>" in html  # the annex table
    started = replace(targets[0], achieved=300)
    html = render_bulletin_html(replace(make_bulletin(), targets=(started,)))
    text = re.sub(r"<[^>]+>|\s+", "", html)
    assert ("1项量化目标均未到期，其中任务2“培育入库‘专精特新’中小企业”已完成300户"
            "（目标1000户，2018年12月31日前完成），暂不计算完成率。") in text
    assert "30.0%（未到期）" in text


def test_quotes_inside_quotes_are_single() -> None:
    from engine.text import quoted

    assert quoted("制定“地方版”和“加强版”政策措施") == "“制定‘地方版’和‘加强版’政策措施”"
    assert quoted("评选技术能手") == "“评选技术能手”"
    html = render_bulletin_html(make_bulletin())
    assert "任务2“培育入库‘专精特新’中小企业”" in html
    assert "““" not in html and "””" not in html


def test_helpers_for_the_supervision_office() -> None:
    from notifications.documents import printing_office, quantity

    assert printing_office("安徽省人民政府督查室") == "安徽省人民政府督查室"  # not …督查室办公室
    assert printing_office("安徽省经济和信息化厅") == "安徽省经济和信息化厅办公室"
    assert printing_office("安徽省人民政府办公厅") == "安徽省人民政府办公厅"
    assert self_reference("安徽省人民政府督查室") == "我室"
    assert [quantity(v) for v in (862, 2.5, 3.0, 1000)] == ["862", "2.5", "3", "1000"]


def test_overdue_annex_uses_short_names() -> None:
    rows = [OverdueRow(1, "制定政策措施", "亳州市人民政府", date(2018, 8, 30), 16, "亳州市")]
    html = render_bulletin_html(replace(make_bulletin(), overdue=rows))
    assert "<td>亳州市</td>" in html and "亳州市人民政府（任务1）" in html
