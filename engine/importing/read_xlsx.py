"""XLSX workbooks (openpyxl): every sheet with a header row, merged cells filled in.

A cell merged down several rows (one lead or deadline for a group of tasks) applies to every row
it spans. A cell merged across columns (a section row "一、全链条优化审批", a title) counts once.
"""

from __future__ import annotations

import io
import warnings
from datetime import date, datetime
from typing import Any

from engine.importing.document import Document, from_grids
from engine.importing.model import ImportOptions, Problems
from engine.importing.sniff import FILE
from engine.importing.table import GridRow


def read_xlsx(filename: str, data: bytes, options: ImportOptions, problems: Problems) -> Document:
    """Every sheet of the workbook as a grid."""
    import openpyxl  # imported here: the web app should not pay for it at start-up

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises anything on a broken file)
        problems.error(FILE, f"无法读取 Excel 工作簿：{_reason(exc)}", filename)
        return Document()
    grids: list[list[GridRow]] = []
    for sheet in book.worksheets:
        if sheet.max_row > options.max_rows:
            problems.error(FILE, f"工作表“{sheet.title}”有 {sheet.max_row} 行，"
                                 f"超过上限 {options.max_rows} 行", sheet.title)
            return Document()
        grids.append(_sheet_rows(sheet))
    return from_grids(grids, [], problems)


def _sheet_rows(sheet: Any) -> list[GridRow]:
    """The sheet's rows as text, merged ranges filled in down and blanked across."""
    values = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        if top >= len(values) or left >= len(values[top]):
            continue
        value = values[top][left]
        for r in range(top, min(merged.max_row, len(values))):
            row = values[r]
            row.extend([""] * (merged.max_col - len(row)))
            row[left] = value
            for c in range(left + 1, merged.max_col):
                row[c] = ""
    return [GridRow(f"工作表“{sheet.title}”第{n}行", row) for n, row in enumerate(values, start=1)]


def _text(value: object) -> str:
    """A cell value as the table shows it (dates as 2022年9月30日)."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _reason(exc: Exception) -> str:
    """An exception's message for people, in one line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
