"""China's working-day calendar: statutory holidays and make-up working days (调休).

The facts come from the PyPI ``holidays`` package (country ``CN``), which carries the State
Council's yearly notices: ``China`` lists the days off (statutory days, days moved from a
weekend, the 2020 extension) and records the weekend days that became working days in its
``weekend_workdays`` set. Nothing here is a hand-kept list.

A make-up working day can be announced with the next year's notice (the 2012 notice made
2011-12-31 a working day), so a year is built from the package's data for that year and the
next, then kept per year. Years beyond the package's notices get the statutory days only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, timedelta

import holidays

from engine.errors import ValidationError

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


class WorkCalendar:
    """Working days in mainland China: Monday-Friday minus holidays, plus make-up weekend days."""

    def __init__(self, years: Iterable[int] | None = None) -> None:
        """Build a calendar; ``years`` are loaded up front, any other year on first use."""
        self._days_off: dict[int, frozenset[date]] = {}
        self._workdays: dict[int, frozenset[date]] = {}
        self._lock = threading.Lock()
        for year in years or ():
            self._load(year)

    def _load(self, year: int) -> None:
        """Read one year's days off and make-up working days from ``holidays``."""
        with self._lock:
            if year in self._days_off:
                return
            cn = holidays.country_holidays("CN", years=(year, year + 1))
            # _days_off is written last: is_working_day reads it to know a year is loaded.
            self._workdays[year] = frozenset(d for d in cn.weekend_workdays if d.year == year)
            self._days_off[year] = frozenset(d for d in cn if d.year == year)

    def days_off(self, year: int) -> frozenset[date]:
        """The holidays of ``year`` that fall on Monday-Friday or on a weekend (all days off)."""
        self._load(year)
        return self._days_off[year]

    def makeup_workdays(self, year: int) -> frozenset[date]:
        """The weekend days of ``year`` that are working days (调休上班)."""
        self._load(year)
        return self._workdays[year]

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        if day.year not in self._days_off:
            self._load(day.year)
        if day.weekday() >= _SATURDAY:
            return day in self._workdays[day.year]
        return day not in self._days_off[day.year]

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself when ``n`` is 0)."""
        if n < 0:
            raise ValidationError(f"工作日数不能为负数：{n} (working days must be >= 0)")
        day = start
        while n > 0:
            day += _ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count

    def roll_forward(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day


_DEFAULT: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """A process-wide calendar for callers that were given none (its data never changes)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = WorkCalendar()
    return _DEFAULT
