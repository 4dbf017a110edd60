"""Group-chat robots (企业微信 / 钉钉) against a local HTTP server on 127.0.0.1.

The exact JSON bodies and DingTalk's signature; a robot that is down, then up, gets each message
once; a failing robot stops neither the mail nor another unit's robot; bad addresses refused.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pg
import pytest
from sqlalchemy import select

from engine.clock import CHINA_TZ, ManualClock
from engine.errors import PermissionDeniedError, ValidationError
from engine.models import Role, User
from engine.service import Actor
from notifications import chat
from notifications.chat_delivery import deliver_chat
from notifications.chat_models import ChatHook, ChatMessage, ChatStatus
from notifications.models import Notification
from notifications.notes import add_note
from notifications.scheduler import deliver_job
from notifications.tick import run_tick
from tests.engine_fixtures import make_runtime

SECRET = "SEC0123456789abcdef"
WALL = datetime(2026, 12, 3, 10, 0, 0, 123000, tzinfo=CHINA_TZ)


class Robot:
    """A fake robot endpoint: records each POST; ``reply`` decides the answer."""

    def __init__(self) -> None:
        self.port = pg.free_port()
        self.posts: list[dict[str, Any]] = []
        self.reply: tuple[int, dict[str, Any]] = (200, {"errcode": 0, "errmsg": "ok"})
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/robot/send?access_token=abc") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urlsplit(self.path)
                robot.posts.append({"path": parts.path, "query": parse_qs(parts.query),
                                    "type": self.headers["Content-Type"],
                                    "body": json.loads(raw.decode())})
                status, answer = robot.reply
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def robot() -> Iterator[Robot]:
    found = Robot()
    yield found
    found.stop()


@pytest.fixture
def world(tmp_path, smtp_server):
    clock = ManualClock(datetime(2018, 5, 30, 8, 0, tzinfo=CHINA_TZ))
    rt = make_runtime(tmp_path, clock=clock)
    rt = dataclasses.replace(rt, config=dataclasses.replace(rt.config, smtp_url=smtp_server.url),
                             wall_clock=ManualClock(WALL))
    with rt.sessions() as s, s.begin():
        for unit in ("hefei", "wuhu"):
            s.add(User(username=unit, display_name=f"{unit}联络员", password_hash="x",
                       role=Role.LIAISON, unit_id=unit, email=f"{unit}@ah.example.cn",
                       active=True, created_at=clock.now()))
    return rt


ADMIN = Actor(None, "admin", Role.ADMIN, None)


def _hook(rt, robot: Robot, unit: str, kind: str, secret: str | None = None,
          path: str = "/robot/send?access_token=abc") -> int:
    with rt.sessions() as s, s.begin():
        return chat.add_hook(s, rt.clock, ADMIN, unit_id=unit, kind=kind, url=robot.url(path),
                             secret=secret, hosts=(robot.host,)).id


def _statuses(rt) -> dict[str, ChatStatus]:
    with rt.sessions() as s:
        return {m.dedupe_key: m.status for m in s.scalars(select(ChatMessage))}


def test_exact_bodies_and_the_dingtalk_signature(world, robot):
    rt = world
    robot.start()
    ding = _hook(rt, robot, "hefei", "dingtalk", SECRET)
    wecom = _hook(rt, robot, "wuhu", "wecom", path="/cgi-bin/webhook/send?key=k1")
    with rt.sessions() as s, s.begin():
        for unit in ("hefei", "wuhu"):
            add_note(s, rt.clock.now(), key=f"returned:{unit}", unit_id=unit, kind="returned",
                     title="【退回】任务1办理情况被退回", body="合肥市：\n\n退回理由：材料不全\n",
                     link=None)
    report = deliver_chat(rt.sessions, rt.clock, wall=rt.wall_clock)
    assert report.sent == 2
    by_path = {p["path"]: p for p in robot.posts}
    got = by_path["/robot/send"]
    assert got["type"] == "application/json; charset=utf-8"
    assert got["body"] == {"msgtype": "markdown", "markdown": {
        "title": "【退回】任务1办理情况被退回",
        "text": "### 【退回】任务1办理情况被退回\n\n合肥市：\n\n退回理由：材料不全"}}
    ms = int(WALL.timestamp() * 1000)
    want = base64.b64encode(hmac.new(SECRET.encode(), f"{ms}\n{SECRET}".encode(),
                                     hashlib.sha256).digest()).decode()
    assert got["query"] == {"access_token": ["abc"], "timestamp": [str(ms)], "sign": [want]}
    assert by_path["/cgi-bin/webhook/send"]["body"] == {"msgtype": "markdown", "markdown": {
        "content": "### 【退回】任务1办理情况被退回\n合肥市：\n\n退回理由：材料不全"}}
    assert by_path["/cgi-bin/webhook/send"]["query"] == {"key": ["k1"]}
    assert _statuses(rt) == {f"returned:hefei@{ding}": ChatStatus.SENT,
                             f"returned:wuhu@{wecom}": ChatStatus.SENT}
    assert deliver_chat(rt.sessions, rt.clock, wall=rt.wall_clock).sent == 0
    assert len(robot.posts) == 2


def test_a_long_message_is_cut_to_the_robots_limit(world, robot):
    rt = world
    robot.start()
    _hook(rt, robot, "wuhu", "wecom", path="/cgi-bin/webhook/send?key=k1")
    with rt.sessions() as s, s.begin():
        add_note(s, rt.clock.now(), key="bulletin:1:wuhu", unit_id="wuhu", kind="bulletin",
                 title="【通报】", body="逾期事项。\n" * 1000, link=None)
    deliver_chat(rt.sessions, rt.clock, wall=rt.wall_clock)
    [post] = robot.posts
    content = post["body"]["markdown"]["content"]
    assert len(content.encode()) <= 4096 and content.endswith("（全文请登录督办系统查看）")


def test_an_outcome_reaches_the_group_once_after_the_robot_was_down(world, robot, smtp_server):
    rt = world
    hook = _hook(rt, robot, "hefei", "dingtalk", SECRET)  # registered, not listening yet
    run_tick(rt)  # new assignments: a note, a mail and a chat message per unit
    deliver_job(rt)
    assert {m.rcpt_tos[0] for m in smtp_server.received} >= {"hefei@ah.example.cn",
                                                            "wuhu@ah.example.cn"}
    [key] = [k for k in _statuses(rt)]
    assert key.startswith("assigned:hefei:") and key.endswith(f"@{hook}")
    with rt.sessions() as s:
        row = s.scalars(select(ChatMessage)).one()
        assert row.status is ChatStatus.PENDING and row.attempts == 1
        assert "URLError" in (row.last_error or "")
    robot.start()
    deliver_job(rt)  # not due yet: the backoff is on the business clock
    assert robot.posts == []
    rt.clock.advance(timedelta(minutes=2))
    deliver_job(rt)
    deliver_job(rt)
    run_tick(rt)
    [post] = robot.posts
    assert post["body"]["markdown"]["title"] == "【新交办任务】你单位有2项新的督办事项"
    assert _statuses(rt) == {key: ChatStatus.SENT}


def test_a_failing_robot_stops_neither_the_mail_nor_another_robot(world, robot, smtp_server):
    rt = world
    robot.start()
    robot.reply = (200, {"errcode": 310000, "errmsg": "sign not match"})
    _hook(rt, robot, "hefei", "dingtalk", "SECwrong")
    other = Robot()
    other.start()
    try:
        _hook(rt, other, "wuhu", "wecom", path="/cgi-bin/webhook/send?key=k2")
        with rt.sessions() as s, s.begin():
            for n in range(3):
                add_note(s, rt.clock.now(), key=f"urge:{n}:hefei", unit_id="hefei",
                         kind="urge", title=f"【催办】{n}", body="请抓紧办理。", link=None)
            add_note(s, rt.clock.now(), key="urge:9:wuhu", unit_id="wuhu", kind="urge",
                     title="【催办】9", body="请抓紧办理。", link=None)
        run_tick(rt)  # adds the new assignments of the day to both groups
        assert sorted(p["body"]["markdown"]["content"].split("\n")[0] for p in other.posts) \
            == ["### 【催办】9", "### 【新交办任务】你单位有2项新的督办事项"]
        assert len(robot.posts) == 1  # tried once; its three others released for the next run
        assert {m.rcpt_tos[0] for m in smtp_server.received} >= {"hefei@ah.example.cn"}
        with rt.sessions() as s:
            rows = s.scalars(select(ChatMessage).join(ChatHook)
                             .where(ChatHook.unit_id == "hefei")).all()
            assert sorted(m.attempts for m in rows) == [0, 0, 0, 1]
            assert all(m.status is ChatStatus.PENDING for m in rows)
            assert "errcode 310000" in "".join(m.last_error or "" for m in rows)
    finally:
        other.stop()


@pytest.mark.parametrize(("kind", "url", "hosts", "message"), [
    ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None, "必须使用 https"),
    ("wecom", "https://evil.example.com/cgi-bin/webhook/send?key=k", None, "不在允许范围内"),
    ("wecom", "https://qyapi.weixin.qq.com/other?key=k", None, "地址应为"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", None, "地址应为"),
    ("dingtalk", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None, "与所选类型"),
    ("dingtalk", "https://u:p@oapi.dingtalk.com/robot/send?access_token=t", None, "用户名"),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t&sign=x", None, "加签"),
    ("wecom", "https://127.0.0.1:8443/x", ("127.0.0.1",), "不在允许范围内"),
    ("wecom", "file:///etc/passwd", None, "https://"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=中文", None, "ASCII"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\x00", None, "控制字符"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\x7f", None, "控制字符"),
    ("slack", "https://hooks.slack.com/x", None, "未知的机器人类型"),
])
def test_bad_addresses_are_refused_and_nothing_is_stored(world, kind, url, hosts, message):
    rt = world
    with pytest.raises(ValidationError, match=message), rt.sessions() as s, s.begin():
        chat.add_hook(s, rt.clock, ADMIN, unit_id="hefei", kind=kind, url=url, secret=None,
                      hosts=hosts or chat.DEFAULT_HOSTS)
    with rt.sessions() as s:
        assert s.scalars(select(ChatHook)).all() == []


def test_official_addresses_are_accepted_and_only_admins_configure(world):
    rt = world
    with rt.sessions() as s, s.begin():
        hook = chat.add_hook(s, rt.clock, ADMIN, unit_id="hefei", kind="dingtalk",
                             url="https://oapi.dingtalk.com/robot/send?access_token=t0ken",
                             secret=SECRET, hosts=chat.DEFAULT_HOSTS)
        assert chat.masked(hook.url) == "https://oapi.dingtalk.com/robot/send?access_token=t0ke…"
        with pytest.raises(PermissionDeniedError):
            chat.add_hook(s, rt.clock, Actor(None, "x", Role.LIAISON, "hefei"), unit_id="hefei",
                          kind="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
                          "?key=k", secret=None, hosts=chat.DEFAULT_HOSTS)
    assert chat.allowed_hosts({"DUBAN_WEBHOOK_HOSTS": " a.example.cn , b:8443"}) == (
        "a.example.cn", "b:8443")


@pytest.mark.slow
def test_every_note_of_the_unit_reaches_its_group_once_up_to_the_notice(world, robot):
    rt = world
    robot.start()
    _hook(rt, robot, "hefei", "wecom", path="/cgi-bin/webhook/send?key=k1")
    day = datetime(2018, 5, 30, 8, 0, tzinfo=CHINA_TZ)
    while day.date() <= datetime(2018, 9, 7).date():  # nobody acts: the 督办通知 on 09-07
        rt.clock.set(day)
        assert all(n >= 0 for n in run_tick(rt).counts.values())
        day += timedelta(days=1)
    run_tick(rt)
    with rt.sessions() as s:
        notes = {n.dedupe_key: n.title for n in s.scalars(
            select(Notification).where(Notification.unit_id == "hefei"))}
    titles = [p["body"]["markdown"]["content"].split("\n")[0][4:] for p in robot.posts]
    assert sorted(titles) == sorted(notes.values())  # each note once, nothing of other units
    assert len([t for t in titles if t.startswith("【督办通知】")]) == 1
    assert {k.split(":")[0] for k in notes} >= {"assigned", "reminder", "urge", "notice"}


def test_a_redirect_from_the_robot_is_not_followed() -> None:
    """An allowed host answering 302 to an internal address (the metadata service, a local
    admin port) must not be reached: urllib would follow it as a GET and the reply's first
    bytes would show on the admin page as the robot's last error."""
    from notifications.chat_delivery import http_post

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hits.append(f"POST {self.path}")
            self.send_response(302)
            self.send_header("Location", "/latest/meta-data/iam")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            hits.append(f"GET {self.path}")
            body = b'{"errcode": 0, "secret": "instance-credentials"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", pg.free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, _body = http_post(f"http://127.0.0.1:{server.server_port}/robot/send?x=1",
                                  b"{}")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 302
    assert hits == ["POST /robot/send?x=1"]


def test_the_same_robot_registered_twice_is_refused(world):
    """Two tabs (or a double click) on 登记 made two robots with one address: every note then
    reached the group twice."""
    rt = world
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k2"
    with rt.sessions() as s, s.begin():
        chat.add_hook(s, rt.clock, ADMIN, unit_id="hefei", kind="wecom", url=url, secret=None,
                      hosts=chat.DEFAULT_HOSTS)
    with pytest.raises(ValidationError, match="已登记过"), rt.sessions() as s, s.begin():
        chat.add_hook(s, rt.clock, ADMIN, unit_id="hefei", kind="wecom", url=f" {url} ",
                      secret=None, hosts=chat.DEFAULT_HOSTS)
    with rt.sessions() as s, s.begin():  # another unit may post to the same group
        chat.add_hook(s, rt.clock, ADMIN, unit_id="wuhu", kind="wecom", url=url, secret=None,
                      hosts=chat.DEFAULT_HOSTS)
        assert len(s.scalars(select(ChatHook)).all()) == 2
