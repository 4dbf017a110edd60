"""Supervision notices (督办通知) and bulletins (通报): plain dataclasses -> HTML -> PDF.

The layout follows GB/T 9704-2012 (党政机关公文格式): red issuer masthead, document number, red
rule, title, addressee, numbered parts, annexes, signature and date, imprint. Nothing here
touches the database; the caller fills the dataclasses. WeasyPrint is imported only when a PDF
is made, so importing this module stays cheap.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from engine.errors import DubanError, ValidationError
from engine.text import quoted
from notifications.charts import on_time_rate_chart, percent_text
from notifications.ranking import RankedCity, rank_cities, standing_sentence

__all__ = ["RankedCity", "rank_cities"]  # the ranking lives in notifications.ranking

TEMPLATES = Path(__file__).parent / "templates"
TEXT_WIDTH_MM = 156      # the type area's width (版心)
MASTHEAD_MAX_MM = 15.0   # GB/T 9704: masthead characters at most 15 mm wide
NUMERALS = "零一二三四五六七八九十"
TITLE_LINE_CHARS = 20    # 2号 (22pt) characters on a 156 mm line
OPENING = "“‘《（〔【"
CLOSING = "”’》）〕】、，。：；！？"
BREAK_AFTER = "》”）、，的和与及"
BREAK_BEFORE = ("《", "“", "（", "关于", "进一步", "推进", "落实", "发展", "中小企业", "情况",
                "工作", "任务", "督办", "通报")


class DocumentError(DubanError):
    """A notice or bulletin could not be rendered (template fault, PDF library missing)."""


@dataclass(frozen=True)
class Contact:
    """The person to call about a document (附注 line)."""

    name: str
    phone: str


# ---------------------------------------------------------------- notices
@dataclass(frozen=True)
class NoticeItem:
    """One overdue obligation named in a supervision notice."""

    task_number: int
    task_title: str
    cycle_label: str
    due_date: date
    days_overdue: int
    working_days_overdue: int


@dataclass(frozen=True)
class NoticeDoc:
    """A supervision notice (督办通知) to one unit about its overdue items."""

    number: str                    # 皖经信督〔2018〕3号
    office: str                    # the issuing office's name valid on issued_on
    addressee: str                 # the unit's name valid on issued_on
    issued_on: date
    policy_title: str
    items: Sequence[NoticeItem]
    reply_within_working_days: int
    reply_by: date
    contact: Contact | None = None
    cc: Sequence[str] = ()
    title: str | None = None       # default: 关于督促办理逾期任务的督办通知
    masthead: str | None = None    # default: office + 督查文件

    def __post_init__(self) -> None:
        if not self.items:
            raise ValidationError(f"督办通知 {self.number}：没有逾期任务，不能生成督办通知")
        if self.reply_within_working_days < 1:
            raise ValidationError(f"督办通知 {self.number}：答复时限必须至少为 1 个工作日")


# ---------------------------------------------------------------- bulletins
def share(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (unrounded); None when ``whole`` is 0."""
    return Decimal(part * 100) / Decimal(whole) if whole else None


@dataclass(frozen=True)
class Totals:
    """Overall counts of a bulletin; closed, in progress and overdue partition assigned."""

    assigned: int
    closed: int
    in_progress: int   # not closed and not overdue
    overdue: int       # not closed and past its due date

    def __post_init__(self) -> None:
        if self.closed + self.in_progress + self.overdue != self.assigned:
            raise ValidationError(
                f"通报总体数据不一致：已办结 {self.closed} + 推进中 {self.in_progress} + 逾期 "
                f"{self.overdue} ≠ 交办 {self.assigned}")

    def share(self, part: int) -> Decimal | None:
        """A count as a percentage of everything assigned."""
        return share(part, self.assigned)


@dataclass(frozen=True)
class UnitRow:
    """One unit's line in a bulletin's per-unit table."""

    name: str
    assigned: int
    closed: int
    closed_on_time: int
    overdue: int
    is_city: bool = False
    short_name: str | None = None  # tables and the chart (合肥市), the text keeps ``name``

    @property
    def label(self) -> str:
        """The name a table cell or a chart shows: the short name where there is one."""
        return self.short_name or self.name

    def __post_init__(self) -> None:
        if not 0 <= self.closed_on_time <= self.closed or \
                self.closed + self.overdue > self.assigned:
            raise ValidationError(
                f"通报单位数据不一致：{self.name}（交办 {self.assigned}，已办结 {self.closed}，"
                f"按时 {self.closed_on_time}，逾期 {self.overdue}）")

    @property
    def on_time_rate(self) -> Decimal | None:
        """按时办结率: closed on time / (closed + overdue); None while nothing has fallen due."""
        return share(self.closed_on_time, self.closed + self.overdue)


@dataclass(frozen=True)
class TargetRow:
    """A numeric target of a task and what has been achieved against it."""

    task_number: int
    label: str          # 培育入库“专精特新”中小企业
    target: int
    achieved: Decimal | int
    unit: str = ""      # 户, 个, 家, 名
    due_date: date | None = None
    settled: bool = True  # fallen due (or every obligation approved): a rate means something

    @property
    def percent(self) -> Decimal | None:
        """Achieved as a percentage of the target."""
        return Decimal(self.achieved) * 100 / self.target if self.target else None

    @property
    def progress(self) -> str:
        """完成率: a rate once the target has fallen due, 未到期 before (0.0% would mislead)."""
        if self.settled:
            return percent_text(self.percent)
        return "未到期" if not self.achieved else f"{percent_text(self.percent)}（未到期）"


@dataclass(frozen=True)
class OverdueRow:
    """An overdue item named in a bulletin."""

    task_number: int
    task_title: str
    unit: str
    due_date: date
    days_overdue: int
    unit_short: str | None = None  # the annex table's 责任单位 column

    @property
    def unit_label(self) -> str:
        """The unit as the annex table shows it."""
        return self.unit_short or self.unit


@dataclass(frozen=True)
class CriticizedRow:
    """An item named for 通报批评: its 督办通知 went unanswered, then its 二次督办通知."""

    task_number: int
    task_title: str
    unit: str
    notice_number: str  # the 二次督办通知


@dataclass(frozen=True)
class ReportingRow:
    """One unit's progress reports (进展报送) due in the period, as of its last day."""

    unit: str
    due: int
    on_time: int
    late: int      # reported after the due date
    missing: int   # not reported by the period's end
    unit_short: str | None = None

    @property
    def label(self) -> str:
        """The unit as the annex table shows it."""
        return self.unit_short or self.unit

    @property
    def behind(self) -> bool:
        """Reported late or not at all: named in the bulletin."""
        return bool(self.late or self.missing)


@dataclass(frozen=True)
class InterviewRow:
    """A 约谈 held in the period."""

    task_number: int
    unit: str
    held_on: date
    interviewee: str


@dataclass(frozen=True)
class BulletinDoc:
    """A bulletin (通报) on how a policy's tasks are being carried out."""

    issue: str                     # 2018年第3期
    number: str                    # 皖经信督〔2018〕5号
    title: str                     # 关于…落实情况的通报
    period_label: str              # 2018年8月 / 2018年度
    as_of: date
    office: str
    policy_title: str
    totals: Totals
    units: Sequence[UnitRow]
    targets: Sequence[TargetRow] = ()
    overdue: Sequence[OverdueRow] = ()
    requirements: Sequence[str] = ()
    yearly: bool = False           # the yearly bulletin on every city (每年通报各市情况)
    contact: Contact | None = None
    cc: Sequence[str] = ()
    addressee: str = "各市人民政府，省直有关单位"
    issued_on: date | None = None  # default: as_of
    masthead: str | None = None    # default: office + 督查通报
    ranking: Sequence[tuple[str, str, float, str]] = ()  # yearly: (名次, 单位, 得分, 等次) of 考核
    map_svg: str | None = None     # yearly: the cities coloured by on-time rate
    criticized: Sequence[CriticizedRow] = ()  # 通报批评 (engine.lifecycle: principal level)
    interviews: Sequence[InterviewRow] = ()   # 约谈 held in the period
    reporting: Sequence[ReportingRow] = ()    # 进展报送 due in the period, per unit


# ---------------------------------------------------------------- rendering
def render_notice_html(doc: NoticeDoc) -> str:
    """The notice as a standalone HTML page (styles inline)."""
    title = doc.title or "关于督促办理逾期任务的督办通知"
    return _render("notice.html", doc, title=title, signed_on=doc.issued_on,
                   masthead=doc.masthead or f"{doc.office}督查文件", annexes=[])


def render_bulletin_html(doc: BulletinDoc) -> str:
    """The bulletin as a standalone HTML page, annexes and chart included."""
    ranked = rank_cities(doc.units)
    annexes = _bulletin_annexes(doc, bool(ranked))
    numbers = {a["key"]: index for index, a in enumerate(annexes, start=1)}
    chart = on_time_rate_chart([(r.row.label, r.row.on_time_rate) for r in ranked])
    return _render(
        "bulletin.html", doc, title=doc.title, signed_on=doc.issued_on or doc.as_of,
        masthead=doc.masthead or f"{doc.office}督查通报", annexes=annexes,
        ranked=ranked, standing=standing_sentence(ranked), chart=Markup(chart),
        rank_annex=numbers.get("rank"), units_annex=numbers.get("units"),
        targets_annex=numbers.get("targets"), overdue_annex=numbers.get("overdue"),
        overdue_by_unit=_overdue_by_unit(doc.overdue), unit_total=_unit_total(doc.units),
        map_markup=Markup(doc.map_svg) if doc.map_svg else None,
        assessment_annex=numbers.get("assessment"), progress_annex=numbers.get("progress"),
        reporting_total=_reporting_total(doc.reporting))


def _bulletin_annexes(doc: BulletinDoc, has_cities: bool) -> list[dict[str, str]]:
    """The annexes a bulletin carries, in order; empty ones are left out."""
    year = "年度" if doc.yearly else ""
    candidates = [
        ("rank", f"各市任务按时办结率{year}排名", has_cities),
        ("units", "各单位任务办理情况统计表", bool(doc.units)),
        ("progress", "工作进展报送情况统计表", bool(doc.reporting)),
        ("targets", "目标任务完成情况表", bool(doc.targets)),
        ("overdue", "逾期未办结任务清单", bool(doc.overdue)),
        ("assessment", f"{doc.as_of.year}年度考核得分和名次（初步）", bool(doc.ranking)),
        ("map", "各市按时办结率分布图", bool(doc.map_svg)),
    ]
    return [{"key": key, "title": title} for key, title, present in candidates if present]


def _overdue_by_unit(rows: Sequence[OverdueRow]) -> list[tuple[str, list[int]]]:
    """Overdue task numbers grouped by unit, units in order of first appearance."""
    grouped: dict[str, list[int]] = {}
    for row in rows:
        numbers = grouped.setdefault(row.unit, [])
        if row.task_number not in numbers:
            numbers.append(row.task_number)
    return [(unit, sorted(numbers)) for unit, numbers in grouped.items()]


def _reporting_total(rows: Sequence[ReportingRow]) -> ReportingRow:
    """The 合计 line of the progress annex."""
    return ReportingRow("合计", sum(r.due for r in rows), sum(r.on_time for r in rows),
                        sum(r.late for r in rows), sum(r.missing for r in rows))


def _unit_total(rows: Sequence[UnitRow]) -> UnitRow:
    """The 合计 line of the per-unit table."""
    return UnitRow("合计", sum(r.assigned for r in rows), sum(r.closed for r in rows),
                   sum(r.closed_on_time for r in rows), sum(r.overdue for r in rows))


def _render(template: str, doc: NoticeDoc | BulletinDoc, **context: Any) -> str:
    """Fill a template; the masthead is sized to fit the type area."""
    masthead: str = context["masthead"]
    size = min(MASTHEAD_MAX_MM, TEXT_WIDTH_MM * 0.92 / max(len(masthead), 1))
    try:
        return _environment().get_template(template).render(
            doc=doc, masthead_size=f"{size:.1f}mm", self_ref=self_reference(doc.office),
            printer=printing_office(doc.office), title_lines=title_lines, **context)
    except DubanError:
        raise
    except Exception as exc:  # a template fault must not reach the user as a traceback
        raise DocumentError(f"notifications/templates/{template}：公文排版失败：{exc}") from exc


def render_html(template: str, doc: Any, **context: Any) -> str:
    """Another numbered document on the same base (the 考核结果通报): ``doc`` needs the
    attributes _base.html reads (office, number, addressee, contact, cc)."""
    return _render(template, doc, **context)


def printing_office(office: str) -> str:
    """The 版记's 印发机关: a department's general office, or an office that is one itself."""
    return office if office.endswith(("室", "办", "办公厅")) else f"{office}办公室"


SELF_REFERENCES = (("委员会", "我委"), ("办公室", "我办"), ("督查室", "我室"), ("室", "我室"),
                   ("厅", "我厅"), ("委", "我委"),
                   ("局", "我局"), ("办", "我办"), ("院", "我院"), ("部", "我部"))


def title_lines(title: str, per_line: int = TITLE_LINE_CHARS) -> list[str]:
    """A long title in lines of even length that keep words whole where they can (GB/T 9704
    7.3.2: 词意完整，排列对称)."""
    weights = [0.5 if ch.isascii() else 1.0 for ch in title]  # Latin digits are half wide
    count = math.ceil(sum(weights) / (per_line - 2))  # slack to move breaks to word boundaries
    lines: list[str] = []
    start = 0
    for remaining in range(count, 1, -1):
        target = sum(weights[start:]) / remaining
        ideal, width = start, 0.0
        while ideal < len(title) - 1 and width + weights[ideal] / 2 < target:
            width += weights[ideal]
            ideal += 1
        end = _best_break(title, start, ideal, weights, per_line)
        lines.append(title[start:end])
        start = end
    lines.append(title[start:])
    return lines


def _best_break(title: str, start: int, ideal: int, weights: list[float], per_line: int) -> int:
    """The break nearest ``ideal`` at a word boundary we know of, else nearest by position."""
    allowed = [pos for pos in range(max(start + 1, ideal - 4), min(len(title), ideal + 5))
               if title[pos] not in CLOSING and title[pos - 1] not in OPENING
               and sum(weights[start:pos]) <= per_line]
    good = [pos for pos in allowed
            if title[pos - 1] in BREAK_AFTER or title.startswith(BREAK_BEFORE, pos)]
    candidates = good or allowed or [ideal]
    return min(candidates, key=lambda pos: (abs(pos - ideal), pos))


def self_reference(office: str) -> str:
    """How an office names itself in its own text: 我厅, 我委, 我局, 我办; else 我单位."""
    return next((ref for suffix, ref in SELF_REFERENCES if office.endswith(suffix)), "我单位")


def cn_date(day: date) -> str:
    """A date as written in documents: 2018年9月15日."""
    return f"{day.year}年{day.month}月{day.day}日"


def quantity(value: Decimal | int | float) -> str:
    """A reported quantity without trailing zeros: 862, 2.5 (never 2.50 or 1E+3)."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def cn_numeral(number: int) -> str:
    """1-99 in Chinese numerals (一, 十二, 二十): numbers the parts of a document."""
    if not 0 < number < 100:
        raise ValidationError(f"无法用中文序号表示：{number}")
    tens, ones = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens] + "十")
    return head + (NUMERALS[ones] if ones else "")


@functools.cache
def _environment() -> Environment:
    """The Jinja2 environment of the document templates (autoescaping on)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(cn_date=cn_date, pct=percent_text, numeral=cn_numeral, quoted=quoted,
                       qty=quantity)
    return env


# ---------------------------------------------------------------- PDF
@functools.cache
def local_fetcher() -> Any:
    """WeasyPrint may fetch only ``data:`` URLs and files of the templates folder: a task text
    or a unit name that smuggled in an ``<img src=http://…>`` or ``file:///etc/…`` gets nothing
    (defence in depth: the templates escape everything already)."""
    from weasyprint.urls import URLFetcher

    root = TEMPLATES.resolve()

    class LocalFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if not (path.is_relative_to(root) and path.is_file()):
                    raise ValueError(f"文书不能引用模板目录以外的文件：{url[:80]}")
            return super().fetch(url, headers)

    return LocalFetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def render_pdf(html: str) -> bytes:
    """Lay out an HTML document as PDF bytes with WeasyPrint (imported here, it is slow)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise DocumentError(f"无法加载 PDF 排版组件 WeasyPrint：{exc}") from exc
    try:
        pdf = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=local_fetcher()).write_pdf()
    except Exception as exc:
        raise DocumentError(f"PDF 生成失败：{exc}") from exc
    if not pdf:
        raise DocumentError("PDF 生成失败：WeasyPrint 没有返回内容")
    return bytes(pdf)


def notice_pdf(doc: NoticeDoc) -> bytes:
    """The notice as PDF bytes."""
    return render_pdf(render_notice_html(doc))


def bulletin_pdf(doc: BulletinDoc) -> bytes:
    """The bulletin as PDF bytes."""
    return render_pdf(render_bulletin_html(doc))
