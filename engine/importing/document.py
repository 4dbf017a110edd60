"""What a format reader hands on: the document's lines (for the cover letter) and its items."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.importing.annex import Line, find_table
from engine.importing.model import Problems
from engine.importing.outline import Item
from engine.importing.paragraphs import read_paragraphs
from engine.importing.table import GridRow, read_grid


@dataclass
class Document:
    """Lines of text, the items found, and how they were found."""

    lines: list[Line] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    prose: bool = False  # items are numbered paragraphs, not table rows
    titles: list[str] = field(default_factory=list)  # rows above a table's header
    table: bool = False  # a table header was found


def from_lines(lines: list[Line], problems: Problems) -> Document:
    """A text document: its annex table when it has one, else its numbered paragraphs."""
    annex = find_table(lines, problems)
    if annex is not None:
        grid = read_grid(annex.rows, problems)
        if grid.found:
            return Document(lines, grid.items, titles=grid.titles, table=True)
    return Document(lines, read_paragraphs(lines, problems), prose=True)


def from_grids(grids: list[list[GridRow]], lines: list[Line], problems: Problems) -> Document:
    """A document of tables (sheets, Word or PDF tables); its text lines when none has a header."""
    doc = Document(lines)
    for rows in grids:
        grid = read_grid(rows, problems)
        doc.titles += grid.titles if not doc.table else []
        if grid.found:
            doc.table = True
            doc.items += grid.items
    if not doc.table and lines:
        return from_lines(lines, problems)
    return doc
