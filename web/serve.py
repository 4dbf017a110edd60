"""Run the web app under gunicorn with the scheduler inside the worker (``duban serve``)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from engine.runtime import Runtime


class _Server(BaseApplication):
    """gunicorn configured in code: one worker process (it owns the scheduler), a few threads."""

    def __init__(self, rt: Runtime, options: dict[str, Any], with_scheduler: bool) -> None:
        self.rt, self.options, self.with_scheduler = rt, options, with_scheduler
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.with_scheduler:
            self.cfg.set("post_worker_init", self._start_scheduler)

    def _start_scheduler(self, _worker: Any) -> None:
        from notifications.scheduler import start_background

        start_background(self.rt)

    def load(self) -> Any:
        from web.app import create_app

        return create_app(runtime=self.rt)


def serve(rt: Runtime, host: str, port: int, *, threads: int = 8, scheduler: bool = True) -> None:
    """Serve until interrupted."""
    options = {"bind": f"{host}:{port}", "workers": 1, "threads": threads,
               "worker_class": "gthread", "accesslog": "-", "timeout": 60}
    _Server(rt, options, scheduler).run()
