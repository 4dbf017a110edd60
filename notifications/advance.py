"""Moving a simulated clock forward day by day, running the scheduler's tick each day.

The one clock-advance function: ``duban tick --until`` and the admin page's 时钟 both call
``advance``. Each simulated day, under the tick lock (notifications.locks), the clock is set to
``TICK_HOUR`` China time, every step runs once, and the day is recorded as ticked
(``clock_state.ticked_on``). The next day is chosen under the lock, so two processes advancing
at once take turns day by day: neither moves the clock backwards, skips a day or runs a day the
other has finished. A clock standing at a day's tick hour whose tick did not finish (a crash
between moving the clock and the end of the tick) runs that day again: every step is idempotent.
A day with a failed step is not recorded; the advance stops there (``AdvanceStopped``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from engine.clock import CHINA_TZ, Clock, SettableClock, settable
from engine.errors import ClockError, DubanError
from engine.runtime import Runtime
from notifications.locks import tick_lock
from notifications.tick import TickReport, run_steps

TICK_HOUR = time(8, 0)


class AdvanceStopped(DubanError):
    """A step failed on a day: the advance stopped there, that day is not recorded as ticked."""

    def __init__(self, day: date, report: TickReport, ran: list[date]) -> None:
        self.day, self.report, self.ran = day, report, ran
        super().__init__(f"{day.isoformat()} 的调度步骤 {'、'.join(report.failed)} 失败"
                         f"（原因见日志），时钟停在该日；排除问题后重新运行即从该日继续")


def days_to(clock: Clock, end: date) -> list[date]:
    """The days on which a tick is still due, from the clock's date to ``end``."""
    first = next_day(clock)
    return [first + timedelta(days=i) for i in range((end - first).days + 1)]


def next_day(clock: Clock) -> date:
    """The first day whose tick has not run to its end."""
    now = clock.now().astimezone(CHINA_TZ)
    first = now.date() if now.time() <= TICK_HOUR else now.date() + timedelta(days=1)
    ticked = _ticked_on(clock)
    if ticked is not None and ticked >= first:
        first = ticked + timedelta(days=1)
    return first


def _ticked_on(clock: Clock) -> date | None:
    reader = getattr(clock, "ticked_on", None)
    return reader() if callable(reader) else None


def _mark_ticked(clock: Clock, day: date) -> None:
    marker = getattr(clock, "mark_ticked", None)
    if callable(marker):
        marker(day)


def advance(rt: Runtime, until: date, *, max_days: int | None = None,
            on_day: Callable[[date, TickReport], None] | None = None) -> list[date]:
    """Move the simulated clock to ``until``, one tick per day; the days this call ran."""
    clock = settable(rt.clock)
    if max_days is not None and len(days_to(clock, until)) > max_days:
        raise ClockError(f"一次最多推进 {max_days} 天，请分次推进或使用 duban tick --until")
    ran: list[date] = []
    while (done := _one_day(rt, clock, until, ran[-1] if ran else None)) is not None:
        day, report = done
        if report.failed:
            raise AdvanceStopped(day, report, ran)
        ran.append(day)
        if on_day is not None:
            on_day(day, report)
    return ran


def _one_day(rt: Runtime, clock: SettableClock, until: date,
             last: date | None) -> tuple[date, TickReport] | None:
    """Under the tick lock: the next day not yet ticked (and after ``last``, which this call
    ran: a clock without a ticked-day record), if not after ``until``, run."""
    with tick_lock(rt):
        day = next_day(clock)
        if last is not None and day <= last:
            day = last + timedelta(days=1)
        if day > until:
            return None
        clock.set(datetime.combine(day, TICK_HOUR, CHINA_TZ))
        report = run_steps(rt)
        if not report.failed:
            _mark_ticked(clock, day)
        return day, report
