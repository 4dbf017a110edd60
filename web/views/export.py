"""Board exports: CSV with a BOM for Excel, and XLSX through openpyxl."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from flask import Response

from engine.queries import BoardRow
from web.views.files import send_bytes
from web.views.nav import status_label

HEADER = ("任务编号", "任务", "牵头单位", "周期", "截止日期", "状态", "预警", "逾期天数")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _values(row: BoardRow) -> list[str | int]:
    return [row.task_number, row.task_title, row.unit_name, row.cycle_label,
            row.due_date.isoformat() if row.due_date else "长期", status_label(row.status),
            row.light.label, row.days_overdue]


def _cell(value: str | int) -> str | int:
    """Neutralise spreadsheet formulas in text cells (CSV/XLSX injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def board_csv(rows: Sequence[BoardRow], today: date) -> Response:
    """The rows as CSV, UTF-8 with BOM so Excel reads the Chinese."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([_cell(v) for v in _values(row)])
    data = ("\ufeff" + buf.getvalue()).encode("utf-8")
    return send_bytes(data, f"督办总览-{today.isoformat()}.csv", "text/csv; charset=utf-8")


def board_xlsx(rows: Sequence[BoardRow], today: date) -> Response:
    """The rows as an Excel workbook with a bold frozen header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "督办总览"
    ws.append(list(HEADER))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(v) for v in _values(row)])
    ws.freeze_panes = "A2"
    for col, width in zip("ABCDEFGH", (8, 40, 24, 14, 12, 10, 8, 10), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return send_bytes(buf.getvalue(), f"督办总览-{today.isoformat()}.xlsx", XLSX_TYPE)
