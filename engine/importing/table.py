"""A grid of cells (from a sheet, a CSV, a Word or PDF table, or a text table) -> ``Item``s.

The header row is found among title rows by the synonyms real tables use for each column; a row
with only one value (a merged section row such as "一、全链条优化审批") is a heading. Merged cells
reach here already filled in by the format's reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.importing.model import Problems
from engine.importing.normalize import clean, key
from engine.importing.outline import UNNUMBERED, Field, Item, cell_label, split_label

HEADER_SEARCH_ROWS = 30
# role -> header texts, longest first when matched by containment
SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "序"),
    "parent": ("上级部署任务", "上级任务", "省级部署任务"),
    "text": ("本地落实措施", "重点工作任务", "工作任务", "重点任务", "任务内容", "落实措施",
             "具体措施", "主要任务", "工作内容", "重点工作", "具体任务", "工作措施", "主要措施",
             "目标任务", "任务名称", "工作事项", "任务"),
    "lead": ("牵头责任单位", "主要负责单位", "牵头单位", "牵头部门", "主责单位", "责任牵头单位"),
    "responsible": ("责任单位", "责任部门", "承办单位", "负责单位"),
    "supporting": ("配合单位", "协同单位", "协办单位", "配合部门", "参与单位", "协作单位"),
    "deadline": ("完成时限", "时限要求", "时间节点", "完成时间", "完成期限", "时间要求",
                 "进度安排", "时限"),
    "remark": ("备注",),
}
_ANNOTATION = re.compile(r"[（(][^（）()]*[）)]")


@dataclass
class GridRow:
    """One row of a grid: where it is ("第12行", "工作表“任务”第7行") and its cells."""

    place: str
    cells: list[str]


@dataclass
class TableRead:
    """What a grid gave: items, the rows above the header (titles), whether a header was found."""

    items: list[Item] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    found: bool = False


def role_of(cell: str, strict: bool = False) -> str | None:
    """The column role a header cell names, or None; ``strict``: only a synonym itself."""
    text = key(cell)
    bare = _ANNOTATION.sub("", text)
    for role, names in SYNONYMS.items():
        if bare in names or text in names:
            return role
    if strict or len(bare) > 12:
        return None
    matches = [(len(n), role) for role, names in SYNONYMS.items() for n in names if n in bare]
    return max(matches)[1] if matches else None


def header_columns(cells: list[str]) -> dict[str, int] | None:
    """Column index per role when these cells are a header row, else None."""
    columns: dict[str, int] = {}
    texts: list[int] = []
    for index, cell in enumerate(cells):
        role = role_of(cell) if cell.strip() else None
        if role in ("text", "parent"):
            texts.append(index)
        elif role and role not in columns:
            columns[role] = index
    if not texts or not set(columns) & {"lead", "responsible", "supporting", "deadline"}:
        return None
    columns["text"] = texts[-1]  # several task columns: the rightmost is the task, others headings
    parents = texts[:-1] + ([columns.pop("parent")] if "parent" in columns else [])
    for i, index in enumerate(sorted(parents)):
        columns[f"parent{i}"] = index
    if "lead" not in columns and "responsible" in columns:
        columns["lead"] = columns.pop("responsible")  # 责任单位 alone is the lead
    elif "responsible" in columns and "supporting" not in columns:
        columns["supporting"] = columns.pop("responsible")  # beside 牵头 it means 配合
    return columns


def read_grid(rows: list[GridRow], problems: Problems) -> TableRead:
    """Find the header and read every row under it."""
    result = TableRead()
    for at, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = header_columns(row.cells)
        if columns is None:
            continue
        result.found = True
        result.titles = [t for r in rows[:at] for t in [_first(r.cells)] if t]
        header, skip = _two_row_header(row, rows[at + 1] if at + 1 < len(rows) else None)
        columns = header_columns(header) or columns
        headers = {role: clean(header[i]) for role, i in columns.items()}
        for body in rows[at + 1 + skip:]:
            if key("".join(body.cells)) == key("".join(row.cells)):
                continue  # the header repeated on every page
            item = _item(body, columns, headers, problems)
            if item is not None:
                result.items.append(item)
        _unnumbered_rows_are_siblings(result.items)
        return result
    result.titles = [t for r in rows[:HEADER_SEARCH_ROWS] for t in [_first(r.cells)] if t]
    return result


def _unnumbered_rows_are_siblings(items: list[Item]) -> None:
    """A row without a number is a task beside the row above, not under it: a table row never
    becomes a heading because the next row lacks its 序号."""
    level = UNNUMBERED
    for item in items:
        if item.heading:
            level = UNNUMBERED
        elif item.label:
            level = item.level
        else:
            item.level = level


def _two_row_header(row: GridRow, below: GridRow | None) -> tuple[list[str], int]:
    """A header whose group cell (责任单位 over 牵头单位 | 配合单位) splits in the row below: the
    cells below that name a column replace the ones above; (cells, rows to skip)."""
    if below is None:
        return row.cells, 0
    filled = [c for c in below.cells if clean(c)]
    if not filled or any(role_of(c) is None for c in filled):
        return row.cells, 0
    cells = list(row.cells) + [""] * max(0, len(below.cells) - len(row.cells))
    for index, cell in enumerate(below.cells):
        if clean(cell):
            cells[index] = cell
    return cells, 1


def _first(cells: list[str]) -> str:
    """The first non-empty cell of a row, cleaned."""
    return next((clean(c) for c in cells if clean(c)), "")


def _item(row: GridRow, columns: dict[str, int], headers: dict[str, str],
          problems: Problems) -> Item | None:
    """One body row: None when blank, a heading when it holds one value only."""
    def cell(role: str) -> str:
        """The cleaned cell of a role, "" when the row has no such column."""
        index = columns.get(role)
        return clean(row.cells[index]) if index is not None and index < len(row.cells) else ""

    values = list(dict.fromkeys(v for v in (clean(c) for c in row.cells) if v))
    if not values:
        return None
    if len(values) == 1 and not any(cell(r) for r in ("lead", "supporting", "deadline")):
        label, level, rest = split_label(values[0])
        if level <= 2 or (level == UNNUMBERED and len(values[0]) <= 30):
            return Item(label, level if label else 1, rest, row.place, heading=True)
    label, level = cell_label(cell("number")) if cell("number") else ("", UNNUMBERED)
    own_label, own_level, text = split_label(cell("text"))
    if own_label and not label:
        label, level = own_label, own_level
    item = Item(label, level, text, row.place,
                parents=[p for p in (cell(f"parent{i}") for i in range(len(columns))) if p])
    for role in ("lead", "supporting", "deadline", "remark"):
        if role in columns:
            setattr(item, role, Field(cell(role), f"{row.place} {headers[role]}"))
    if len(row.cells) < len(columns) and not (item.lead and item.lead.text):
        problems.warning(row.place, f"本行只有 {len(row.cells)} 个单元格，少于表头的列数",
                         " | ".join(row.cells))
    return item
