"""Word documents (python-docx): tables with merged cells, else numbered paragraphs.

python-docx repeats a merged cell in every grid position it covers. Down a column that is what
a merged lead or deadline means (it applies to each row); across a row the repeats are blanked
so a section row spanning the table counts as one value.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from engine.importing.annex import Line
from engine.importing.document import Document, from_grids
from engine.importing.docx_numbering import Numbering
from engine.importing.model import ImportOptions, Problems
from engine.importing.sniff import FILE
from engine.importing.table import GridRow


def read_docx(filename: str, data: bytes, options: ImportOptions, problems: Problems) -> Document:
    """The document's tables when one has a header, else its paragraphs."""
    import docx  # python-docx; imported here, only an upload needs it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            document = docx.Document(io.BytesIO(data))
            numbering = Numbering(document)
            lines = [Line(f"第{n}段", numbering.label(p) + p.text)
                     for n, p in enumerate(document.paragraphs, start=1)]
            grids = [_table_rows(t, n) for n, t in enumerate(document.tables, start=1)]
    except Exception as exc:  # noqa: BLE001 (python-docx and lxml raise anything on a broken file)
        problems.error(FILE, f"无法读取 Word 文档：{str(exc)[:200] or type(exc).__name__}",
                       filename)
        return Document()
    rows = sum(len(g) for g in grids)
    if rows > options.max_rows or len(lines) > options.max_rows * 20:
        problems.error(FILE, f"文档有 {rows} 个表格行、{len(lines)} 段，超过上限")
        return Document()
    return from_grids(grids, lines, problems)


def _table_rows(table: Any, number: int) -> list[GridRow]:
    """A Word table's rows; cells repeated across a row by a horizontal merge blanked."""
    rows = []
    for r, row in enumerate(table.rows, start=1):
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            cells.append("" if previous is not None and cell._tc is previous._tc else cell.text)
            previous = cell
        rows.append(GridRow(f"表格{number}第{r}行", cells))
    return rows
