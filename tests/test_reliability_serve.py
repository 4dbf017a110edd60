"""Logging and serving (issue 10, items 7 and 8): a structured line per tick step; ``duban serve``
with its workers, the scheduler exactly once in a process of its own, SIGTERM stopping both."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import time
from pathlib import Path

import pg
import pytest
from reliability_tools import DUBAN, ROOT, alive, children, duban, duban_env, lines

from notifications.tick import STEPS

START = "2018-05-30"


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    data = tmp_path / "var"
    done = duban(duban_env(data, clock=START), "init")
    assert done.returncode == 0, done.stderr
    return data


def test_tick_logs_one_json_line_per_step(deployment):
    env = duban_env(deployment, clock=START, log_level="INFO", log_format="json")
    result = duban(env, "tick")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in lines(result.stderr)]  # every line is JSON
    steps = {r["step"]: r for r in records if r["logger"] == "duban.tick"}
    assert list(steps) == [name for name, _ in STEPS]
    for record in steps.values():
        assert record["level"] == "INFO" and record["day"] == START
        assert isinstance(record["count"], int) and isinstance(record["duration_ms"], int)
    assert steps["open_cycles"]["count"] == 24
    assert {"sent", "retried", "failed", "skipped", "released"} <= set(steps["deliver"])


def test_log_level_from_configuration(deployment):
    quiet = duban(duban_env(deployment, clock=START, log_level="WARNING"), "tick")
    # no step lines; only the warnings that the new assignments of the day reach units with
    # no address in-app only (this deployment has no accounts)
    assert quiet.returncode == 0 and lines(quiet.stderr)
    assert all(" WARNING notifications.recipients: " in line and "in-app notes only" in line
               for line in lines(quiet.stderr))
    text = duban(duban_env(deployment, clock=START, log_level="INFO"), "tick")
    steps = [line for line in lines(text.stderr) if " INFO duban.tick: " in line]
    assert len(steps) == len(STEPS) and all(line.endswith(" ms)") for line in steps)


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _wait_until_serving(proc: subprocess.Popen[str], port: int) -> None:
    """Until /login answers 200 (or the server has died)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if _get(port, "/login") == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("duban serve never answered")


def test_serve_runs_the_workers_and_one_scheduler_and_sigterm_stops_both(deployment):
    env = duban_env(deployment, clock=START, web_workers="3", web_threads="2")
    port = pg.free_port()
    proc = subprocess.Popen([*DUBAN, "serve", "--port", str(port)], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_until_serving(proc, port)
        kids = children(proc.pid)
        schedulers = [pid for pid, cmd in kids if " scheduler " in f"{cmd} "]
        assert len(schedulers) == 1 and len(kids) == 3 + 1, kids
        assert _get(port, "/login") == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert not alive(schedulers[0])
    assert "3 个进程 × 2 个线程" in out
    assert out.count('"GET /login HTTP/1.1" 200') >= 2  # gunicorn's access log format
