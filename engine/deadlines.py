"""Deadline phrases (时限要求) -> ``DeadlineRule`` -> ``Cycle``s with due dates.

``parse_deadline`` reads the phrases of real decomposition tables (shared/notes/domain.md) with
Arabic, full-width or Chinese numerals. Each rule kind is a frozen dataclass that turns a
``RuleContext`` (issue date, horizon, selection years, calendar) into its cycles, and round-trips
through ``to_dict`` / ``rule_from_dict`` (the database stores it as JSON).

Recurring rules make one cycle per period from the period holding ``ctx.start`` to the end of
``ctx.horizon_year``; a period whose due date is already past on ``ctx.start`` is skipped. A
cycle's period is the one its due date falls in (每个季度第1个月20日前: due Jul 20 is the cycle
"第三季度"); it opens on the period's first day, never before ``ctx.start``. Fixed dates are
kept as written; only relative calendar-day periods roll forward off a holiday (民法典 art. 203).
"""

from __future__ import annotations

import calendar as _cal
import dataclasses
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from engine.errors import DeadlinePhraseError, PolicyError
from engine.workdays import WorkCalendar, default_calendar

ONE_OFF_LABEL = "一次性"
OPEN_LABEL = "长期"
_QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")


@dataclass(frozen=True)
class Cycle:
    """One period of a task with its due date (None: open-ended, never overdue)."""

    label: str
    opens_on: date
    due_date: date | None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe form with ISO dates."""
        due = self.due_date.isoformat() if self.due_date else None
        return {"label": self.label, "opens_on": self.opens_on.isoformat(), "due_date": due}


@dataclass(frozen=True)
class RuleContext:
    """What turns a rule into cycles: issue date, horizon, selection years, working days."""

    start: date
    horizon_year: int
    selection_years: tuple[int, ...] = ()
    calendar: WorkCalendar | None = None

    def __post_init__(self) -> None:
        """Reject a horizon that ends before the policy starts."""
        if self.horizon_year < self.start.year:
            raise PolicyError(f"期限年份 {self.horizon_year} 早于起始日期 {self.start} "
                              "(horizon_year is before the start year)")


def _day_in_month(year: int, month: int, day: int | None) -> date:
    """Day ``day`` of the month, clamped to its last day; None means the last day."""
    last = _cal.monthrange(year, month)[1]
    return date(year, month, last if day is None else min(day, last))


def _check_range(what: str, value: int, low: int, high: int) -> None:
    """Raise ValueError unless low <= value <= high."""
    if not low <= value <= high:
        raise ValueError(f"{what} {value} 超出范围 {low}-{high}")


def _check_day(day: int | None) -> None:
    """A day of month 1-31, or None for the last day."""
    if day is not None:
        _check_range("日", day, 1, 31)


def _period_cycles(ctx: RuleContext, periods: list[tuple[str, date, date]]) -> list[Cycle]:
    """Cycles from (label, first day, due) triples: skip past dues, open no earlier than start."""
    return [Cycle(label, max(first, ctx.start), due)
            for label, first, due in periods if due >= ctx.start]


@dataclass(frozen=True)
class DeadlineRule:
    """Base of every rule kind: the phrase as written and how to make cycles from it."""

    phrase: str
    kind: ClassVar[str] = ""

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """The rule's cycles in date order."""
        raise NotImplementedError

    def due_after_assignment(self, assigned: date, ctx: RuleContext) -> date | None:
        """Due date of work assigned on ``assigned``; only relative rules have one."""
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; ``rule_from_dict`` reverses it."""
        return {"kind": self.kind, **dataclasses.asdict(self)}

    def _years(self, ctx: RuleContext) -> range:
        """The years a recurring rule runs: start year to horizon year."""
        return range(ctx.start.year, ctx.horizon_year + 1)


@dataclass(frozen=True)
class FixedRule(DeadlineRule):
    """A one-off date: "2018年8月30日前", "2018年9月底前", "2020年年底前", "年底前"."""

    kind: ClassVar[str] = "fixed"
    year: int | None = None      # None: the year of ctx.start ("年底前")
    month: int = 12
    day: int | None = None       # None: the last day of the month

    def __post_init__(self) -> None:
        """The date must exist (no 2月30日); a missing year is checked on a leap year."""
        if self.year is not None:
            _check_range("年份", self.year, 1949, 2100)
        date(self.year or 2000, self.month, self.day or 1)

    def due(self, ctx: RuleContext) -> date:
        """The due date, the start year filled in when the phrase gave none."""
        return _day_in_month(self.year or ctx.start.year, self.month, self.day)

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """One cycle opening on ctx.start, even when the date is already past."""
        return [Cycle(ONE_OFF_LABEL, ctx.start, self.due(ctx))]


@dataclass(frozen=True)
class YearlyRule(DeadlineRule):
    """Every year by Dec 31: "每年年底前"."""

    kind: ClassVar[str] = "yearly"

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """One cycle per year of the horizon."""
        return _period_cycles(ctx, [(f"{y}年度", date(y, 1, 1), date(y, 12, 31))
                                    for y in self._years(ctx)])


@dataclass(frozen=True)
class QuarterlyRule(DeadlineRule):
    """Every quarter: "每季度末" (month 3, last day), "每个季度第1个月20日前" (month 1, day 20)."""

    kind: ClassVar[str] = "quarterly"
    month_of_quarter: int = 3
    day: int | None = None

    def __post_init__(self) -> None:
        """Month 1-3 of the quarter, day 1-31."""
        _check_range("季度第几个月", self.month_of_quarter, 1, 3)
        _check_day(self.day)

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """One cycle per quarter, labelled by the quarter its due date falls in."""
        periods = []
        for y in self._years(ctx):
            for q, name in enumerate(_QUARTER_NAMES):
                first = date(y, 3 * q + 1, 1)
                due = _day_in_month(y, 3 * q + self.month_of_quarter, self.day)
                periods.append((f"{y}年{name}", first, due))
        return _period_cycles(ctx, periods)


@dataclass(frozen=True)
class HalfYearlyRule(DeadlineRule):
    """Every half year: "每半年" (Jun 30, Dec 31)."""

    kind: ClassVar[str] = "half_yearly"

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """Two cycles per year of the horizon."""
        periods = []
        for y in self._years(ctx):
            periods.append((f"{y}年上半年", date(y, 1, 1), date(y, 6, 30)))
            periods.append((f"{y}年下半年", date(y, 7, 1), date(y, 12, 31)))
        return _period_cycles(ctx, periods)


@dataclass(frozen=True)
class MonthlyRule(DeadlineRule):
    """Every month: "每月10日前" (day 10, clamped to short months), "每月底前" (day None)."""

    kind: ClassVar[str] = "monthly"
    day: int | None = None

    def __post_init__(self) -> None:
        """Day 1-31; clamped to the month's last day when cycles are made."""
        _check_day(self.day)

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """One cycle per month of the horizon."""
        return _period_cycles(ctx, [(f"{y}年{m}月", date(y, m, 1), _day_in_month(y, m, self.day))
                                    for y in self._years(ctx) for m in range(1, 13)])


@dataclass(frozen=True)
class SelectionRule(DeadlineRule):
    """Dec 31 of each configured selection year: "评选当年年底前", "每两年"."""

    kind: ClassVar[str] = "selection"

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """One cycle per selection year; the years come from the policy's configuration."""
        if not ctx.selection_years:
            raise PolicyError(f"时限「{self.phrase}」需要配置评选年份 selection_years "
                              "(no selection years configured)")
        early = [y for y in ctx.selection_years if y < ctx.start.year]
        if early:
            raise PolicyError(f"评选年份 {early} 早于起始日期 {ctx.start} "
                              "(selection year before the start)")
        return _period_cycles(ctx, [(f"{y}年度", date(y, 1, 1), date(y, 12, 31))
                                    for y in sorted(set(ctx.selection_years))])


@dataclass(frozen=True)
class RelativeRule(DeadlineRule):
    """N working or calendar days from assignment: "5个工作日内", "15日内"."""

    kind: ClassVar[str] = "relative"
    days: int = 1
    working_days: bool = True

    def __post_init__(self) -> None:
        """At least one day."""
        _check_range("天数", self.days, 1, 10_000)

    @property
    def label(self) -> str:
        """The cycle label, e.g. "自交办之日起5个工作日内"."""
        return f"自交办之日起{self.days}{'个工作日' if self.working_days else '日'}内"

    def due_after_assignment(self, assigned: date, ctx: RuleContext) -> date:
        """Working days via ctx.calendar; calendar days rolled forward off a non-working day."""
        if self.working_days:
            if ctx.calendar is None:
                raise PolicyError(f"时限「{self.phrase}」按工作日计算，需要工作日历 "
                                  "(working-day rule needs RuleContext.calendar)")
            return ctx.calendar.add_working_days(assigned, self.days)
        work_calendar = ctx.calendar or default_calendar()
        return work_calendar.roll_forward(assigned + timedelta(days=self.days))

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """One cycle assigned on ctx.start."""
        return [Cycle(self.label, ctx.start, self.due_after_assignment(ctx.start, ctx))]


@dataclass(frozen=True)
class OpenRule(DeadlineRule):
    """No due date: "长期坚持", "持续推进"; never overdue."""

    kind: ClassVar[str] = "open"

    def cycles(self, ctx: RuleContext) -> list[Cycle]:
        """One open-ended cycle from ctx.start."""
        return [Cycle(OPEN_LABEL, ctx.start, None)]


_KINDS: dict[str, type[DeadlineRule]] = {cls.kind: cls for cls in (
    FixedRule, YearlyRule, QuarterlyRule, HalfYearlyRule, MonthlyRule, SelectionRule,
    RelativeRule, OpenRule)}


# --- parsing -------------------------------------------------------------------------------

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"([0-9]+|[〇零○一二两三四五六七八九十百]+)"
_END = r"(?:前|之前|以前)?"


def _number(text: str) -> int:
    """An Arabic or Chinese numeral: "2018", "二〇一八", "十五", "三十一", "一百二十"."""
    if text.isdigit():
        return int(text)
    if "十" not in text and "百" not in text:  # digit by digit, as years are written
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        else:
            total += (current or 1) * (100 if char == "百" else 10)
            current = 0
    return total + current


def _normalize(phrase: str) -> str:
    """Full-width to half-width, drop all whitespace and a trailing full stop."""
    text = unicodedata.normalize("NFKC", phrase)
    return re.sub(r"\s+", "", text).rstrip("。.；;，,")


def _quarter(q: int) -> int:
    """The last month of quarter ``q`` (1-4)."""
    _check_range("季度", q, 1, 4)
    return 3 * q


_NUMERAL = re.compile(_NUM)
# Each builder gets the phrase and the pattern's groups, numerals already turned into ints.
_RULES: list[tuple[str, Callable[..., DeadlineRule]]] = [
    (rf"{_NUM}年{_NUM}月{_NUM}[日号]{_END}", FixedRule),
    (rf"{_NUM}年{_NUM}月(?:底|末){_END}", FixedRule),
    (rf"{_NUM}年(?:年底|年末|底){_END}", FixedRule),
    (rf"(?:年底|年末|年内){_END}", FixedRule),
    # Without a year the policy's year is meant ("11月底前" in a 2022 plan); the importer
    # fills the year in, FixedRule(year=None) takes ctx.start's year.
    (rf"{_NUM}月(?:底|末){_END}", lambda s, m: FixedRule(s, None, m)),
    (rf"(?:{_NUM}年)?上半年(?:底|末)?{_END}", lambda s, y: FixedRule(s, y, 6)),
    (rf"(?:{_NUM}年)?下半年(?:底|末)?{_END}", lambda s, y: FixedRule(s, y, 12)),
    (rf"{_NUM}年第?{_NUM}季度(?:末|底)?{_END}", lambda s, y, q: FixedRule(s, y, _quarter(q))),
    (rf"每年(?:年底|年末|底)?{_END}", YearlyRule),
    (rf"每个?季度(?:末|结束)?{_END}", QuarterlyRule),
    (rf"每个?季度第{_NUM}个?月{_NUM}[日号]{_END}", QuarterlyRule),
    (rf"每个?季度(?:末|末月|最后一个月){_NUM}[日号]{_END}", lambda s, d: QuarterlyRule(s, 3, d)),
    (rf"每半年(?:末)?{_END}", HalfYearlyRule),
    (rf"每个?月{_NUM}[日号]{_END}", MonthlyRule),
    (rf"每个?月(?:底|末)?{_END}", MonthlyRule),
    (rf"评选当年(?:年底|年末){_END}|每两年(?:评选一次|一次)?", SelectionRule),
    (rf"(?:自交办之日起)?{_NUM}(个工作日|工作日|个自然日|自然日|日|天)内",
     lambda s, n, unit: RelativeRule(s, n, "工作" in unit)),
    (r"长期坚持|持续推进|持续开展|长期推进|常态化推进|长期", OpenRule),
]
_PATTERNS = [(re.compile(f"^(?:{pattern})$"), build) for pattern, build in _RULES]


def parse_deadline(phrase: str) -> DeadlineRule:
    """Parse a deadline phrase; raise DeadlinePhraseError quoting it when it is not understood."""
    text = _normalize(phrase)
    for pattern, build in _PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                args = [_number(g) if g is not None and _NUMERAL.fullmatch(g) else g
                        for g in match.groups()]
                rule = build(phrase.strip(), *args)
            except (ValueError, KeyError) as exc:
                raise DeadlinePhraseError(f"时限要求「{phrase}」中的日期或数字无效 "
                                          f"(invalid date or number in deadline: {exc})") from exc
            return rule
    raise DeadlinePhraseError(f"无法识别的时限要求「{phrase}」 (unrecognized deadline phrase)")


def rule_from_dict(data: dict[str, Any]) -> DeadlineRule:
    """Rebuild a rule from ``DeadlineRule.to_dict()``."""
    fields = dict(data)
    cls = _KINDS.get(str(fields.pop("kind", "")))
    if cls is None or not isinstance(fields.get("phrase"), str):
        raise DeadlinePhraseError(f"无法还原的时限规则 {data!r} (unknown deadline rule data)")
    try:
        return cls(**fields)
    except (TypeError, ValueError) as exc:
        raise DeadlinePhraseError(f"无法还原的时限规则 {data!r} ({exc})") from exc
