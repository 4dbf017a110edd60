"""Notices and bulletins: real PDFs through WeasyPrint, read back with pypdf and pdfplumber."""

from __future__ import annotations

import re
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pdfplumber
import pypdf
import pytest

from engine.errors import ValidationError
from notifications.charts import on_time_rate_chart, percent_text
from notifications.documents import (
    BulletinDoc,
    Contact,
    NoticeDoc,
    NoticeItem,
    OverdueRow,
    TargetRow,
    Totals,
    UnitRow,
    bulletin_pdf,
    cn_date,
    cn_numeral,
    notice_pdf,
    rank_cities,
    render_bulletin_html,
    render_notice_html,
    self_reference,
    title_lines,
)

OUT = Path(__file__).resolve().parent.parent / "test-output" / "documents"
CITIES = ("合肥市", "芜湖市", "蚌埠市", "淮南市", "马鞍山市", "淮北市", "铜陵市", "安庆市",
          "黄山市", "阜阳市", "宿州市", "滁州市", "六安市", "宣城市", "池州市", "亳州市")
TASKS = {n: f"第{n}项任务：推进中小企业“专精特新”发展的工作之{cn_numeral(n)}" for n in range(1, 9)}
POLICY = "安徽省人民政府关于进一步推进中小企业“专精特新”发展的意见"
OFFICE = "安徽省经济和信息化厅"
CONTACT = Contact("王明", "0551-62871234")


def city_rows() -> list[UnitRow]:
    """16 cities, 8 tasks each; closed on time / closed / overdue vary with the index."""
    rows = []
    for i, name in enumerate(CITIES):
        overdue = i % 4
        closed = 8 - overdue - (i % 3 == 0)
        rows.append(UnitRow(name, 8, closed, closed - i % 3, overdue, is_city=True))
    return rows


def make_bulletin(yearly: bool = False, units: list[UnitRow] | None = None) -> BulletinDoc:
    """A bulletin over 16 cities, two departments and 8 tasks."""
    units = units or [*city_rows(), UnitRow("省经济和信息化厅", 7, 5, 5, 1),
                      UnitRow("省人力资源社会保障厅", 3, 3, 2, 0)]
    assigned, closed = sum(u.assigned for u in units), sum(u.closed for u in units)
    overdue = sum(u.overdue for u in units)
    late = [OverdueRow(1 + i % 8, TASKS[1 + i % 8], u.name, date(2018, 8, 30), 10 + i)
            for i, u in enumerate(units) if u.overdue]
    return BulletinDoc(
        issue="2018年第3期", number="皖政督〔2018〕5号",
        title="关于“专精特新”中小企业发展任务落实情况的通报",
        period_label="2018年度" if yearly else "2018年8月", as_of=date(2018, 9, 15),
        office=OFFICE, policy_title=POLICY,
        totals=Totals(assigned, closed, assigned - closed - overdue, overdue), units=units,
        targets=(TargetRow(2, "培育入库“专精特新”中小企业", 1000, 862, "户"),
                 TargetRow(3, "培育认定省级小微企业创业基地", 30, 31, "个")),
        overdue=late, requirements=("各地要对照任务分解表逐项抓好落实。",),
        yearly=yearly, contact=CONTACT, cc=("省人民政府办公厅",))


def make_notice(addressee: str = "蚌埠市人民政府") -> NoticeDoc:
    """A notice with three overdue items."""
    items = [NoticeItem(n, TASKS[n], "2018年度", date(2018, 8, 30), 16, 11) for n in (1, 2, 7)]
    return NoticeDoc("皖政督〔2018〕3号", OFFICE, addressee, date(2018, 9, 15), POLICY, items,
                     5, date(2018, 9, 21), CONTACT, ("省人民政府办公厅",))


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """Each document rendered once for the module, also written to test-output/documents/."""
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"notice": notice_pdf(make_notice()), "monthly": bulletin_pdf(make_bulletin()),
              "yearly": bulletin_pdf(make_bulletin(yearly=True))}
    for name, data in result.items():
        (OUT / f"{name}.pdf").write_bytes(data)
    return result


def flat_text(pdf: bytes) -> list[str]:
    """Each page's text with all whitespace removed (lines wrap anywhere in Chinese)."""
    return [re.sub(r"\s+", "", page.extract_text()) for page in pypdf.PdfReader(BytesIO(pdf)).pages]


def test_notice_text_comes_back(pdfs: dict[str, bytes]) -> None:
    pages = flat_text(pdfs["notice"])
    text = "".join(pages)
    assert pdfs["notice"].startswith(b"%PDF")
    assert "安徽省经济和信息化厅督查文件" in pages[0]
    assert "皖政督〔2018〕3号" in pages[0]
    assert "蚌埠市人民政府：" in pages[0]
    for needle in (TASKS[1], TASKS[2], TASKS[7], "2018年8月30日", "16天", "11个工作日",
                   "5个工作日内（2018年9月21日前）", "（联系人：王明，联系电话：0551-62871234）",
                   "抄送：省人民政府办公厅。", "2018年9月15日印发", "一、逾期任务情况",
                   "二、办理要求"):
        assert needle in text, needle
    assert text.count("安徽省经济和信息化厅") >= 3  # masthead, signature, imprint
    for number, page in enumerate(pages, start=1):
        assert f"—{number}—" in page


def test_monthly_bulletin_text_and_tables(pdfs: dict[str, bytes]) -> None:
    pages = flat_text(pdfs["monthly"])
    text = "".join(pages)
    assert "安徽省经济和信息化厅督查通报" in pages[0] and "2018年第3期" in pages[0]
    assert "皖政督〔2018〕5号" in pages[0]
    doc = make_bulletin()
    t = doc.totals
    assert f"共交办任务{t.assigned}项（次），已办结销号{t.closed}项" in text
    assert "完成率86.2%" in text and "完成率103.3%" in text
    assert "各市培育和发展情况" not in text
    for city in CITIES:
        assert city in text
    # the per-unit annex as a table: one row per unit plus the total
    rows = unit_table_rows(pdfs["monthly"])
    by_name = {row[1]: row for row in rows}
    assert set(by_name) == {u.name for u in doc.units} | {"合计"}
    hefei = by_name["合肥市"]  # 8 assigned, 7 closed, 7 on time, 0 overdue
    assert hefei[2:] == ["8", "7", "7", "0", "100.0%"]
    huainan = by_name["淮南市"]  # i=3: 3 overdue, 4 closed, 4 on time -> 4/7
    assert huainan[2:] == ["8", "4", "4", "3", "57.1%"]
    assert by_name["合计"][2] == str(t.assigned)


def unit_table_rows(pdf: bytes) -> list[list[str]]:
    """The rows of the per-unit annex table, read with pdfplumber."""
    rows: list[list[str]] = []
    with pdfplumber.open(BytesIO(pdf)) as document:
        for page in document.pages:
            if "各单位任务办理情况统计表" not in (page.extract_text() or ""):
                continue
            for table in page.extract_tables():
                cells = [[(c or "").replace("\n", "") for c in row] for row in table]
                rows += [row for row in cells if row[0].isdigit()]
                rows += [[row[0], row[0], *row[2:]] for row in cells if row[0] == "合计"]
    return rows


def test_bulletin_chart_shows_every_city(pdfs: dict[str, bytes]) -> None:
    with pdfplumber.open(BytesIO(pdfs["monthly"])) as document:
        page = next(p for p in document.pages
                    if "图：各市任务按时办结率" in (p.extract_text() or ""))
        words = page.extract_words()
    caption = next(w for w in words if w["text"].startswith("图："))
    chart = [w["text"] for w in words if w["bottom"] <= caption["top"]]
    assert {w for w in chart if w.endswith("市")} == set(CITIES)
    assert "100%" in chart and "0%" in chart
    assert "100.0%" in chart and "57.1%" in chart


def test_yearly_bulletin_names_every_city(pdfs: dict[str, bytes]) -> None:
    text = "".join(flat_text(pdfs["yearly"]))
    assert "各市培育和发展情况" in text and "年度目标管理绩效考核" in text
    assert "各市任务按时办结率年度排名" in text
    for ranked in rank_cities(make_bulletin().units):
        assert f"{ranked.row.name}：交办任务" in text
        assert f"全省排名{ranked.rank_text}位" in text


def test_pdf_is_deterministic_with_metadata(pdfs: dict[str, bytes]) -> None:
    assert notice_pdf(make_notice()) == pdfs["notice"]
    meta = pypdf.PdfReader(BytesIO(pdfs["monthly"])).metadata
    assert meta is not None
    assert meta.title == make_bulletin().title and meta.author == OFFICE
    assert meta["/CreationDate"] == "D:20180915"


def test_bulletin_without_cities_has_no_ranking() -> None:
    units = [UnitRow("省经济和信息化厅", 7, 5, 5, 1), UnitRow("省财政厅", 2, 0, 0, 0)]
    doc = make_bulletin(units=units)
    html = render_bulletin_html(replace(doc, targets=(), overdue=(), requirements=()))
    assert "按时办结率排名" not in html and "<svg" not in html
    assert "附件：</span>" in html and "各单位任务办理情况统计表" in html
    assert "未发现逾期未办结任务" in html and "工作要求" not in html
    assert "三、存在问题" not in html and "二、存在问题" in html


def test_ranking_ties_share_a_place_listed_by_closed_then_name() -> None:
    rows = [UnitRow("乙市", 4, 2, 2, 0, True), UnitRow("甲市", 4, 2, 2, 0, True),
            UnitRow("丙市", 4, 4, 4, 0, True), UnitRow("丁市", 4, 0, 0, 0, True),
            UnitRow("戊市", 4, 3, 2, 1, True), UnitRow("省某厅", 4, 4, 4, 0)]
    ranked = rank_cities(rows)
    order = [(r.rank, r.row.name) for r in ranked]
    # 100%: 丙 (4 closed) before 乙/甲 (2 closed, by name), all three first; 50%: 戊 fourth
    # (competition ranking 1, 1, 1, 4); no rate: 丁 last, unranked; no department
    assert order == [(1, "丙市"), (1, "乙市"), (1, "甲市"), (4, "戊市"), (None, "丁市")]
    assert [r.rank_text for r in ranked] == ["并列第1", "并列第1", "并列第1", "第4", "—"]


def test_percentages_round_half_up() -> None:
    assert percent_text(UnitRow("甲", 8, 7, 4, 0).on_time_rate) == "57.1%"
    assert percent_text(UnitRow("甲", 3, 3, 2, 0).on_time_rate) == "66.7%"
    assert percent_text(TargetRow(1, "x", 2000, 1).percent) == "0.1%"  # 0.05 -> 0.1
    assert percent_text(UnitRow("甲", 3, 0, 0, 0).on_time_rate) == "—"
    assert Totals(3, 1, 1, 1).share(1) == Decimal(100) / 3


def test_inconsistent_figures_are_refused() -> None:
    with pytest.raises(ValidationError, match="交办 10"):
        Totals(10, 5, 3, 1)
    with pytest.raises(ValidationError, match="甲市"):
        UnitRow("甲市", 4, 2, 3, 0)
    with pytest.raises(ValidationError, match="皖政督"):
        replace(make_notice(), items=())


def test_helpers() -> None:
    assert cn_date(date(2018, 9, 5)) == "2018年9月5日"
    assert [cn_numeral(n) for n in (1, 10, 12, 20, 35)] == ["一", "十", "十二", "二十", "三十五"]
    assert self_reference("安徽省经济和信息化厅") == "我厅"
    assert self_reference("安徽省经济和信息化委员会") == "我委"
    assert self_reference("某某公司") == "我单位"


def test_long_titles_break_evenly_at_word_boundaries() -> None:
    assert title_lines("关于督促办理逾期任务的督办通知") == ["关于督促办理逾期任务的督办通知"]
    assert title_lines("关于“专精特新”中小企业发展任务落实情况的通报") == [
        "关于“专精特新”中小企业", "发展任务落实情况的通报"]
    lines = title_lines(f"关于《{POLICY}》落实情况的通报")
    assert "".join(lines) == f"关于《{POLICY}》落实情况的通报" and len(lines) == 3
    assert all(len(line) <= 20 and line[0] not in "”》、" and line[-1] not in "“《"
               for line in lines)


def test_unit_names_are_escaped() -> None:
    evil = '<script>alert("x")</script>市'
    notice = render_notice_html(make_notice(addressee=evil))
    units = [UnitRow(evil, 4, 2, 1, 1, True), *city_rows()[:3]]
    bulletin = render_bulletin_html(make_bulletin(units=units))
    for html in (notice, bulletin):
        assert "<script>" not in html
        assert "&lt;script&gt;alert(" in html
    text = "".join(flat_text(notice_pdf(make_notice(addressee=evil))))
    assert '<script>alert("x")</script>市：' in text


def test_chart_is_valid_svg_sorted_and_escaped() -> None:
    svg = on_time_rate_chart([("甲<b>&市", 50), ("乙市", None), ("丙市", Decimal("87.5")),
                              ("丁市", 120)])
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    names = [t for t in texts if t and t.endswith("市")]
    assert names == ["丁市", "丙市", "甲<b>&市", "乙市"]  # best first, no rate last
    assert "100.0%" in texts and "87.5%" in texts and "—" in texts  # 120 clamps to 100
    bars = [float(r.get("width", 0)) for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert bars == sorted(bars, reverse=True) and len(bars) == 3


# ------------------------------------------------------------------ page images
@pytest.mark.parametrize("name", ["notice", "monthly", "yearly"])
def test_first_page_looks_like_a_red_header_document(pdfs: dict[str, bytes], name: str) -> None:
    pdf = OUT / f"{name}.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(OUT / f"{name}-page1")], check=True, timeout=60)
    width, height, pixels = read_png(OUT / f"{name}-page1.png")
    assert height > 600 and abs(width / height - 210 / 297) < 0.01
    dark = red = 0
    red_rows: set[int] = set()
    for y, row in enumerate(pixels):
        for x in range(0, len(row), 3):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if min(r, g, b) < 160:
                dark += 1
            if r > 180 and g < 90 and b < 90:
                red += 1
                red_rows.add(y)
    assert 0.02 < dark / (width * height) < 0.5, "page 1 is blank or flooded"
    assert red > 400, "no red masthead"
    assert max(red_rows) < height * 0.4, "red pixels outside the header"


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB PNG (what pdftoppm writes): width, height and rows of RGB bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2), "expected 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * 3
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        previous = unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous)
        rows.append(previous)
    return width, height, rows


def unfilter(kind: int, line: bytearray, prev: bytes) -> bytes:
    """Undo one PNG row filter (3 bytes a pixel)."""
    if kind == 2:
        return bytes((a + b) & 255 for a, b in zip(line, prev, strict=True))
    for i in range(len(line)):
        left = line[i - 3] if i >= 3 else 0
        up, corner = prev[i], prev[i - 3] if i >= 3 else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 255
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + pred) & 255
    return bytes(line)
