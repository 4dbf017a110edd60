"""Helpers of the reliability tests: ``duban`` as a real subprocess, fresh PostgreSQL databases,
processes by parent, an SMTP server that can be held in the middle of a message."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DUBAN = [PYTHON, "-c", "from cli.main import main; main()"]  # the console script, this checkout


def duban_env(data_dir: Path, **settings: str | None) -> dict[str, str]:
    """The environment of a ``duban`` subprocess: this worktree's code, only our settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env.update({"PYTHONPATH": str(ROOT), "DUBAN_DATA_DIR": str(data_dir),
                "DUBAN_LOG_LEVEL": "WARNING", "DUBAN_COOKIE_SECURE": "0"})
    for key, value in settings.items():
        name = f"DUBAN_{key.upper()}"
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def duban(env: dict[str, str], *args: str,
          timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``duban ARGS`` to its end."""
    return subprocess.run([*DUBAN, *args], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, check=False)


def start_duban(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start ``duban ARGS`` (stdout and stderr piped)."""
    return subprocess.Popen([*DUBAN, *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def lines(output: str) -> list[str]:
    """The non-empty lines of an output."""
    return [line for line in output.splitlines() if line.strip()]


@contextlib.contextmanager
def fresh_pg_database(pg_url: str) -> Iterator[str]:
    """A new, empty database on the suite's PostgreSQL server; dropped afterwards."""
    name = f"duban_rel_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield pg_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def children(pid: int) -> list[tuple[int, str]]:
    """The child processes of ``pid``: (pid, command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append((int(entry.name), cmdline))
    return found


def alive(pid: int) -> bool:
    """Whether the process exists (and is not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class HoldingHandler:
    """aiosmtpd handler that keeps each message and, while ``hold`` is set, answers the first
    one only once ``release`` is set: the client waits in the middle of its send."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.got_first = threading.Event()
        self.release = threading.Event()
        self.hold = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(bytes(envelope.content))
        if self.hold:
            self.hold = False
            self.got_first.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 600)
        return "250 OK"
