from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ValidationError
from engine.workdays import WorkCalendar, default_calendar

CAL = WorkCalendar(range(2017, 2022))
DAYS = st.dates(min_value=date(2001, 1, 1), max_value=date(2035, 12, 31))
FAST = settings(max_examples=150, deadline=None)


def test_2018_spring_festival_makeup_sunday_is_a_working_day():
    assert date(2018, 2, 11).weekday() == 6
    assert CAL.is_working_day(date(2018, 2, 11))
    assert not CAL.is_working_day(date(2018, 2, 15))  # the Thursday it moved to


def test_2018_national_day_week_is_off_and_the_weekend_before_works():
    for day in range(1, 8):
        assert not CAL.is_working_day(date(2018, 10, day)), day
    assert date(2018, 9, 29).weekday() == 5
    assert CAL.is_working_day(date(2018, 9, 29))
    assert CAL.is_working_day(date(2018, 9, 30))
    assert CAL.is_working_day(date(2018, 10, 8))


def test_ordinary_weekends_and_weekdays():
    assert not CAL.is_working_day(date(2018, 6, 2))  # Saturday
    assert not CAL.is_working_day(date(2018, 6, 3))  # Sunday
    assert CAL.is_working_day(date(2018, 6, 4))      # Monday
    assert not CAL.is_working_day(date(2018, 6, 18))  # 端午节, a Monday


def test_makeup_day_announced_with_the_next_years_notice():
    # The 2012 notice moved New Year's Day 2012 and made Saturday 2011-12-31 a working day.
    assert date(2011, 12, 31).weekday() == 5
    assert WorkCalendar().is_working_day(date(2011, 12, 31))
    assert date(2011, 12, 31) in WorkCalendar().makeup_workdays(2011)


def test_2020_spring_festival_extension():
    assert not CAL.is_working_day(date(2020, 1, 31))  # a Friday, extended holiday
    assert not CAL.is_working_day(date(2020, 2, 1))   # the make-up Saturday, cancelled
    assert CAL.is_working_day(date(2020, 2, 3))       # the State Council's first working day
    assert CAL.is_working_day(date(2020, 1, 19))      # Sunday make-up day


@pytest.mark.parametrize("year", [2018, 2019])
def test_a_year_with_365_days_starting_monday_or_tuesday_has_250_working_days(year):
    # 261 weekdays minus 11 statutory holidays: moved days and make-up days balance out.
    first, last = date(year, 1, 1), date(year, 12, 31)
    total = CAL.working_days_between(first - timedelta(days=1), last)
    assert total == 261 - 11


def test_makeup_days_are_weekend_days_and_days_off_exclude_them():
    for year in (2018, 2019, 2020):
        makeup = CAL.makeup_workdays(year)
        assert makeup and all(d.weekday() >= 5 and d.year == year for d in makeup)
        assert not makeup & CAL.days_off(year)


def test_agrees_with_the_holidays_package_for_a_whole_year():
    cn = holidays.country_holidays("CN", years=2019)
    day = date(2019, 1, 1)
    while day.year == 2019:
        assert CAL.is_working_day(day) == cn.is_working_day(day), day
        day += timedelta(days=1)


def test_each_year_is_read_from_the_package_once(monkeypatch):
    calls = []
    real = holidays.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    cal = WorkCalendar()
    cal.working_days_between(date(2018, 1, 1), date(2019, 12, 31))
    cal.add_working_days(date(2018, 3, 1), 200)
    assert calls == [(2018, 2019), (2019, 2020)]


def test_add_working_days_examples():
    # Friday 2018-09-28 + 1: Saturday 09-29 is a make-up working day.
    assert CAL.add_working_days(date(2018, 9, 28), 1) == date(2018, 9, 29)
    # Sunday 09-30 is the 2nd; then the holiday week; Monday 10-08 is the 3rd.
    assert CAL.add_working_days(date(2018, 9, 28), 3) == date(2018, 10, 8)
    assert CAL.add_working_days(date(2018, 10, 3), 0) == date(2018, 10, 3)
    with pytest.raises(ValidationError):
        CAL.add_working_days(date(2018, 10, 3), -1)


def test_roll_forward_examples():
    assert CAL.roll_forward(date(2018, 10, 1)) == date(2018, 10, 8)
    assert CAL.roll_forward(date(2018, 9, 30)) == date(2018, 9, 30)
    assert CAL.roll_forward(date(2018, 12, 30)) == date(2019, 1, 2)


def test_default_calendar_is_shared():
    assert default_calendar() is default_calendar()


@FAST
@given(DAYS, st.integers(min_value=1, max_value=300))
def test_add_working_days_lands_on_a_working_day_after_start(start, n):
    end = CAL.add_working_days(start, n)
    assert end > start
    assert CAL.is_working_day(end)


@FAST
@given(DAYS, st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=200))
def test_add_working_days_is_monotone_and_additive(start, a, b):
    lo, hi = sorted((a, b))
    assert CAL.add_working_days(start, lo) <= CAL.add_working_days(start, hi)
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == \
        CAL.add_working_days(start, a + b)


@FAST
@given(DAYS, DAYS)
def test_add_working_days_is_monotone_in_start(d1, d2):
    lo, hi = sorted((d1, d2))
    assert CAL.add_working_days(lo, 5) <= CAL.add_working_days(hi, 5)


@FAST
@given(DAYS, st.integers(min_value=0, max_value=300))
def test_working_days_between_inverts_add_working_days(start, n):
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


@FAST
@given(DAYS, DAYS, DAYS)
def test_working_days_between_is_additive_and_antisymmetric(a, b, c):
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    assert CAL.working_days_between(a, c) == \
        CAL.working_days_between(a, b) + CAL.working_days_between(b, c)


@FAST
@given(DAYS)
def test_roll_forward_is_the_first_working_day_on_or_after(day):
    rolled = CAL.roll_forward(day)
    assert rolled >= day and CAL.is_working_day(rolled)
    assert CAL.working_days_between(day, rolled) == (0 if rolled == day else 1)
    assert CAL.roll_forward(rolled) == rolled
    assert rolled - day < timedelta(days=12)


@FAST
@given(DAYS)
def test_a_working_day_is_a_weekday_unless_a_makeup_day(day):
    if CAL.is_working_day(day):
        assert day.weekday() < 5 or day in CAL.makeup_workdays(day.year)
    else:
        assert day.weekday() >= 5 or day in CAL.days_off(day.year)
