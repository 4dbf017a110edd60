"""The annex table of a whole document read as text: a Markdown pipe table, tab-separated rows,
or one cell per line (as pasted from a web page or Word, rows apart by blank lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.importing.model import Problems
from engine.importing.normalize import DATE_LINE, clean
from engine.importing.table import GridRow, header_columns, role_of

_SIGNATURE = re.compile(r"(?:政府|办公厅|办公室|委员会|局|厅|委|办)$")
_PIPE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


@dataclass
class Line:
    """One line of a text document with its place ("第12行")."""

    place: str
    text: str


@dataclass
class Annex:
    """Where the table starts (index of its header line) and its rows."""

    start: int
    rows: list[GridRow]


def find_table(lines: list[Line], problems: Problems) -> Annex | None:
    """The first table whose header names a task column and a unit or deadline column."""
    for index, line in enumerate(lines):
        text = line.text.strip()
        if text.startswith("|") and header_columns(_pipe_cells(text)) is not None:
            return Annex(index, _pipe_rows(lines, index))
        if "\t" in text and header_columns(text.split("\t")) is not None:
            return Annex(index, _tab_rows(lines, index))
        width = _cell_header(lines, index)
        if width:
            return Annex(index, _cell_rows(lines, index, width, problems))
    return None


def _pipe_cells(text: str) -> list[str]:
    """The cells of one Markdown table line."""
    text = text.strip()
    return [c.strip() for c in text.strip("|").split("|")]


def _pipe_rows(lines: list[Line], start: int) -> list[GridRow]:
    """Consecutive pipe lines from the header on, the |---| rule left out."""
    rows = []
    for line in lines[start:]:
        text = line.text.strip()
        if not text.startswith("|"):
            break
        if not _PIPE_RULE.match(text):
            rows.append(GridRow(line.place, _pipe_cells(text)))
    return rows


def _tab_rows(lines: list[Line], start: int) -> list[GridRow]:
    """Tab-separated lines from the header on; a line without tabs ends the table unless it is
    a section row (one value) followed by more tab rows."""
    rows = []
    for index in range(start, len(lines)):
        line = lines[index]
        text = line.text.strip("\r\n")
        if not text.strip():
            continue
        if "\t" not in text.strip() and not _more_tabs(lines, index + 1):
            break
        rows.append(GridRow(line.place, text.split("\t")))
    return rows


def _more_tabs(lines: list[Line], start: int) -> bool:
    """Whether the next non-blank line is a tab-separated row."""
    for line in lines[start:]:
        if line.text.strip():
            return "\t" in line.text.strip()
    return False


def _cell_header(lines: list[Line], start: int) -> int:
    """The number of header cells when a one-cell-per-line header starts here, else 0."""
    cells = []
    for line in lines[start:start + 12]:
        text = line.text.strip()
        if not text or role_of(text, strict=True) is None:
            break
        cells.append(text)
    return len(cells) if len(cells) >= 3 and header_columns(cells) is not None else 0


def _cell_rows(lines: list[Line], start: int, width: int, problems: Problems) -> list[GridRow]:
    """Rows of one cell per line: apart by blank lines, or (without blank lines) ``width`` lines
    each. A line holding only a tab is an empty cell, a truly empty line ends a row."""
    blocks: list[list[Line]] = []
    current: list[Line] = []
    for line in lines[start:]:
        if DATE_LINE.match(clean(line.text)):  # the signature and date under the table end it
            if current and _SIGNATURE.search(clean(current[-1].text)) and (
                    len(current) == 1 or (len(current) - 1) % width == 0):
                current.pop()
            break
        if line.text.strip() or "\t" in line.text:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    if len(blocks) == 1 and len(blocks[0]) > width:  # no blank lines: cut every ``width`` lines
        flat = blocks[0]
        blocks = [flat[i:i + width] for i in range(0, len(flat), width)]
        if len(flat) % width:
            problems.warning(flat[-1].place, f"表格行数不整：最后一行只有 {len(flat) % width} "
                                             f"个单元格（表头有 {width} 列）")
    header, *body = blocks
    rows = [GridRow(header[0].place, [clean(c.text) for c in header[:width]])]
    if len(header) > width:  # the first row followed the header without a blank line
        body.insert(0, header[width:])
    text_at = (header_columns(rows[0].cells) or {}).get("text", 1)
    for block in body:
        cells = [clean(c.text) for c in block]
        if len(cells) > width:
            problems.warning(block[0].place, f"本行有 {len(cells)} 行文字，多于表头的 {width} 列，"
                             f"多出的行并入“{rows[0].cells[text_at]}”", " | ".join(cells))
            tail = len(cells) - (width - text_at - 1)
            cells = cells[:text_at] + ["".join(cells[text_at:tail])] + cells[tail:]
        rows.append(GridRow(block[0].place, cells))
    return rows
