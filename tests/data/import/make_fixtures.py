"""Regenerate the binary import fixtures of this folder (CSV encodings, XLSX, DOCX, PDF).

Run from the repository root: ``.venv/bin/python tests/data/import/make_fixtures.py``. The text
fixtures (*.txt, *.md) are written by hand and kept as they are.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent

CSV_ROWS = [
    ["东江市2022年重点工作任务分解表", "", "", "", "", ""],
    ["（2022年2月10日）", "", "", "", "", ""],
    ["序号", "重点任务", "牵头单位", "配合单位", "时间节点", "备注"],
    ["一、扩大有效投资", "", "", "", "", ""],
    ["1", "实施重点项目120个，完成投资500亿元。", "市发改委", "市财政局、各区县政府", "每月10日前",
     "按月调度"],
    ["2", "新开工保障性租赁住房2000套。", "市政府办公室", "", "2022年11月底前", ""],
    ["二、优化营商环境", "", "", "", "", ""],
    ["3", "推行“证照分离”改革全覆盖。", "市行政审批局", "市司法局等", "持续推进", ""],
]

XLSX_ROWS = [
    ["东江市优化营商环境改革任务分工方案", None, None, None, None, None, None],
    ["2022年3月15日", None, None, None, None, None, None],
    ["序号", "上级部署任务", "本地落实措施", "牵头单位", "责任单位", "完成时限", "备注"],
    ["一、全链条优化审批", None, None, None, None, None, None],
    [1, "（一）深化投资审批制度改革", "1.推行投资项目承诺制", "市发改委", "市财政局", "2022年9月底",
     None],
    [2, None, "2.全面推行电子证照", None, "各区县政府", "11月底前", None],
    ["二、优化法治保障", None, None, None, None, None, None],
    [3, "（二）强化法治保障", "建立涉企行政执法监督机制", "市行政审批局市司法局", "市级各有关部门",
     "持续推进", None],
    [4, "（二）强化法治保障", "开展执法检查，每年检查企业200家", "市司法局", "市财政局等", None,
     "每半年一次"],
]
# (first row, first column, last row, last column), 1-based as in Excel
XLSX_MERGES = [(1, 1, 1, 7), (2, 1, 2, 7), (4, 1, 4, 7), (5, 2, 6, 2), (5, 4, 6, 4),
               (7, 1, 7, 7), (8, 6, 9, 6)]

DOCX_TABLE = [
    ["序号", "工作任务", "牵头单位", "配合单位", "时限要求"],
    ["一、教育", "", "", "", ""],
    ["1", "新建改扩建中小学校10所。", "市发改委", "市财政局", "2022年8月31日前"],
    ["2", "新增公办幼儿园学位3000个。", "", "各区县政府", ""],
    ["二、医疗", "", "", "", ""],
    ["3", "建设区域医疗中心。", "市行政审批局", "市发改委等", "2023年底前"],
]

PARAGRAPHS = [
    "东江市人民政府办公室关于印发2022年民生实事工作要点的通知",
    "各区县政府，市政府各部门：",
    "现将《2022年民生实事工作要点》印发给你们，请于每月23日前报送落实情况。",
    "东江市人民政府办公室",
    "2022年3月1日",
    "2022年民生实事工作要点",
    "一、办好民生实事",
    "（一）新增城镇就业3万人，2022年11月底前完成。（市发改委牵头，各区县政府按职责分工负责）",
    "（二）改造老旧小区20个。（市财政局、市发改委牵头，各街道配合）",
]

PDF_HTML = """<html><head><meta charset="utf-8"><style>
html { font-family: "Noto Sans CJK SC", sans-serif; font-size: 11pt; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #000; padding: 4px; }
</style></head><body>
<p>东江市2022年重点工作任务分解表</p>
<p>东江市人民政府</p>
<p>2022年2月15日</p>
<table>
<tr><th>序号</th><th>工作任务</th><th>牵头单位</th><th>配合单位</th><th>完成时限</th></tr>
<tr><td>1</td><td>新建5G基站3000个。</td><td>市发改委</td><td>市财政局</td><td>2022年12月31日前</td></tr>
<tr><td>2</td><td>建成智慧城市运营中心。</td><td>市政府办公室</td><td>市发改委</td><td>2022年9月底前</td></tr>
</table></body></html>"""

SCAN_HTML = """<html><body><div style="width:300px;height:200px;background:#888"></div>
</body></html>"""


def write_csvs() -> None:
    """The same table as UTF-8 with a BOM and as GB18030."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(CSV_ROWS)
    (HERE / "table_utf8bom.csv").write_bytes(out.getvalue().encode("utf-8-sig"))
    (HERE / "table_gb18030.csv").write_bytes(out.getvalue().encode("gb18030"))


def write_xlsx() -> None:
    """A 7-column 分工方案 with title rows, merged cells and section rows."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务"
    for row in XLSX_ROWS:
        sheet.append(row)
    for top, left, bottom, right in XLSX_MERGES:
        sheet.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
    book.save(HERE / "plan.xlsx")


def write_docx() -> None:
    """A Word table with merged cells, and a Word document of numbered paragraphs."""
    import docx

    document = docx.Document()
    for text in PARAGRAPHS[:5]:
        document.add_paragraph(text)
    table = document.add_table(rows=len(DOCX_TABLE), cols=5)
    for r, row in enumerate(DOCX_TABLE):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    for r in (1, 4):  # section rows across the table
        merged = table.cell(r, 0).merge(table.cell(r, 4))
        merged.text = DOCX_TABLE[r][0]
    for c in (2,):  # one lead for rows 2 and 3
        table.cell(2, c).merge(table.cell(3, c)).text = DOCX_TABLE[2][c]
    table.cell(2, 4).merge(table.cell(3, 4)).text = DOCX_TABLE[2][4]
    document.save(HERE / "table.docx")
    document = docx.Document()
    for text in PARAGRAPHS:
        document.add_paragraph(text)
    document.save(HERE / "paragraphs.docx")


AUTO_NUMBERED = [(None, "东江市2022年为民办实事工作要点"), (0, "办好教育实事"),
                 (1, "新建中小学校10所。（市发改委牵头，市财政局配合）"),
                 (1, "改造校舍20所。（市财政局牵头）"), (0, "办好医疗实事"),
                 (1, "建设区域医疗中心。（市行政审批局牵头）"), (None, "东江市人民政府"),
                 (None, "2022年4月1日")]


def _numbering_xml(levels: list[tuple[str, str]]) -> tuple[object, object]:
    """An abstract list with these (numFmt, lvlText) levels, and a list using it (numId 90)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    lvls = "".join(f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
                   f'<w:lvlText w:val="{text}"/></w:lvl>' for i, (fmt, text) in enumerate(levels))
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">{lvls}'
                         "</w:abstractNum>")
    num = parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
    return abstract, num


def write_auto_numbered_docx() -> None:
    """Paragraphs numbered by Word (一、 and （一） levels), not typed."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    root = document.part.numbering_part.element
    abstract, num = _numbering_xml([("chineseCounting", "%1、"), ("chineseCounting", "（%2）")])
    root.insert(0, abstract)
    root.append(num)
    for level, text in AUTO_NUMBERED:
        paragraph = document.add_paragraph(text)
        if level is not None:
            paragraph._p.get_or_add_pPr().append(parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/>'
                "</w:numPr>"))
    document.save(HERE / "auto_numbered.docx")


def write_pdfs() -> None:
    """A PDF with a text layer and a table; a PDF with no text at all (like a scan)."""
    from weasyprint import HTML

    HTML(string=PDF_HTML).write_pdf(HERE / "table.pdf")
    HTML(string=SCAN_HTML).write_pdf(HERE / "scan.pdf")


if __name__ == "__main__":
    write_csvs()
    write_xlsx()
    write_docx()
    write_auto_numbered_docx()
    write_pdfs()
