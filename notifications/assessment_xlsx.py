"""A year's 考核 as a workbook: the ranking, and every item with its rule, points and fact."""

from __future__ import annotations

import io

from notifications.assessment import Result

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(result: Result, title: str) -> bytes:
    """Two sheets: 排名 (rank, unit, score, grade) and 明细 (one row per item)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ranking = wb.active
    assert ranking is not None
    ranking.title = "排名"
    ranking.append([f"{title} {result.year}年度考核结果"])
    ranking.append([f"截至 {result.as_of.isoformat()}（起评分 {result.rules.base:g}）"
                    + ("，已发布" if result.published else "，未发布")])
    ranking.append(["名次", "单位", "得分", "等次", "加减分项"])
    for unit in result.units:
        ranking.append([unit.rank, unit.unit, unit.score, unit.grade, len(unit.items)])
    details = wb.create_sheet("明细")
    details.append(["单位", "规则", "分值", "日期", "事由", "依据"])
    for unit in result.units:
        for item in unit.items:
            details.append([unit.unit, item["label"], item["points"], item["date"],
                            item["reason"], f"{item['ref']['type']}#{item['ref']['id']}"])
    for sheet, header_row in ((ranking, 3), (details, 1)):
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = f"A{header_row + 1}"
        last = sheet.cell(header_row, sheet.max_column).column_letter
        sheet.auto_filter.ref = f"A{header_row}:{last}{sheet.max_row}"
    ranking.column_dimensions["B"].width = 30
    details.column_dimensions["A"].width = 28
    details.column_dimensions["E"].width = 70
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
