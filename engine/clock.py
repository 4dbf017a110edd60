"""The one injectable clock. Nothing else in Duban reads the wall clock.

A ``Clock`` answers ``now()`` (timezone-aware) and ``today()`` (the date in China time). The
system clock reads the wall clock; a ``ManualClock`` is set by hand (tests); the simulated clock
of a deployment keeps its time in the database (``engine.store.DatabaseClock``).

SpiffWorkflow reads ``datetime.now`` inside its timer module: ``install_spiff_clock`` rebinds
that module's ``datetime`` to a subclass whose ``now`` asks the clock of the current context, so
BPMN timers follow the same clock (shared/notes/spiffworkflow.md).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Protocol

from engine.errors import ClockError

CHINA_TZ = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    """Where time comes from."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


def today(clock: Clock) -> date:
    """The current date in China time."""
    return clock.now().astimezone(CHINA_TZ).date()


def start_of_day(day: date) -> datetime:
    """00:00 China time on ``day``."""
    return datetime.combine(day, time(0), CHINA_TZ)


def overdue_from(due_date: date) -> datetime:
    """The instant a task due on ``due_date`` becomes overdue: the next day 00:00 China time."""
    return start_of_day(due_date + timedelta(days=1))


class SettableClock(Clock, Protocol):
    """A clock that can be moved forward (a simulated one)."""

    def set(self, when: datetime) -> None:
        """Move to ``when``; never backwards."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def is_simulated(clock: Clock) -> bool:
    """The one answer to "is this clock simulated?": every clock but the wall clock is."""
    return not isinstance(clock, SystemClock)


def settable(clock: Clock) -> SettableClock:
    """``clock`` as a clock that can be moved, or ClockError for the wall clock."""
    if not is_simulated(clock) or not callable(getattr(clock, "set", None)):
        raise ClockError("当前使用系统时钟，不能调整（模拟时钟需在 duban init 前设置 DUBAN_CLOCK）")
    return clock  # type: ignore[return-value]


class ManualClock:
    """A clock set by hand: tests and the simulator move it forward."""

    def __init__(self, start: datetime | date) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime | date) -> None:
        when = _aware(when)
        if when < self._now:
            raise ClockError(f"时钟不能倒退：{when.isoformat()} 早于 {self._now.isoformat()}")
        self._now = when

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)


def _aware(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)
    return start_of_day(value)


_SYSTEM = SystemClock()
_current: contextvars.ContextVar[Clock] = contextvars.ContextVar("duban_clock", default=_SYSTEM)


def current_clock() -> Clock:
    """The clock of the current context (the system clock unless ``use_clock`` set one)."""
    return _current.get()


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the current one (for SpiffWorkflow's timers too) inside the block."""
    install_spiff_clock()
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


class _ClockDatetime(datetime):
    """``datetime`` whose ``now`` reads the current Duban clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockDatetime:
        instant = current_clock().now()
        instant = instant.astimezone(tz) if tz else instant.astimezone().replace(tzinfo=None)
        return cls.fromtimestamp(instant.timestamp(), tz) if tz is None else cls(
            instant.year, instant.month, instant.day, instant.hour, instant.minute,
            instant.second, instant.microsecond, tzinfo=instant.tzinfo)


def install_spiff_clock() -> None:
    """Route SpiffWorkflow's timer decisions through ``current_clock`` (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    if timer.datetime is not _ClockDatetime:
        timer.datetime = _ClockDatetime
