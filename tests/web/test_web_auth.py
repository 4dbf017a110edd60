"""Login, logout, rate limiting, sessions and roles."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from webtools import PASSWORD, START, csrf_token, do_login, make_app, tok

from engine.clock import ManualClock
from engine.models import User
from engine.runtime import Runtime


def test_login_page_is_chinese_and_has_csrf(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "登录督办工作台" in page
    assert csrf_token(page)
    assert 'lang="zh-CN"' in page


def test_anonymous_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_liaison_logs_in_to_inbox_and_out(client: FlaskClient) -> None:
    response = do_login(client, "hefei")
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox/")
    page = client.get("/inbox/").get_data(as_text=True)
    assert "待办事项" in page and "hefei用户" in page
    out = client.post("/logout", data={"csrf_token": tok(client)})
    assert out.status_code == 302
    assert client.get("/inbox/").status_code == 302


def test_roles_land_on_their_pages(app: Flask) -> None:
    for username, target in (("duchao", "/review/"), ("admin", "/admin/users")):
        response = do_login(app.test_client(), username)
        assert response.headers["Location"].endswith(target)


def test_wrong_password_is_refused_without_saying_which_part(client: FlaskClient) -> None:
    response = do_login(client, "hefei", "wrong-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "用户名或密码错误" in page
    assert do_login(client, "nobody", "x").get_data(as_text=True).count("用户名或密码错误") == 1


def test_login_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "hefei", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单校验失败" in response.get_data(as_text=True)


def test_five_failures_block_the_pair_for_fifteen_minutes(app: Flask, rt: Runtime) -> None:
    rt.wall_clock = wall = ManualClock(START)
    client = app.test_client()
    for _ in range(5):
        assert do_login(client, "hefei", "bad").status_code == 200
    blocked = do_login(client, "hefei", PASSWORD)
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    # the count is in the database: another process (a second app) sees it too
    assert do_login(make_app(rt).test_client(), "HEFEI", PASSWORD).status_code == 429
    # another username from the same address is not blocked
    assert do_login(app.test_client(), "wuhu").status_code == 302
    wall.advance(timedelta(minutes=16))  # the window has passed
    assert do_login(client, "hefei", PASSWORD).status_code == 302


def test_spraying_one_password_over_many_users_is_slowed(app: Flask, rt: Runtime) -> None:
    rt.wall_clock = ManualClock(START)
    for n in range(20):
        assert do_login(app.test_client(), f"user{n}", "Spring2018!").status_code == 200
    assert do_login(app.test_client(), "hefei", PASSWORD).status_code == 429


def test_session_is_permanent_with_eight_hours_and_safe_flags(client: FlaskClient) -> None:
    response = do_login(client, "hefei")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("duban_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert client.application.permanent_session_lifetime == timedelta(hours=8)


def test_secure_cookie_flag_by_default(rt: Runtime) -> None:
    from web.app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x"}, runtime=rt)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_deactivated_user_loses_the_session(client: FlaskClient, rt: Runtime) -> None:
    do_login(client, "hefei")
    assert client.get("/inbox/").status_code == 200
    with rt.sessions() as s, s.begin():
        s.scalars(select(User).where(User.username == "hefei")).one().active = False
    assert client.get("/inbox/").status_code == 302


def test_password_change_ends_old_sessions(client: FlaskClient, rt: Runtime) -> None:
    from engine import accounts

    do_login(client, "hefei")
    with rt.sessions() as s, s.begin():
        user = s.scalars(select(User).where(User.username == "hefei")).one()
        accounts.set_password(s, rt.clock, user, "another-pass-1", actor="test")
    assert client.get("/inbox/").status_code == 302


def test_open_redirect_is_ignored(client: FlaskClient) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x", data={
        "username": "hefei", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/inbox/")


def test_login_page_warns_when_secure_cookie_would_be_dropped(rt: Runtime) -> None:
    from web.app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x"}, runtime=rt)
    client = app.test_client()
    remote = client.get("/login", base_url="http://duban.example.gov.cn").get_data(as_text=True)
    assert "DUBAN_COOKIE_SECURE=0" in remote
    local = client.get("/login", base_url="http://127.0.0.1:5000").get_data(as_text=True)
    assert "DUBAN_COOKIE_SECURE=0" not in local
    https = client.get("/login", base_url="https://duban.example.gov.cn").get_data(as_text=True)
    assert "DUBAN_COOKIE_SECURE=0" not in https


def _behind_proxy(app: Flask, client_address: str) -> FlaskClient:
    """A client whose requests reach the app through a reverse proxy on 127.0.0.1."""
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
    return client


def test_behind_trusted_proxies_the_throttle_counts_each_client(rt: Runtime) -> None:
    """DUBAN_TRUSTED_PROXIES=1: one sprayer behind the proxy is blocked, nobody else is."""
    proxied = dataclasses.replace(rt, config=dataclasses.replace(rt.config, trusted_proxies=1))
    proxied.wall_clock = ManualClock(START)
    app = make_app(proxied)
    for n in range(20):
        assert do_login(_behind_proxy(app, "203.0.113.66"), f"user{n}", "x").status_code == 200
    assert do_login(_behind_proxy(app, "203.0.113.66"), "hefei").status_code == 429
    assert do_login(_behind_proxy(app, "198.51.100.5"), "hefei").status_code == 302


def test_without_trusted_proxies_a_forwarded_address_is_not_believed(app: Flask,
                                                                     rt: Runtime) -> None:
    rt.wall_clock = ManualClock(START)
    for n in range(20):  # a sprayer inventing a new X-Forwarded-For for every attempt
        client = _behind_proxy(app, f"203.0.113.{n}")
        assert do_login(client, f"user{n}", "x").status_code == 200
    assert do_login(_behind_proxy(app, "198.51.100.5"), "hefei").status_code == 429
