"""``duban serve``: the web app under gunicorn, the scheduler exactly once beside it.

gunicorn runs ``DUBAN_WEB_WORKERS`` worker processes of ``DUBAN_WEB_THREADS`` threads each (the
gthread worker), and logs every request to stdout in its standard access-log format. The
scheduler is not in a worker (there would be one per worker): when the arbiter is ready it
starts ``duban scheduler`` as a child process of its own, which stops with it: on SIGTERM or
SIGINT gunicorn stops its workers gracefully and ``on_exit`` sends the scheduler SIGTERM and
waits for it (the running job finishes first; a child whose parent is killed stops by itself).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from engine.runtime import Runtime

log = logging.getLogger(__name__)
STOP_SECONDS = 60  # the scheduler's running job may need this long to finish


class _Server(BaseApplication):
    """gunicorn configured in code; the scheduler as a child process of the arbiter."""

    def __init__(self, rt: Runtime, options: dict[str, Any], with_scheduler: bool) -> None:
        self.rt, self.options, self.with_scheduler = rt, options, with_scheduler
        self.child: subprocess.Popen[bytes] | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.with_scheduler:
            self.cfg.set("when_ready", self._start_scheduler)
            self.cfg.set("on_exit", self._stop_scheduler)

    def _start_scheduler(self, _arbiter: Any) -> None:
        cmd = [sys.executable, "-m", "cli", "scheduler", "--parent", str(os.getpid())]
        self.child = subprocess.Popen(cmd, env=os.environ.copy())
        log.info("scheduler started as process %d", self.child.pid)

    def _stop_scheduler(self, _arbiter: Any) -> None:
        child, self.child = self.child, None
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("scheduler %d did not stop in %d s: killed", child.pid, STOP_SECONDS)
            child.kill()
            child.wait()

    def load(self) -> Any:
        from web.app import create_app

        return create_app(runtime=self.rt)


def options(rt: Runtime, host: str, port: int) -> dict[str, Any]:
    """gunicorn's settings from the configuration."""
    return {"bind": f"{host}:{port}", "workers": rt.config.web_workers,
            "threads": rt.config.web_threads, "worker_class": "gthread", "timeout": 60,
            "graceful_timeout": 30, "accesslog": "-", "errorlog": "-",
            "loglevel": rt.config.log_level.lower(), "proc_name": "duban"}


def serve(rt: Runtime, host: str, port: int, *, scheduler: bool = True) -> None:
    """Serve until SIGTERM or SIGINT."""
    _Server(rt, options(rt, host, port), scheduler).run()
