"""What a Duban process needs, built once: configuration, sessions, the clock, parsed processes."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine import bpmn
from engine.clock import CHINA_TZ, Clock, SystemClock, start_of_day
from engine.config import Config
from engine.db import make_engine, session_factory
from engine.errors import ClockError, ConfigError
from engine.models import ClockState


class DatabaseClock:
    """The simulated clock of a deployment: its time is one row, shared by every process."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def now(self) -> datetime:
        with self._sessions() as s:
            now = s.scalar(select(ClockState.now).where(ClockState.id == 1))
            if now is None:
                raise ClockError("模拟时钟尚未初始化：请先运行 duban init")
            return now

    def set(self, when: datetime) -> None:
        """Move the clock forward to ``when`` (never backwards)."""
        with self._sessions() as s, s.begin():
            row = s.scalars(select(ClockState).where(ClockState.id == 1).with_for_update()).one()
            if when < row.now:
                raise ClockError(f"时钟不能倒退：{when.isoformat()} 早于 {row.now.isoformat()}")
            row.now = when

    def ticked_on(self) -> date | None:
        """The last simulated day whose tick ran to its end."""
        with self._sessions() as s:
            return s.scalar(select(ClockState.ticked_on).where(ClockState.id == 1))

    def mark_ticked(self, day: date) -> None:
        """Record that ``day``'s tick ran to its end (never backwards)."""
        with self._sessions() as s, s.begin():
            row = s.scalars(select(ClockState).where(ClockState.id == 1).with_for_update()).one()
            if row.ticked_on is None or day > row.ticked_on:
                row.ticked_on = day


def simulated_start(config: Config) -> datetime | None:
    """The start instant of a simulated clock configured as an ISO date, else None."""
    start = config.simulated_start
    return None if start is None else start_of_day(start).astimezone(UTC)


@dataclass
class Runtime:
    """Configuration, sessions and the clock of one process."""

    config: Config
    sessions: sessionmaker[Session]
    clock: Clock                                  # the business clock (simulated or not)
    wall_clock: Clock = field(default_factory=SystemClock)  # leases, sessions, throttling
    _processes: dict[str, bpmn.ParsedProcess] = field(default_factory=dict)

    def processes(self) -> Mapping[str, bpmn.ParsedProcess]:
        """The policy's BPMN processes, parsed once."""
        if not self._processes:
            from engine.policy import load_policy

            policy = load_policy(self.config.policy_file)
            for task in policy.tasks:
                self._processes[task.process_id] = _parse(str(task.bpmn_file), task.process_id)
        return self._processes


@functools.lru_cache(maxsize=64)
def _parse(path: str, process_id: str) -> bpmn.ParsedProcess:
    from pathlib import Path

    return bpmn.parse_process(Path(path), process_id)


def open_runtime(config: Config | None = None, clock: Clock | None = None) -> Runtime:
    """A runtime for ``config`` (from the environment by default)."""
    config = config or Config.from_env()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    sessions = session_factory(make_engine(config.database_url))
    if clock is None:
        clock = _clock_for(config, sessions)
    return Runtime(config=config, sessions=sessions, clock=clock)


def _clock_for(config: Config, sessions: sessionmaker[Session]) -> Clock:
    """The database's simulated clock when it keeps one (every process must follow it), the
    configured one otherwise; a DUBAN_CLOCK that contradicts the database is refused."""
    stored = _stored_clock(sessions)
    start = config.simulated_start
    if stored is None:
        return DatabaseClock(sessions) if start is not None else SystemClock()
    now, start_on = stored
    shown = now.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    if start is None and config.clock_explicit:
        raise ConfigError("DUBAN_CLOCK", config.clock, f"该数据库使用模拟时钟（当前 {shown}）；"
                          "去掉 DUBAN_CLOCK 即沿用数据库的时钟")
    if start is not None and start_on is not None and start != start_on:
        raise ConfigError("DUBAN_CLOCK", config.clock,
                          f"该数据库的模拟时钟始于 {start_on.isoformat()}（当前 {shown}），"
                          f"与设置不符；去掉 DUBAN_CLOCK 或设为 {start_on.isoformat()}")
    return DatabaseClock(sessions)


def _stored_clock(sessions: sessionmaker[Session]) -> tuple[datetime, date | None] | None:
    """The database's simulated clock (now, start date) if it keeps one."""
    try:
        with sessions() as s:
            now = s.scalar(select(ClockState.now).where(ClockState.id == 1))
    except SQLAlchemyError:  # no schema yet, or unreachable: the preflight says which
        return None
    if now is None:
        return None
    try:
        with sessions() as s:
            return now, s.scalar(select(ClockState.start_on).where(ClockState.id == 1))
    except SQLAlchemyError:  # a schema from before 0004 (duban init upgrades it)
        return now, None
