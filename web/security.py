"""HTTP hardening: cookie flags, the secret key, security headers, trusted proxies."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

from engine.accounts import SESSION_LIFETIME
from engine.config import Config

# bpmn-js and ECharts set style attributes on their elements, hence 'unsafe-inline' for styles
# on the process page and the cockpit only; scripts never run inline anywhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
CSP_DIAGRAM = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def configure(app: Flask, config: Config, given: Mapping[str, Any]) -> None:
    """Session and cookie settings, except those the caller's config set explicitly."""
    secure = config.cookie_secure
    settings: dict[str, Any] = {
        "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
        "SESSION_REFRESH_EACH_REQUEST": False,  # the lifetime is absolute: it never slides
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
    if config.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # the client address, scheme and host as the trusted reverse proxies report them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies,  # type: ignore
                                x_proto=config.trusted_proxies, x_host=config.trusted_proxies)
    app.after_request(add_headers)


SMALL_BODY = 256 * 1024            # any form or JSON body but an evidence upload
UPLOAD_ENDPOINTS = frozenset({"items.evidence", "policies.upload"})


def limit_requests(app: Flask, config: Config, given: Mapping[str, Any]) -> None:
    """Refuse oversized bodies with 413 before anything parses them.

    Only a logged-in user's evidence form may carry files (up to MAX_FILES_PER_REQUEST of
    ``upload_max_bytes`` each); every other request, and every anonymous one, is small.
    """
    from engine.attachments import MAX_FILES_PER_REQUEST

    if "MAX_CONTENT_LENGTH" not in given:
        app.config["MAX_CONTENT_LENGTH"] = (config.upload_max_bytes * MAX_FILES_PER_REQUEST
                                            + SMALL_BODY)
    app.config.setdefault("MAX_FORM_MEMORY_SIZE", SMALL_BODY)
    app.config["MAX_FORM_PARTS"] = 100

    @app.before_request
    def _small_unless_upload() -> None:
        from flask import abort
        from flask_login import current_user

        size = request.content_length
        if size is None or size <= SMALL_BODY:
            return
        if request.endpoint not in UPLOAD_ENDPOINTS or not current_user.is_authenticated:
            abort(413)


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
    diagram = request.endpoint in ("process.show", "assessment.cockpit")
    response.headers.setdefault("Content-Security-Policy", CSP_DIAGRAM if diagram else CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # cookies are Secure, so the site is served over HTTPS: browsers must keep to it
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    cache = "no-store" if _private() else "public, max-age=3600"
    response.headers.setdefault("Cache-Control", cache)
    return response


def _private() -> bool:
    return not (request.endpoint or "").endswith("static")
