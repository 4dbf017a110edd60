"""Moving a simulated clock forward day by day, running the scheduler's tick each day.

The one clock-advance function: ``duban tick --until`` and the admin page's 时钟 both call
``advance``. Each simulated day the clock is set to ``TICK_HOUR`` China time and every step
runs once; a clock standing at a day's tick hour may have stopped before that tick ran (a crash
between moving the clock and ticking), so that day runs again: every step is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from engine.clock import CHINA_TZ, Clock, settable
from engine.errors import ClockError
from engine.runtime import Runtime
from notifications.tick import TickReport, run_tick

TICK_HOUR = time(8, 0)


def days_to(clock: Clock, end: date) -> list[date]:
    """The days on which a tick is still due, from the clock's date to ``end``."""
    now = clock.now().astimezone(CHINA_TZ)
    first = now.date() if now.time() <= TICK_HOUR else now.date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((end - first).days + 1)]


def advance(rt: Runtime, until: date, *, max_days: int | None = None,
            on_day: Callable[[date, TickReport], None] | None = None) -> list[date]:
    """Move the simulated clock to ``until``, one tick per day; the days that ran."""
    clock = settable(rt.clock)
    days = days_to(clock, until)
    if max_days is not None and len(days) > max_days:
        raise ClockError(f"一次最多推进 {max_days} 天，请分次推进或使用 duban tick --until")
    for day in days:
        clock.set(datetime.combine(day, TICK_HOUR, CHINA_TZ))
        report = run_tick(rt)
        if on_day is not None:
            on_day(day, report)
    return days
