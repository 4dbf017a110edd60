"""PDFs with a text layer (pdfplumber), best effort: tables through extract_tables, else the
text through the text reader. A PDF without a text layer (a scan) is an error: no OCR here.
"""

from __future__ import annotations

import io
import logging
import warnings

from engine.importing.annex import Line
from engine.importing.document import Document, from_grids
from engine.importing.model import ImportOptions, Problems
from engine.importing.normalize import clean, key
from engine.importing.sniff import FILE
from engine.importing.table import HEADER_SEARCH_ROWS, GridRow, header_columns

MAX_PAGES = 500


def read_pdf(filename: str, data: bytes, options: ImportOptions, problems: Problems) -> Document:
    """Tables of every page when one has a header, else the text lines of every page."""
    import pdfplumber  # imported here: pdfminer is slow to import

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # it logs every odd object it skips
    grids: list[list[GridRow]] = []
    lines: list[Line] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                if len(pdf.pages) > MAX_PAGES:
                    problems.error(FILE, f"PDF 有 {len(pdf.pages)} 页，超过上限 {MAX_PAGES} 页")
                    return Document()
                for p, page in enumerate(pdf.pages, start=1):
                    text = page.extract_text() or ""
                    lines += [Line(f"第{p}页第{n}行", t)
                              for n, t in enumerate(text.splitlines(), start=1)]
                    for t, table in enumerate(page.extract_tables(), start=1):
                        grids.append([GridRow(f"第{p}页表格{t}第{r}行", [c or "" for c in row])
                                      for r, row in enumerate(table, start=1)])
    except Exception as exc:  # noqa: BLE001 (pdfminer raises anything on a broken file)
        problems.error(FILE, f"无法读取 PDF 文件：{str(exc)[:200] or type(exc).__name__}",
                       filename)
        return Document()
    if not any(line.text.strip() for line in lines):
        problems.error(FILE, "PDF 没有文字层（可能是扫描件），无法读取，"
                             "请上传可复制文字的 PDF 或 Word、Excel 文件", filename)
        return Document()
    if sum(len(g) for g in grids) > options.max_rows:
        problems.error(FILE, f"PDF 表格行数超过上限 {options.max_rows} 行")
        return Document()
    return from_grids(joined(grids, problems), lines, problems)


def joined(grids: list[list[GridRow]], problems: Problems) -> list[list[GridRow]]:
    """The tables of all pages as one, so a table running on over pages keeps one header (a
    header repeated on the next page is dropped). A page's first row without a number is the
    rest of the row above, cut by the page break: its cells are appended to that row's."""
    rows: list[GridRow] = []
    for grid in grids:
        body = list(grid)
        if rows and body and _text(body[0]) in {_text(r) for r in rows[:HEADER_SEARCH_ROWS]}:
            body.pop(0)
        if rows and body and _continues(body[0], rows[-1]):
            cut = body.pop(0)
            rows[-1] = GridRow(rows[-1].place, [a + b for a, b in zip(
                rows[-1].cells, cut.cells, strict=True)])
            problems.warning(cut.place, "本行无序号，视为上一页末行的续行并入上一行",
                             " | ".join(cut.cells))
        rows += body
    return [rows] if rows else []


def _text(row: GridRow) -> str:
    """A row's cells as one comparable text."""
    return key("".join(row.cells))


def _continues(row: GridRow, above: GridRow) -> bool:
    """Whether a page's first row is the rest of the row above (no number, no header)."""
    return (bool(row.cells) and not clean(row.cells[0]) and any(map(clean, row.cells))
            and header_columns(row.cells) is None and len(row.cells) == len(above.cells))
