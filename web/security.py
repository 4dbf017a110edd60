"""HTTP hardening: cookie flags, the secret key, security headers and the login rate limit."""

from __future__ import annotations

import os
import secrets
import threading
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from engine.clock import Clock, SystemClock
from engine.config import Config

SESSION_LIFETIME = timedelta(hours=8)
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_MAX_FAILURES = 5

# bpmn-js sets style attributes on the diagram's elements, hence 'unsafe-inline' for styles
# on the process page only; scripts never run inline anywhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
CSP_DIAGRAM = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def configure(app: Flask, config: Config, given: Mapping[str, Any]) -> None:
    """Session and cookie settings, except those the caller's config set explicitly."""
    secure = config.cookie_secure
    settings: dict[str, Any] = {
        "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
        "SESSION_COOKIE_SECURE": secure, "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax", "SESSION_COOKIE_NAME": "duban_session",
        "REMEMBER_COOKIE_SECURE": secure, "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": int(SESSION_LIFETIME.total_seconds()),
    }
    for key, value in settings.items():
        if key not in given:
            app.config[key] = value
    if not given.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.secret_key or _secret(Path(config.data_dir))
    app.after_request(add_headers)


def _secret(data_dir: Path) -> str:
    """A random key kept under the data directory so every worker process shares it."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def add_headers(response: Response) -> Response:
    """The security headers of every response."""
    diagram = request.endpoint == "process.show"
    response.headers.setdefault("Content-Security-Policy", CSP_DIAGRAM if diagram else CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    cache = "no-store" if _private() else "public, max-age=3600"
    response.headers.setdefault("Cache-Control", cache)
    return response


def _private() -> bool:
    return not (request.endpoint or "").endswith("static")


class LoginLimiter:
    """Counts failed logins per (username, address) in memory; thread-safe."""

    def __init__(self, clock: Clock | None = None, *, limit: int = LOGIN_MAX_FAILURES,
                 window: timedelta = LOGIN_WINDOW) -> None:
        self.clock = clock or SystemClock()
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked(self, username: str, address: str) -> bool:
        """Whether this pair has used up its failures inside the window."""
        with self._lock:
            return len(self._recent((username.lower(), address))) >= self.limit

    def fail(self, username: str, address: str) -> None:
        """Record one failed attempt."""
        with self._lock:
            self._recent((username.lower(), address)).append(self.clock.now())

    def clear(self, username: str, address: str) -> None:
        """Forget the failures after a successful login."""
        with self._lock:
            self._failures.pop((username.lower(), address), None)

    def _recent(self, key: tuple[str, str]) -> deque[datetime]:
        stamps = self._failures.setdefault(key, deque())
        cutoff = self.clock.now() - self.window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        return stamps
