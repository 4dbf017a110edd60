"""PostgreSQL for the tests: reuse a server that answers, or run a throwaway one.

pytest-postgresql's ``DatabaseJanitor`` creates and drops the test database. Its process
fixture runs ``pg_ctl`` as the current user, which PostgreSQL refuses when that user is root, so
``TempServer`` starts Debian's binaries (``/usr/lib/postgresql/*/bin``) itself, as the
``postgres`` system user through ``runuser`` when we are root, in a temporary data directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from pytest_postgresql.janitor import DatabaseJanitor

HOST = "127.0.0.1"
USER = "postgres"


def free_port() -> int:
    """A TCP port nobody listens on right now (bind to port 0, read it back)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_answers(port: int, host: str = HOST) -> bool:
    """True when a PostgreSQL server accepts ``postgres`` (trust) on host:port."""
    try:
        with psycopg.connect(host=host, port=port, user=USER, dbname="postgres",
                             connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def bin_dir() -> Path:
    """The newest Debian PostgreSQL binary directory."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


class TempServer:
    """A throwaway PostgreSQL cluster on a free port, owned by ``postgres`` when we are root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="duban-pg-"))
        self.data = self.root / "data"
        self.bin = bin_dir()
        self.as_root = os.geteuid() == 0

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", USER, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        """initdb (UTF8, trust) and start on 127.0.0.1:port, sockets in the temp dir."""
        if self.as_root:
            shutil.chown(self.root, USER, USER)
        os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def server(port: int) -> Iterator[int]:
    """The port of a server: ``port`` if one answers there, else a throwaway one's."""
    if server_answers(port):
        yield port
        return
    temp = TempServer()
    try:
        temp.start()
        yield temp.port
    finally:
        temp.stop()


@contextlib.contextmanager
def fresh_database(port: int) -> Iterator[str]:
    """A new database ``duban_test_<random>`` on the server at ``port``; dropped afterwards."""
    name = f"duban_test_{secrets.token_hex(4)}"
    janitor = DatabaseJanitor(user=USER, host=HOST, port=port, dbname=name)
    janitor.init()
    try:
        yield f"postgresql+psycopg://{USER}@{HOST}:{port}/{name}"
    finally:
        janitor.drop()
