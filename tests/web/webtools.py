"""Helpers the web tests share (imported by conftest.py and the test modules)."""

from __future__ import annotations

import re
import weakref
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.clock import CHINA_TZ
from engine.models import Role, User, WorkItem
from engine.runtime import Runtime

PASSWORD = "correct-horse-9"
START = datetime(2018, 9, 15, 9, 0, tzinfo=CHINA_TZ)
# username -> (role, unit)
ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    "admin": (Role.ADMIN, None),
    "duchao": (Role.SUPERVISOR, "dcs"),
    "hefei": (Role.LIAISON, "hefei"),
    "wuhu": (Role.LIAISON, "wuhu"),
    "jxw": (Role.LIAISON, "jxw"),
}
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'type="hidden" name="csrf_token" value="([^"]+)"')


def make_app(rt: Runtime, **extra: Any) -> Flask:
    """The app as tests use it: CSRF on, cookies not marked secure (plain HTTP)."""
    from web.app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
                       **extra}, runtime=rt)


TOKENS: weakref.WeakKeyDictionary[FlaskClient, str] = weakref.WeakKeyDictionary()


def tok(client: FlaskClient) -> str:
    """The CSRF token of a logged-in test client."""
    return TOKENS[client]


def csrf_token(html: str) -> str:
    """The CSRF token in a page."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in page"
    return match.group(1) or match.group(2)


def do_login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the form; the token is kept on the client (``tok(client)``)."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    if response.status_code == 302:  # the session was renewed: so was the token
        page = client.get(response.headers["Location"], follow_redirects=True)
        TOKENS[client] = csrf_token(page.get_data(as_text=True))
    return response


def first_item(rt: Runtime, unit: str, role: str = "lead", **where: Any) -> WorkItem:
    """The first work item of a unit in a role (ordered by id)."""
    with rt.sessions() as s:
        q = select(WorkItem).where(WorkItem.unit_id == unit, WorkItem.role == role)
        for key, value in where.items():
            q = q.where(getattr(WorkItem, key) == value)
        item = s.scalars(q.order_by(WorkItem.id)).first()
        assert item is not None, f"no {role} item for {unit}"
        return item


def user_id(rt: Runtime, username: str) -> int:
    with rt.sessions() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        assert uid is not None
        return uid
