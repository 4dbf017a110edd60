"""One tick at a time per database (docs/scheduler.md).

``tick_lock`` is held while a day's steps run and while ``notifications.advance`` moves the
clock for that day. On PostgreSQL it is a session-level advisory lock: a second scheduler waits
its turn (and then finds the day done). On SQLite it is ``flock`` on a file beside the
database: a second tick is refused with one line, because SQLite's single writer cannot keep two
schedulers apart. ``send_lock`` is the delivery job's turn: it never waits, and skips its run
while a tick holds the lock (the tick delivers at its end anyway).

Both locks die with their process (the connection closes, the file descriptor closes), so a
crash or kill -9 never leaves one behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from engine.errors import DubanError
from engine.runtime import Runtime

TICK_KEY = 0x6475_6261_6E01  # "duban" + 1: the advisory lock of the tick


class SchedulerBusyError(DubanError):
    """Another scheduler is running a tick on this SQLite database."""


def _engine(rt: Runtime) -> Engine:
    return rt.sessions.kw["bind"]


def _lock_file(engine: Engine, kind: str) -> Path | None:
    """``<database file>.<kind>.lock``; None for an in-memory database."""
    name = engine.url.database
    if not name or name == ":memory:":
        return None
    path = Path(name).resolve()
    return path.with_name(f"{path.name}.{kind}.lock")


@contextlib.contextmanager
def tick_lock(rt: Runtime) -> Iterator[None]:
    """Run a tick alone: wait for the other one (PostgreSQL) or refuse (SQLite)."""
    engine = _engine(rt)
    if engine.dialect.name == "postgresql":
        with _advisory(engine, wait=True):
            yield
        return
    with _flock(_lock_file(engine, "tick"), wait=False) as held:
        if not held:
            raise SchedulerBusyError(
                "SQLite 只支持一个调度进程：另一个进程正在运行调度步骤（duban tick、"
                "duban scheduler 或管理页的时钟推进），请等它结束后再试；"
                "需要多个调度进程请改用 PostgreSQL")
        with _flock(_lock_file(engine, "send"), wait=True):
            yield


@contextlib.contextmanager
def send_lock(rt: Runtime) -> Iterator[bool]:
    """The delivery job's turn: True while it holds the lock, False (skip) while a tick runs."""
    engine = _engine(rt)
    if engine.dialect.name == "postgresql":
        with _advisory(engine, wait=False) as held:
            yield held
        return
    with _flock(_lock_file(engine, "send"), wait=False) as held:
        yield held


@contextlib.contextmanager
def _advisory(engine: Engine, *, wait: bool) -> Iterator[bool]:
    """PostgreSQL's session-level advisory lock on a connection of its own."""
    conn = engine.connect()
    try:
        fn = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        held = conn.execute(text(f"SELECT {fn}(:key)"), {"key": TICK_KEY}).scalar()
        held = True if wait else bool(held)
        conn.commit()  # no transaction stays open while the lock is held
        try:
            yield held
        finally:
            if held:
                _unlock(conn)
    finally:
        conn.close()


def _unlock(conn: Connection) -> None:
    """Release the advisory lock, or drop the connection (which releases it too)."""
    try:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": TICK_KEY})
        conn.commit()
    except Exception:  # noqa: BLE001 - a broken connection: never return it to the pool
        conn.invalidate()


@contextlib.contextmanager
def _flock(path: Path | None, *, wait: bool) -> Iterator[bool]:
    """An exclusive ``flock`` on ``path`` (True when held); no file, no lock needed."""
    if path is None:
        yield True
        return
    fh: IO[str] = open(path, "a+")  # noqa: SIM115 - held for the block
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            held = True
        except BlockingIOError:
            held = False
        if held:  # who holds it, for a person looking at the file
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
        yield held
    finally:
        fh.close()
