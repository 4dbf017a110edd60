"""Web fixtures: a loaded policy database (built once, copied per test), the app, logins.

- ``world``: a SQLite file with the seed policy loaded, accounts created and the cycles open on
  2018-09-15 (task 1 due 2018-08-30 is overdue); built once per session.
- ``rt``: a runtime on a fresh copy of it with a ``ManualClock`` at 2018-09-15 09:00.
- ``app`` / ``client``: the Flask app around ``rt`` (CSRF on, as in production).
- ``login(client, username)``: logs in and remembers the CSRF token (``tok(client)``).
- ``live_server``: the app on 127.0.0.1 in a thread; ``chromium``: Debian's Chromium.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import ACCOUNTS, PASSWORD, START, do_login, make_app

from engine import accounts, loader
from engine.clock import ManualClock
from engine.config import Config
from engine.db import Base
from engine.runtime import Runtime, open_runtime


def _config(data_dir: Path, db_file: Path) -> Config:
    return Config(data_dir=data_dir, database_url=f"sqlite:///{db_file}", clock="2018-06-01",
                  upload_max_bytes=1024 * 1024)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template database: policy, processes, accounts, cycles opened on 2018-09-15."""
    import notifications.models  # noqa: F401  (its tables)
    from engine.cycles import open_cycles
    from engine.policy import load_policy

    base = tmp_path_factory.mktemp("world")
    db_file = base / "world.db"
    clock = ManualClock(START)
    rt = open_runtime(_config(base / "var", db_file), clock)
    Base.metadata.create_all(rt.sessions.kw["bind"])
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, clock, load_policy(rt.config.policy_file), rt.processes())
        for username, (role, unit) in ACCOUNTS.items():
            accounts.create_user(s, clock, username=username, display_name=f"{username}用户",
                                 role=role, password=PASSWORD, unit_id=unit,
                                 email=f"{username}@example.gov.cn")
    open_cycles(rt.sessions, clock)
    rt.sessions.kw["bind"].dispose()
    return db_file


@pytest.fixture
def rt(world: Path, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a private copy of the world database."""
    db_file = tmp_path / "duban.db"
    shutil.copy(world, db_file)
    runtime = open_runtime(_config(tmp_path / "var", db_file), ManualClock(START))
    yield runtime
    runtime.sessions.kw["bind"].dispose()


@pytest.fixture
def app(rt: Runtime) -> Flask:
    return make_app(rt)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login() -> Callable[..., Any]:
    return do_login


@pytest.fixture
def live_server(rt: Runtime) -> Iterator[str]:
    """The app served on 127.0.0.1 by werkzeug in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, make_app(rt), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
        yield browser
        browser.close()
