"""Acceptance fixtures: the whole policy period replayed once per session through real SMTP.

- ``readers``: two worker processes that parse mail and read PDF text (replay_readers.py).
- ``acceptance_smtp``: an aiosmtpd server on 127.0.0.1 for the session. Each message goes to a
  worker as it arrives and comes back as a ``Mail`` (envelope, decoded headers, text,
  attachments by digest, parser defects); the raw bytes are not kept (~900 mails with PDFs).
- ``replay``: ``simulator.replay.simulate`` (what ``duban simulate`` runs) from 2018-05-30
  to 2021-01-31 with seed ``SEED``, mail through ``acceptance_smtp``; it runs once per session
  (about a minute and a half) and the tests read its database, output directory and mail.
- ``obligations`` / ``expected``: the facts of the replay and what the rules ask for
  (replay_facts.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pg
import pytest
import replay_facts
from aiosmtpd.controller import Controller
from replay_readers import Mail, parse_mail, pdf_text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.db import make_engine, session_factory
from engine.workdays import default_calendar
from simulator.replay import SimulationRequest, simulate

# seed 41: all five scripted behaviours, 督办通知 before and after the 2018-10-26 rename
START, END, SEED = date(2018, 5, 30), date(2021, 1, 31), 41
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "acceptance"


@dataclass
class RecordingSmtp:
    """aiosmtpd on 127.0.0.1 that records every message it accepts.

    Each message is handed as it arrives to a worker process that parses it (``parse_mail``)
    while the replay goes on in this one; ``arrived()`` waits for them all, in arrival order.
    """

    pool: Executor
    host: str = "127.0.0.1"
    port: int = field(default_factory=pg.free_port)
    _parsing: list[Future[Mail]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Queue the message for parsing and accept it."""
        job = self.pool.submit(parse_mail, str(envelope.mail_from), tuple(envelope.rcpt_tos),
                               bytes(envelope.original_content or envelope.content))
        with self._lock:
            self._parsing.append(job)
        return "250 OK"

    def arrived(self) -> list[Mail]:
        """Every message so far, parsed."""
        with self._lock:
            jobs = list(self._parsing)
        return [job.result() for job in jobs]

    def start(self) -> None:
        """Listen."""
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass(frozen=True)
class Replay:
    """What one replay left behind."""

    req: SimulationRequest
    summary: dict[str, Any]
    sessions: sessionmaker[Session]
    mail: tuple[Mail, ...]


@pytest.fixture(scope="session")
def readers() -> Iterator[Executor]:
    """Worker processes for parsing mail and reading PDFs (fresh interpreters: spawn)."""
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        yield pool


@pytest.fixture(scope="session")
def acceptance_smtp(readers: Executor) -> Iterator[RecordingSmtp]:
    server = RecordingSmtp(readers)
    server.start()
    yield server
    server.stop()


def open_db(out: Path) -> Engine:
    """The replay's SQLite database."""
    return make_engine(f"sqlite:///{(out / 'simulation.db').resolve()}")


@pytest.fixture(scope="session")
def replay(acceptance_smtp: RecordingSmtp,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    req = SimulationRequest(START, END, SEED, tmp_path_factory.mktemp("replay"),
                            smtp_url=acceptance_smtp.url)
    summary = simulate(req)
    engine = open_db(req.out)
    yield Replay(req, summary, session_factory(engine), tuple(acceptance_smtp.arrived()))
    engine.dispose()


@pytest.fixture(scope="session")
def mails(replay: Replay) -> list[Mail]:
    return list(replay.mail)


@pytest.fixture(scope="session")
def obligations(replay: Replay) -> list[replay_facts.Obligation]:
    with replay.sessions() as s:
        return replay_facts.load(s)


@pytest.fixture(scope="session")
def expected(replay: Replay,
             obligations: list[replay_facts.Obligation]) -> replay_facts.Expected:
    return replay_facts.expected(obligations, replay.req.start, replay.req.end,
                                 default_calendar())


@pytest.fixture(scope="session")
def pdf_texts(replay: Replay, readers: Executor) -> dict[str, str]:
    """The text of every PDF the replay wrote, by its path relative to the output directory."""
    paths = sorted(replay.req.out.rglob("*.pdf"))
    texts = readers.map(pdf_text, paths)
    return {str(p.relative_to(replay.req.out)): t for p, t in zip(paths, texts, strict=True)}
