"""Web benchmark: the inbox page and the board served by ``duban serve`` with 100,000 work items.

Builds a database (SQLite, or ``--database-url postgresql+psycopg://…``, which must be empty)
with the seed policy loaded and 100,000 work items (spread over every unit, mixed statuses and
due dates), starts ``duban serve --no-scheduler`` as an operator would (``--workers`` and
``--threads`` set DUBAN_WEB_WORKERS / DUBAN_WEB_THREADS; unset: the configured defaults), logs
in as a liaison and a supervisor, and fires requests from client threads. Prints requests per
second and p50/p95 latency per page and concurrency (goal: inbox p95 under 50 ms).
``--code DIR`` serves another checkout (a before/after comparison on the same database).
Run: .venv/bin/python benchmarks/bench_web.py [--items N] [--clients 1,4,16] [--requests R]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import accounts, loader  # noqa: E402
from engine.clock import CHINA_TZ, ManualClock  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.models import (  # noqa: E402
    ClockState,
    Cycle,
    Instance,
    InstanceStatus,
    ItemRole,
    ItemStatus,
    Role,
    Unit,
    WorkItem,
)
from engine.runtime import open_runtime  # noqa: E402

PASSWORD = "bench-password-1"
NOW = datetime(2018, 9, 15, 9, 0, tzinfo=CHINA_TZ)
STATUSES = (ItemStatus.OPEN, ItemStatus.OPEN, ItemStatus.RETURNED, ItemStatus.SUBMITTED,
            ItemStatus.CLOSED)


def build(data_dir: Path, items: int, url: str | None = None) -> str:
    """The database: schema (migrations), policy, accounts, opened cycles, ``items`` work items."""
    from engine import migrate
    from engine.cycles import open_cycles
    from engine.policy import load_policy

    url = url or f"sqlite:///{data_dir / 'bench.db'}"
    clock = ManualClock(NOW)
    rt = open_runtime(Config(data_dir=data_dir, database_url=url, clock="2018-09-15"), clock)
    migrate.upgrade(rt.sessions.kw["bind"])
    with rt.sessions() as s, s.begin():
        loader.load_into_db(s, clock, load_policy(rt.config.policy_file), rt.processes())
        s.add(ClockState(id=1, now=NOW, start_on=NOW.date()))
        for name, role, unit in (("hefei", Role.LIAISON, "hefei"),
                                 ("duchao", Role.SUPERVISOR, "dcs")):
            accounts.create_user(s, clock, username=name, display_name=name, role=role,
                                 password=PASSWORD, unit_id=unit)
    open_cycles(rt.sessions, clock)
    with rt.sessions() as s, s.begin():
        existing = len(s.scalars(select(WorkItem.id)).all())
        _bulk(s, max(items - existing, 0))
    rt.sessions.kw["bind"].dispose()
    return url


def _bulk(s: Session, count: int) -> None:
    """``count`` instances with one lead work item each, over every unit and status."""
    proto = s.scalars(select(Instance).order_by(Instance.id)).first()
    assert proto is not None, "no instance to copy: were the cycles opened?"
    units = list(s.scalars(select(Unit.id).order_by(Unit.sort_order)))
    s.execute(insert(Cycle), [{"task_id": proto.task_id, "label": f"压测{n}",
                               "opens_on": date(2018, 1, 1), "due_date": date(2018, 12, 31),
                               "opened_at": NOW} for n in range(count)])
    first_cycle = s.scalar(select(Cycle.id).where(Cycle.label == "压测0"))
    assert first_cycle is not None
    s.execute(insert(Instance), [{
        "task_id": proto.task_id, "cycle_id": first_cycle + n,
        "lead_unit_id": units[n % len(units)],
        "spec_id": proto.spec_id, "state": proto.state, "version": 1,
        "status": InstanceStatus.RUNNING, "due_date": date(2018, 12, 31),
        "started_at": NOW} for n in range(count)])
    first = s.scalar(select(Instance.id).where(Instance.cycle_id == first_cycle))
    assert first is not None
    s.execute(insert(WorkItem), [{
        "instance_id": first + n, "task_name": "submit", "unit_id": units[n % len(units)],
        "role": ItemRole.LEAD, "title": f"压测事项{n}",
        "due_date": date(2018, 6, 1) + timedelta(days=(n * 7) % 900),
        "status": STATUSES[n % len(STATUSES)], "created_at": NOW, "updated_at": NOW}
        for n in range(count)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data_dir: Path, url: str, args: argparse.Namespace
          ) -> tuple[subprocess.Popen[bytes], int]:
    """``duban serve --no-scheduler`` on a free port, waiting until it answers."""
    port = _free_port()
    code = Path(args.code or ROOT).resolve()
    env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_DATA_DIR": str(data_dir),
           "DUBAN_CLOCK": "2018-09-15", "DUBAN_COOKIE_SECURE": "0", "DUBAN_LOG_LEVEL": "WARNING",
           "DUBAN_SECRET_KEY": "bench-secret", "PYTHONPATH": str(code)}
    for name, value in (("DUBAN_WEB_WORKERS", args.workers), ("DUBAN_WEB_THREADS", args.threads)):
        if value:
            env[name] = str(value)
    cmd = [sys.executable, "-c", "from cli.main import main; main()", "serve", "--no-scheduler",
           "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=code, stdout=subprocess.DEVNULL)
    for _ in range(1200):  # the checks, then gunicorn's workers: up to two minutes
        try:
            status, _, _ = request(port, "GET", "/login")
            if status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def request(port: int, method: str, path: str, body: str | None = None,
            cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def login(port: int, username: str) -> str:
    """The session cookie of a fresh login."""
    _, headers, page = request(port, "GET", "/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    cookie = headers["set-cookie"].split(";")[0]
    body = urlencode({"username": username, "password": PASSWORD,
                      "csrf_token": token.group(1).decode()})
    status, headers, _ = request(port, "POST", "/login", body, cookie)
    assert status == 302, f"login failed: {status}"
    return headers["set-cookie"].split(";")[0]


def hammer(port: int, path: str, cookie: str, total: int, threads: int) -> list[float]:
    """``total`` GETs from ``threads`` threads; the latencies in seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    left = [total]

    def worker() -> None:
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            t0 = time.perf_counter()
            status, _, _ = request(port, "GET", path, cookie=cookie)
            elapsed = time.perf_counter() - t0
            assert status == 200, f"{path}: HTTP {status}"
            with lock:
                latencies.append(elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies


def report(name: str, latencies: list[float], wall: float) -> None:
    """One line: requests per second, p50 and p95 in ms."""
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:<34} {len(latencies) / wall:7.1f} req/s   p50 {q[49] * 1000:7.1f} ms   "
          f"p95 {q[94] * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    parser.add_argument("--workers", type=int, default=None, help="DUBAN_WEB_WORKERS")
    parser.add_argument("--threads", type=int, default=None, help="DUBAN_WEB_THREADS")
    parser.add_argument("--clients", default="1,4,16", help="client threads, comma-separated")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--board-requests", type=int, default=5)
    parser.add_argument("--code", default=None, help="serve this checkout instead")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="duban-bench-web-"))
    try:
        t0 = time.perf_counter()
        url = build(data_dir, args.items, args.database_url)
        print(f"database with {args.items} work items built in {time.perf_counter() - t0:.1f} s "
              f"({url.split(':')[0]}); workers {args.workers or 'default'}, "
              f"threads {args.threads or 'default'}, code {args.code or ROOT}")
        proc, port = serve(data_dir, url, args)
        try:
            liaison, supervisor = login(port, "hefei"), login(port, "duchao")
            inbox = ("/inbox/", liaison)
            hammer(port, *inbox, 40, 8)  # warm up every worker
            for clients in sorted({int(c) for c in args.clients.split(",")}):
                start = time.perf_counter()
                lat = hammer(port, *inbox, args.requests, clients)
                report(f"inbox, {clients} concurrent", lat, time.perf_counter() - start)
            for name, path in (("board, task 1 overdue", "/board/?task=1&status=overdue"),
                               ("board, one unit", "/board/?unit=hefei"),
                               ("board, everything", "/board/")):
                start = time.perf_counter()
                lat = hammer(port, path, supervisor, args.board_requests, 1)
                report(f"{name}, 1 at a time", lat, time.perf_counter() - start)
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
