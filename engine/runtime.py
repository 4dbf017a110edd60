"""What a Duban process needs, built once: configuration, sessions, the clock, parsed processes."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine import bpmn
from engine.clock import Clock, SystemClock, start_of_day
from engine.config import Config
from engine.db import make_engine, session_factory
from engine.errors import ClockError
from engine.models import ClockState


class DatabaseClock:
    """The simulated clock of a deployment: its time is one row, shared by every process."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def now(self) -> datetime:
        with self._sessions() as s:
            row = s.get(ClockState, 1)
            if row is None:
                raise ClockError("模拟时钟尚未初始化：请先运行 duban init")
            return row.now

    def set(self, when: datetime) -> None:
        """Move the clock forward to ``when`` (never backwards)."""
        with self._sessions() as s, s.begin():
            row = s.scalars(select(ClockState).where(ClockState.id == 1).with_for_update()).one()
            if when < row.now:
                raise ClockError(f"时钟不能倒退：{when.isoformat()} 早于 {row.now.isoformat()}")
            row.now = when


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
        simulated = simulated_start(config) is not None or _has_clock_row(sessions)
        clock = DatabaseClock(sessions) if simulated else SystemClock()
    return Runtime(config=config, sessions=sessions, clock=clock)


def _has_clock_row(sessions: sessionmaker[Session]) -> bool:
    """Whether the database keeps a simulated clock (then every process must follow it)."""
    try:
        with sessions() as s:
            return s.get(ClockState, 1) is not None
    except SQLAlchemyError:  # no schema yet
        return False
