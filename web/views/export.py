"""Board exports: CSV with a BOM for Excel, and XLSX through openpyxl (same columns)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import Response

from engine.queries import BoardRow
from web.views.files import send_bytes
from web.views.nav import cn_date, status_label

TITLE = "督办总览"
HEADER = ("任务编号", "任务", "牵头单位", "周期", "截止日期", "办结日期", "状态", "预警",
          "逾期天数")
WIDTHS = (8, 40, 24, 14, 12, 12, 10, 14, 10)
DATE_COLUMNS = (5, 6)  # 1-based: 截止日期, 办结日期
DATE_FORMAT = "yyyy-mm-dd"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Value = str | int | date | None


def _values(row: BoardRow) -> list[Value]:
    """One obligation as the export's cells: dates stay dates, 逾期天数 counts closed ones too."""
    label = row.signal.label if row.signal else row.light.label
    return [row.task_number, row.task_title, row.unit_name, row.cycle_label,
            row.due_date or "长期", row.closed_on, status_label(row.status), label,
            row.days_late]


def _cell(value: Value) -> Value:
    """Neutralise spreadsheet formulas in text cells (CSV/XLSX injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _text(value: Value) -> str | int:
    """A CSV field: ISO dates, empty for nothing."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else value


def board_csv(rows: Sequence[BoardRow], today: date) -> Response:
    """The rows as CSV, UTF-8 with BOM so Excel reads the Chinese."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([_text(_cell(v)) for v in _values(row)])
    data = ("\ufeff" + buf.getvalue()).encode("utf-8")
    return send_bytes(data, f"{TITLE}-{today.isoformat()}.csv", "text/csv; charset=utf-8")


def board_xlsx(rows: Sequence[BoardRow], today: date) -> Response:
    """The rows as a workbook: title, as-of line, a filtered and frozen header, date cells."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = TITLE
    _head(ws, today)
    for row in rows:
        ws.append([_cell(v) for v in _values(row)])
    last = ws.max_row
    for column in DATE_COLUMNS:
        for (cell,) in ws.iter_rows(min_row=4, max_row=last, min_col=column, max_col=column):
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
    ws.auto_filter.ref = f"A3:{_letter(len(HEADER))}{max(last, 3)}"
    ws.freeze_panes = "A4"
    buf = io.BytesIO()
    wb.save(buf)
    return send_bytes(buf.getvalue(), f"{TITLE}-{today.isoformat()}.xlsx", XLSX_TYPE)


def _head(ws: Any, today: date) -> None:
    """Row 1 the title, row 2 截至 the day, row 3 the bold header; the column widths."""
    from openpyxl.styles import Alignment, Font

    end = _letter(len(HEADER))
    ws.append([TITLE])
    ws.append([f"截至 {cn_date(today)}"])
    ws.append(list(HEADER))
    ws.merge_cells(f"A1:{end}1")
    ws.merge_cells(f"A2:{end}2")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws["A2"].alignment = Alignment(horizontal="right")
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[_letter(index)].width = width


def _letter(column: int) -> str:
    """A column's letter (1 -> A)."""
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(column))
