from datetime import UTC, date, datetime, timedelta

import pytest

from engine.clock import CHINA_TZ, ManualClock, current_clock, overdue_from, today, use_clock
from engine.errors import ClockError


def test_overdue_from_is_next_midnight_china_time():
    assert overdue_from(date(2018, 8, 30)) == datetime(2018, 8, 31, tzinfo=CHINA_TZ)
    assert overdue_from(date(2018, 8, 30)).astimezone(UTC).hour == 16


def test_manual_clock_moves_forward_only():
    clock = ManualClock(date(2018, 6, 1))
    clock.advance(timedelta(days=1))
    assert today(clock) == date(2018, 6, 2)
    with pytest.raises(ClockError):
        clock.set(date(2018, 5, 1))


def test_use_clock_drives_spiffworkflow_timer_module():
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    clock = ManualClock(datetime(2019, 3, 4, 5, 6, tzinfo=UTC))
    with use_clock(clock):
        assert current_clock() is clock
        assert timer.datetime.now(UTC) == clock.now()
    assert current_clock() is not clock
