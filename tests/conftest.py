"""Shared fixtures.

- ``clock``: a ``ManualClock`` at 2018-06-01 09:00 +08:00 (move it with ``.advance``/``.set``).
- ``db_url`` / ``db``: a fresh SQLite file per test; ``db`` is a sessionmaker with every table
  of ``engine.models`` and ``notifications.models`` created.
- ``pg_url``: one fresh PostgreSQL database ``duban_test_<random>`` for the whole session,
  dropped at the end. It uses the server on 127.0.0.1:5432 (or ``DUBAN_TEST_PG_PORT``) when one
  answers, otherwise starts a throwaway server from Debian's binaries (tests/pg.py).
- ``pg_db``: a sessionmaker on ``pg_url`` with the tables created; every row is truncated
  before each test.
- ``smtp_server``: a real aiosmtpd server on 127.0.0.1; ``.received`` holds what arrived,
  ``.stop()``/``.start()`` simulate an outage on the same port, ``.refuse`` makes it answer an
  error reply instead of accepting, ``.delay`` makes it slow.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import CHINA_TZ, ManualClock
from engine.db import Base, make_engine, session_factory


def _create_tables(bind: Engine) -> None:
    import engine.models  # noqa: F401  (registers the tables on Base.metadata)
    import notifications.models  # noqa: F401

    Base.metadata.create_all(bind)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """A command run in-process configures logging (cli/logs.py): undo it after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {name: logging.getLogger(name).level
             for name in ("apscheduler", "weasyprint", "fontTools", "duban.tick")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in named.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2018, 6, 1, 9, 0, tzinfo=CHINA_TZ))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'duban.db'}"


@pytest.fixture
def db(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    _create_tables(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    port = int(os.environ.get("DUBAN_TEST_PG_PORT", "5432"))
    with pg.server(port) as real_port, pg.fresh_database(real_port) as url:
        yield url


@pytest.fixture(scope="session")
def _pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    _create_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_db(_pg_engine: Engine) -> sessionmaker[Session]:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with _pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return session_factory(_pg_engine)


@dataclass
class Received:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpServer:
    """aiosmtpd on 127.0.0.1 at a fixed free port; collects parsed messages."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = pg.free_port()  # port=0 does not work with the Controller
        self.received: list[Received] = []
        self.refuse: str | None = None  # e.g. "550 5.1.1 用户不存在"
        self.delay = 0.0  # seconds each DATA takes (a slow server)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        if self.refuse:
            return self.refuse
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
