"""Text uploads: a whole document (.txt/.md), and CSV (UTF-8 with or without BOM, GB18030)."""

from __future__ import annotations

import csv
import io

from engine.importing.annex import Line
from engine.importing.document import Document, from_grids, from_lines
from engine.importing.model import ImportOptions, Problems
from engine.importing.sniff import FILE, decode_text
from engine.importing.table import GridRow


def text_lines(text: str) -> list[Line]:
    """The lines of a text, each with its place "第N行"."""
    return [Line(f"第{n}行", line) for n, line in enumerate(text.splitlines(), start=1)]


def read_text(filename: str, data: bytes, options: ImportOptions, problems: Problems) -> Document:
    """A whole document as text: its annex table, or its numbered paragraphs."""
    text = decode_text(data, problems, filename)
    if text is None:
        return Document()
    lines = text_lines(text)
    if len(lines) > options.max_rows * 20:  # a document, not a data dump
        problems.error(FILE, f"文件有 {len(lines)} 行，超过上限 {options.max_rows * 20} 行")
        return Document()
    return from_lines(lines, problems)


def read_csv(filename: str, data: bytes, options: ImportOptions, problems: Problems) -> Document:
    """A CSV table (comma, semicolon or tab separated)."""
    text = decode_text(data, problems, filename)
    if text is None:
        return Document()
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        problems.error(FILE, f"CSV 格式错误：{exc}")
        return Document()
    if len(rows) > options.max_rows:
        problems.error(FILE, f"表格有 {len(rows)} 行，超过上限 {options.max_rows} 行")
        return Document()
    grid = [GridRow(f"第{n}行", row) for n, row in enumerate(rows, start=1)]
    return from_grids([grid], [], problems)
