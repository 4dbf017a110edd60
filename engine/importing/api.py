"""``read_policy_file``: an upload (bytes + name) -> an ``ImportResult`` preview. Never raises for
bad input: every problem, the unreadable file included, is a ``Problem`` with its place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from engine.deadlines import FixedRule, SelectionRule
from engine.errors import DubanError
from engine.importing.cover import horizon_years, read_cover
from engine.importing.directory import UnitDirectory
from engine.importing.document import Document
from engine.importing.interpret import Reading, build_tasks
from engine.importing.jsonout import context
from engine.importing.model import ImportedTask, ImportOptions, ImportResult, PolicyMeta, Problems
from engine.importing.read_docx import read_docx
from engine.importing.read_pdf import read_pdf
from engine.importing.read_text import read_csv, read_text
from engine.importing.read_xlsx import read_xlsx
from engine.importing.sniff import FILE, check_upload, kind_of

Reader = Callable[[str, bytes, ImportOptions, Problems], Document]
READERS: dict[str, Reader] = {"text": read_text, "csv": read_csv, "xlsx": read_xlsx,
                              "docx": read_docx, "pdf": read_pdf}
HORIZON_SPAN = 5  # a "到2035年" of a long-range vision is no horizon of a yearly plan
_YEAR = re.compile(r"([0-9]{4})年")
_INTERVAL = {"两": 2, "2": 2, "三": 3, "3": 3, "四": 4, "4": 4, "五": 5, "5": 5}


def read_policy_file(filename: str, data: bytes, directory: UnitDirectory,
                     options: ImportOptions = ImportOptions()) -> ImportResult:  # noqa: B008
    """Read an uploaded decomposition table into a preview of its tasks and problems."""
    problems = Problems()
    digest = hashlib.sha256(data).hexdigest()
    kind = check_upload(filename, data, options, problems)
    empty = PolicyMeta(options.policy_id, options.title, options.issuer, options.issued_on, None,
                       options.horizon_year)
    if kind is None:
        return ImportResult(empty, [], problems.items, [], kind_of(filename) or "unknown", digest)
    doc = READERS[kind](filename, data, options, problems)
    if problems.items and not doc.items and not doc.lines:
        return ImportResult(empty, [], problems.items, [], kind, digest)
    meta = _meta(doc, options, problems)
    year = meta.issued_on.year if meta.issued_on else _title_year(meta.title)
    reading = Reading(directory, options, problems, year, meta.issued_on)
    tasks = build_tasks(doc.items, reading, doc.prose)
    if not tasks:
        problems.error(FILE, "未找到任务：文件中没有可识别的任务分解表（应含“工作任务”“牵头单位”"
                             "“时限要求”等列）或编号的任务条目")
    _horizon(meta, tasks, doc, options, problems)
    _selection_years(meta, tasks, options, problems)
    _check_cycles(meta, tasks, problems)
    return ImportResult(meta, tasks, problems.items, reading.new_units, kind, digest)


def _meta(doc: Document, options: ImportOptions, problems: Problems) -> PolicyMeta:
    """Title, issuer, issue date and reporting rule: the options', else the document's."""
    lines = [(line.place, line.text) for line in doc.lines] + [(FILE, t) for t in doc.titles]
    cover = read_cover(lines)
    title = options.title or cover.title or (doc.titles[0] if doc.titles else None)
    issued_on = options.issued_on or cover.issued_on
    if options.issued_on and cover.issued_on and cover.issued_on != options.issued_on:
        problems.warning(cover.date_place or FILE, f"文中成文日期为 {cover.issued_on}，"
                                                   f"按指定的发布日期 {options.issued_on} 计")
    if issued_on is None:
        problems.error(FILE, "未读到发布日期（成文日期，如“2018年5月30日”），请指定发布日期")
    return PolicyMeta(id=options.policy_id, title=title, issuer=options.issuer or cover.issuer,
                      issued_on=issued_on, reporting=cover.reporting,
                      horizon_year=options.horizon_year)


def _title_year(title: str | None) -> int | None:
    """The year a title names ("2022年工作要点"), when there is no issue date."""
    match = _YEAR.search(title or "")
    return int(match.group(1)) if match else None


def _recurring(tasks: list[ImportedTask]) -> bool:
    """Whether any task recurs (its cycles depend on the horizon)."""
    return any(t.rule is not None and t.rule.kind not in ("fixed", "relative", "open")
               for t in tasks)


def _horizon(meta: PolicyMeta, tasks: list[ImportedTask], doc: Document, options: ImportOptions,
             problems: Problems) -> None:
    """The last year of recurring tasks: given, else the latest year the document aims at."""
    if options.horizon_year is not None or meta.issued_on is None:
        return
    start = meta.issued_on.year
    text = " ".join([line.text for line in doc.lines] + [t.text for t in tasks])
    years = horizon_years(text) + [t.rule.year for t in tasks
                                   if isinstance(t.rule, FixedRule) and t.rule.year]
    years = [y for y in years if start <= y <= start + HORIZON_SPAN]
    meta.horizon_year = max(years, default=start)
    if _recurring(tasks):
        how = "按文中的年份" if years else "文中未写目标年份，按发布当年"
        problems.warning(FILE, f"周期性任务的周期{how}计至 {meta.horizon_year} 年"
                               "（可指定目标年份）")


def _selection_years(meta: PolicyMeta, tasks: list[ImportedTask], options: ImportOptions,
                     problems: Problems) -> None:
    """Selection years of 评选当年 tasks: given, else every N years ("每两年") from the issue."""
    chosen = [t for t in tasks if isinstance(t.rule, SelectionRule)]
    if options.selection_years is not None:
        meta.selection_years = tuple(options.selection_years)
        return
    if not chosen or meta.issued_on is None:
        return
    words = re.findall(r"每([两三四五2-5])年", " ".join(t.text for t in chosen))
    step = _INTERVAL[words[0]] if words else 2
    start, end = meta.issued_on.year, meta.horizon_year or meta.issued_on.year
    meta.selection_years = tuple(range(start, end + 1, step))
    shown = "、".join(map(str, meta.selection_years))
    how = f"文中“每{words[0]}年”" if words else "文中未写评选间隔，按每两年"
    problems.warning(chosen[0].place, f"评选年份按{how}自发布当年起计为 {shown} 年")


def _check_cycles(meta: PolicyMeta, tasks: list[ImportedTask], problems: Problems) -> None:
    """Every usable rule yields at least one cycle within the horizon."""
    result = ImportResult(meta, tasks, [], [], "")
    ctx = context(result)
    if ctx is None:
        return
    for task in tasks:
        if task.rule is None:
            continue
        try:
            if not task.rule.cycles(ctx):
                problems.error(task.place, f"时限“{task.deadline}”在 {ctx.horizon_year} 年之前"
                                           "没有任何周期", task.deadline)
        except DubanError as exc:
            problems.error(task.place, f"时限“{task.deadline}”无法计算周期：{exc}", task.deadline)
