"""Issue 9's probe findings, one test each: each failed on the code before its fix."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from webtools import PASSWORD, START, csrf_token, do_login, first_item, make_app, tok

from engine import accounts, service
from engine.access import Actor
from engine.clock import ManualClock
from engine.models import (
    Attachment,
    ExtensionRequest,
    ItemRole,
    Role,
    Unit,
    UnitName,
    User,
    UserSession,
    WorkItem,
)
from engine.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BIG = 2**63  # one beyond BIGINT


def _login_post(client: FlaskClient, next_: str) -> object:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login?next=" + next_, data={
        "username": "hefei", "password": PASSWORD, "csrf_token": token})


# 1 --------------------------------------------------------------------------- open redirect
@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example/x", "/%5Cevil.example",
                                    "https://evil.example/", "/%0d%0a/x", "/%20/evil.example",
                                    "javascript:alert(1)"])
def test_next_accepts_only_a_path_on_this_site(app: Flask, target: str) -> None:
    response = _login_post(app.test_client(), target)
    assert response.status_code == 302  # never a 500
    assert response.headers["Location"] == "/inbox/"


def test_next_keeps_a_local_path(app: Flask) -> None:
    response = _login_post(app.test_client(), "/archive/?kind=notice")
    assert response.headers["Location"] == "/archive/?kind=notice"


# 2 --------------------------------------------------------------------------- request size
def test_oversized_anonymous_post_is_refused_before_parsing(app: Flask) -> None:
    body = b"x" * (3 * 1024 * 1024)
    response = app.test_client().post("/login", data=body,
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert app.config["MAX_CONTENT_LENGTH"] is not None


def test_too_many_files_in_one_request(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "hefei")
    files = [(io.BytesIO(PDF), f"f{n}.pdf") for n in range(11)]
    response = client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "draft", "text": "x", "files": files},
        content_type="multipart/form-data", follow_redirects=True)
    assert "一次最多上传 10 个文件" in response.get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalar(select(func.count(Attachment.id))) == 0


def test_removed_draft_attachment_is_deleted(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "hefei")
    client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "draft", "text": "x",
        "files": [(io.BytesIO(PDF), "a.pdf")]}, content_type="multipart/form-data")
    with rt.sessions() as s:
        [att] = s.scalars(select(Attachment)).all()
    client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "draft", "text": "x",
        "remove_attachment": str(att.id)}, content_type="multipart/form-data")
    with rt.sessions() as s:
        assert s.get(Attachment, att.id) is None


def test_unclaimed_uploads_are_pruned_after_two_days(rt: Runtime) -> None:
    from engine.attachments import prune_unclaimed, store_upload

    with rt.sessions() as s, s.begin():
        att = store_upload(s, rt.clock, rt.config.blob_dir, filename="a.pdf", data=PDF,
                           declared_type="application/pdf", unit_id="hefei",
                           max_bytes=1 << 20)
        assert prune_unclaimed(s, rt.clock, rt.config.blob_dir) == 0  # fresh
        later = ManualClock(START + timedelta(days=3))
        assert prune_unclaimed(s, later, rt.config.blob_dir) == 1
        assert s.get(Attachment, att.id) is None


# 3, 4 ------------------------------------------------------------------------ sessions, tokens
def test_logout_ends_the_session_on_the_server(app: Flask) -> None:
    client = app.test_client()
    do_login(client, "hefei")
    copied = client.get_cookie("duban_session")
    assert copied is not None
    client.post("/logout", data={"csrf_token": tok(client)})
    thief = app.test_client()
    thief.set_cookie("duban_session", copied.value)
    assert thief.get("/inbox/").status_code == 302  # to the login page


def test_session_lifetime_is_absolute(app: Flask, rt: Runtime) -> None:
    rt.wall_clock = wall = ManualClock(START)
    client = app.test_client()
    do_login(client, "hefei")
    for _ in range(8):  # busy all day (7 h 20 min): the lifetime does not slide
        wall.advance(timedelta(minutes=55))
        response = client.get("/inbox/")
        assert response.status_code == 200 and "Set-Cookie" not in response.headers
    wall.advance(timedelta(minutes=60))  # 8 h 20 min after login
    assert client.get("/inbox/").status_code == 302


def test_deactivate_and_reactivate_does_not_revive_old_cookies(app: Flask, rt: Runtime) -> None:
    client = app.test_client()
    do_login(client, "hefei")
    admin = app.test_client()
    do_login(admin, "admin")
    uid = _uid(rt, "hefei")
    for _ in range(2):
        admin.post(f"/admin/users/{uid}/active", data={"csrf_token": tok(admin)})
    with rt.sessions() as s:
        assert s.get(User, uid).active  # reactivated
    assert client.get("/inbox/").status_code == 302


def test_password_reset_withdraws_the_api_token(app: Flask, rt: Runtime) -> None:
    uid = _uid(rt, "hefei")
    with rt.sessions() as s, s.begin():
        token = accounts.issue_token(s, rt.clock, s.get(User, uid), actor="test")
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/inbox", headers=auth).status_code == 200
    admin = app.test_client()
    do_login(admin, "admin")
    admin.post(f"/admin/users/{uid}/password", data={"csrf_token": tok(admin)})
    assert api.get("/api/v1/inbox", headers=auth).status_code == 401


def test_token_can_be_revoked_without_a_new_one(app: Flask, rt: Runtime) -> None:
    uid = _uid(rt, "hefei")
    with rt.sessions() as s, s.begin():
        token = accounts.issue_token(s, rt.clock, s.get(User, uid), actor="test")
    admin = app.test_client()
    do_login(admin, "admin")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "撤销令牌" in page
    admin.post(f"/admin/users/{uid}/token/revoke", data={"csrf_token": tok(admin)})
    with rt.sessions() as s:
        assert s.get(User, uid).api_token_hash is None
    response = app.test_client().get("/api/v1/inbox", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def _uid(rt: Runtime, username: str) -> int:
    with rt.sessions() as s:
        return s.scalars(select(User.id).where(User.username == username)).one()


# 6 --------------------------------------------------------------------------- header injection
@pytest.mark.parametrize("field,value", [("email", "a@b.test\n"), ("email", "a@b.test\r\nBcc: x@y"),
                                         ("display_name", "王明\r\nBcc: x@y.test")])
def test_line_breaks_in_names_and_addresses_are_refused(app: Flask, rt: Runtime, field: str,
                                                        value: str) -> None:
    admin = app.test_client()
    do_login(admin, "admin")
    data = {"csrf_token": tok(admin), "username": "newbie", "display_name": "新同志",
            "role": "liaison", "unit_id": "bengbu", "email": "newbie@example.cn", field: value}
    admin.post("/admin/users", data=data)
    with rt.sessions() as s:
        assert s.scalar(select(User.id).where(User.username == "newbie")) is None


def test_rename_with_a_line_break_is_refused(app: Flask, rt: Runtime) -> None:
    admin = app.test_client()
    do_login(admin, "admin")
    admin.post("/admin/units/hefei/names", data={
        "csrf_token": tok(admin), "name": "合肥市\n人民政府", "valid_from": "2019-01-01"})
    with rt.sessions() as s:
        assert len(s.get(Unit, "hefei").names) == 1


# 7 --------------------------------------------------------------------------- no server errors
@pytest.mark.parametrize("path", [f"/items/{BIG}", f"/process/{BIG}",
                                  f"/process/{BIG}/diagram.json",
                                  f"/items/files/{BIG}", f"/archive/{BIG}.pdf",
                                  f"/admin/users/{BIG}/active", f"/api/v1/items/{BIG}"])
def test_ids_beyond_bigint_are_not_found(app: Flask, path: str) -> None:
    client = app.test_client()
    do_login(client, "admin")
    assert client.get(path).status_code in (404, 405)


def test_every_id_route_answers_a_huge_id_without_a_server_error(app: Flask) -> None:
    """Every route with an integer in its path (the probe found 19), each method, as each
    role: an id beyond BIGINT is 404 (or a refusal), never a 500."""
    rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(rules) >= 19
    clients = {name: app.test_client() for name in ("admin", "duchao", "hefei")}
    for name, client in clients.items():
        do_login(client, name)
    seen = []
    for rule in rules:
        path = rule.build({k: BIG for k in rule.arguments}, append_unknown=False)[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for name, client in clients.items():
                data = {"csrf_token": tok(client)} if method == "POST" else None
                status = client.open(path, method=method, data=data).status_code
                seen.append((rule.rule, method, name, status))
    assert [s for s in seen if s[3] >= 500] == []
    assert {s[3] for s in seen} <= {302, 400, 403, 404, 405}, seen


@pytest.mark.parametrize("query", ["page=²", "page=¹⁰", "page=99999999999999999999", "task=²"])
def test_odd_digits_in_the_query_string(app: Flask, query: str) -> None:
    liaison, supervisor = app.test_client(), app.test_client()
    do_login(liaison, "hefei")
    do_login(supervisor, "duchao")
    assert liaison.get(f"/inbox/?{query}").status_code == 200
    assert supervisor.get(f"/board/?{query}").status_code == 200


def _api(app: Flask, rt: Runtime, username: str) -> dict[str, str]:
    with rt.sessions() as s, s.begin():
        user = s.scalars(select(User).where(User.username == username)).one()
        return {"Authorization": f"Bearer {accounts.issue_token(s, rt.clock, user, actor='t')}",
                "Content-Type": "application/json"}


@pytest.mark.parametrize("body,fragment", [
    ({"text": {"a": 1}}, "text 应为文字"),
    ({"text": "ok", "numbers": {"pooled": True}}, "numbers.pooled"),
    ({"text": "ok", "numbers": {"pooled": int("9" * 400)}}, "numbers.pooled"),
    ({"text": "ok", "attachment_ids": ["1"]}, "attachment_ids"),
    ({"text": "ok", "extra": 1}, "不支持的字段"),
    ({}, "缺少字段 text"),
])
def test_api_bodies_are_checked_against_the_schema(app: Flask, rt: Runtime, body: dict,
                                                   fragment: str) -> None:
    item = first_item(rt, "jxw", task_name="submit")
    response = app.test_client().post(f"/api/v1/items/{item.id}/submit",
                                      data=json.dumps(body), headers=_api(app, rt, "jxw"))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert fragment in response.get_json()["error"]


@pytest.mark.parametrize("raw", ["[" * 5000 + "]" * 5000, "{\"approve\": NaN}", "not json",
                                 "{\"approve\": false, \"reason\": {\"x\": 1}}",
                                 "{\"approve\": false, \"reason\": [1]}",
                                 "{\"approve\": false, \"reason\": 7}"])
def test_api_refuses_malformed_review_bodies(app: Flask, rt: Runtime, raw: str) -> None:
    lead = first_item(rt, "hefei")
    with rt.sessions() as s, s.begin():
        who = Actor.of(s.scalars(select(User).where(User.username == "hefei")).one())
        service.submit(s, rt.clock, who, lead.id, text="已出台")
        review = s.scalars(select(WorkItem.id).where(WorkItem.instance_id == lead.instance_id,
                                                     WorkItem.role == ItemRole.SUPERVISOR)).one()
    response = app.test_client().post(f"/api/v1/items/{review}/review", data=raw,
                                      headers=_api(app, rt, "duchao"))
    assert response.status_code == 400 and response.get_json()["error"]


# 9 --------------------------------------------------------------------------- manual 催办
def _instance_of(rt: Runtime, unit: str) -> int:
    return first_item(rt, unit).instance_id


def test_two_urges_in_one_instant_are_two_messages(app: Flask, rt: Runtime) -> None:
    from notifications.models import OutboxMessage

    with rt.sessions() as s, s.begin():
        s.get(Unit, "hefei").email = "hefei@example.gov.cn"
    inst = _instance_of(rt, "hefei")
    sup = app.test_client()
    do_login(sup, "duchao")
    for _ in range(2):
        sup.post(f"/process/{inst}/urge", data={"csrf_token": tok(sup), "message": "请抓紧"})
    with rt.sessions() as s:
        keys = s.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.kind == "urge")).all()
    assert len(set(keys)) == 2


def test_urge_is_refused_on_a_closed_obligation(rt: Runtime) -> None:
    from notifications.reminders import manual_urge

    with rt.sessions() as s, s.begin():
        item = s.get(WorkItem, first_item(rt, "hefei").id)
        item.instance.status = type(item.instance.status)("closed")
        sup = Actor.of(s.scalars(select(User).where(User.username == "duchao")).one())
        with pytest.raises(Exception, match="已办结"):
            manual_urge(s, rt.clock, actor=sup, inst=item.instance, message="", link=None)


# 10 -------------------------------------------------------------------------- accounts
def test_usernames_differ_by_more_than_case(rt: Runtime) -> None:
    from engine.errors import ValidationError

    with rt.sessions() as s, s.begin(), pytest.raises(ValidationError, match="已存在"):
        accounts.create_user(s, rt.clock, username="HeFei", display_name="x",
                             role=Role.LIAISON, password="long-enough-1", unit_id="hefei")


def test_an_admin_account_has_no_unit(rt: Runtime) -> None:
    from engine.errors import ValidationError

    with rt.sessions() as s, s.begin(), pytest.raises(ValidationError, match="管理员"):
        accounts.create_user(s, rt.clock, username="boss", display_name="x", role=Role.ADMIN,
                             password="long-enough-1", unit_id="hefei")


def test_first_login_after_an_admin_issued_password_forces_a_change(app: Flask,
                                                                    rt: Runtime) -> None:
    admin = app.test_client()
    do_login(admin, "admin")
    page = admin.post(f"/admin/users/{_uid(rt, 'wuhu')}/password",
                      data={"csrf_token": tok(admin)}).get_data(as_text=True)
    issued = _secret(page)
    user = app.test_client()
    do_login(user, "wuhu", issued)
    assert user.get("/inbox/").headers["Location"].endswith("/account/password")
    user.post("/account/password", data={"csrf_token": tok(user), "current": issued,
                                          "new": "my-own-secret-9", "confirm": "my-own-secret-9"})
    assert user.get("/inbox/").status_code == 200
    assert do_login(app.test_client(), "wuhu", "my-own-secret-9").status_code == 302


def _secret(page: str) -> str:
    import re

    found = re.search(r'id="secret">([A-Za-z0-9]{12})<', page)
    assert found, page
    return found.group(1)


def test_own_password_change_ends_other_sessions(app: Flask, rt: Runtime) -> None:
    laptop, phone = app.test_client(), app.test_client()
    do_login(laptop, "hefei")
    do_login(phone, "hefei")
    laptop.post("/account/password", data={"csrf_token": tok(laptop), "current": PASSWORD,
                                           "new": "new-pass-2018", "confirm": "new-pass-2018"})
    assert laptop.get("/inbox/").status_code == 200
    assert phone.get("/inbox/").status_code == 302
    with rt.sessions() as s:
        live = s.scalar(select(func.count(UserSession.id)).where(UserSession.ended_at.is_(None)))
    assert live == 1


# 11 -------------------------------------------------------------------------- HSTS, fetcher
def test_hsts_when_cookies_are_secure(rt: Runtime) -> None:
    secure = make_app(rt, SESSION_COOKIE_SECURE=True).test_client()
    assert "Strict-Transport-Security" in secure.get("/login").headers
    plain = make_app(rt).test_client()
    assert "Strict-Transport-Security" not in plain.get("/login").headers


def test_pdf_renderer_fetches_nothing_from_outside(tmp_path) -> None:
    from pypdf import PdfReader

    from notifications.documents import TEMPLATES, render_pdf

    outside = tmp_path / "secret.png"
    outside.write_bytes((TEMPLATES.parent.parent / "docs" / "img" / "board.png").read_bytes()
                        if (TEMPLATES.parent.parent / "docs" / "img" / "board.png").exists()
                        else b"")
    def images(src: str) -> int:
        pdf = render_pdf(f'<html><body><p>正文</p><img src="{src}"></body></html>')
        return len(PdfReader(io.BytesIO(pdf)).pages[0].images)

    assert images(f"file://{outside}") == 0          # a file outside the templates folder
    assert images("http://127.0.0.1:9/x.png") == 0   # the network
    tiny = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42"
            "mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    assert images(tiny) == 1                           # data: URLs still work


# 12 -------------------------------------------------------------------------- who sees what
def _return_lead(rt: Runtime, unit: str, task: int) -> WorkItem:
    """Submit the lead item of ``task`` and have the supervisor return it with a reason."""
    with rt.sessions() as s, s.begin():
        lead = s.scalars(select(WorkItem).where(WorkItem.unit_id == unit,
                                                WorkItem.role == ItemRole.LEAD)).all()
        item = next(w for w in lead if w.instance.task.number == task)
        who = Actor.of(s.scalars(select(User).where(User.username == unit)).one())
        service.submit(s, rt.clock, who, item.id, text="牵头单位的佐证：内部数据")
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                  WorkItem.role == ItemRole.SUPERVISOR)).one()
        sup = Actor.of(s.scalars(select(User).where(User.username == "duchao")).one())
        service.review(s, rt.clock, sup, review.id, approve=False, reason="退回理由：数据不全")
        return item


def test_a_supporting_unit_does_not_read_the_leads_record(app: Flask, rt: Runtime) -> None:
    lead = _return_lead(rt, "jxw", 2)  # task 2: 省经信委 leads, the cities support
    with rt.sessions() as s:
        support = s.scalars(select(WorkItem).where(WorkItem.instance_id == lead.instance_id,
                                                   WorkItem.unit_id == "hefei")).one()
    city = app.test_client()
    do_login(city, "hefei")
    page = city.get(f"/items/{support.id}").get_data(as_text=True)
    assert "牵头单位的佐证" not in page and "退回理由：数据不全" not in page
    process = city.get(f"/process/{lead.instance_id}").get_data(as_text=True)
    assert "退回理由：数据不全" not in process
    owner = app.test_client()
    do_login(owner, "jxw")
    mine = owner.get(f"/items/{lead.id}").get_data(as_text=True)
    assert "牵头单位的佐证" in mine and "退回理由：数据不全" in mine


def test_a_supporting_unit_does_not_read_the_leads_extension_reason(app: Flask,
                                                                  rt: Runtime) -> None:
    """Task 1: 合肥 leads, 省经信委 supports; 合肥's 延期申请 and its reason are 合肥's record."""
    lead = first_item(rt, "hefei")
    with rt.sessions() as s, s.begin():
        who = Actor.of(s.scalars(select(User).where(User.username == "hefei")).one())
        service.request_extension(s, rt.clock, who, lead.id, new_due=date(2018, 10, 31),
                                  reason="延期理由：合肥内部人事调整")
        support = s.scalars(select(WorkItem).where(WorkItem.instance_id == lead.instance_id,
                                                   WorkItem.unit_id == "jxw")).one()
    dept = app.test_client()
    do_login(dept, "jxw")
    for path in (f"/items/{support.id}", f"/process/{lead.instance_id}"):
        response = dept.get(path)
        assert response.status_code == 200, path
        assert "合肥内部人事调整" not in response.get_data(as_text=True), path
    owner = app.test_client()
    do_login(owner, "hefei")
    assert "合肥内部人事调整" in owner.get(f"/items/{lead.id}").get_data(as_text=True)


def test_the_extension_form_is_gone_while_a_request_is_pending(app: Flask, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    client = app.test_client()
    do_login(client, "hefei")
    assert "提交延期申请" in client.get(f"/items/{item.id}").get_data(as_text=True)
    client.post(f"/items/{item.id}/extension", data={
        "csrf_token": tok(client), "new_due": "2018-10-31", "reason": "需要更多时间"})
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "提交延期申请" not in page and "申请延期至" in page


# 13, 14 ---------------------------------------------------------------------- clock, outbox
def test_clock_page_advances_a_database_clock_whatever_the_environment(tmp_path) -> None:
    """make demo: the database keeps a simulated clock, DUBAN_CLOCK is not set."""
    from engine.bootstrap import init_database
    from engine.config import Config
    from engine.runtime import open_runtime

    config = Config.from_env({"DUBAN_DATA_DIR": str(tmp_path), "DUBAN_CLOCK": "2018-06-01"})
    init_database(open_runtime(config))
    later = open_runtime(Config.from_env({"DUBAN_DATA_DIR": str(tmp_path)}))
    app = make_app(later)
    with later.sessions() as s, s.begin():
        accounts.create_user(s, later.clock, username="root", display_name="管理员",
                             role=Role.ADMIN, password=PASSWORD)
    client = app.test_client()
    do_login(client, "root")
    page = client.get("/admin/clock").get_data(as_text=True)
    assert "模拟时钟" in page and "推进" in page and "系统时钟" not in page
    client.post("/admin/clock", data={"csrf_token": tok(client), "until": "2018-06-03"})
    assert later.clock.now().date() == date(2018, 6, 3)


def test_outbox_page_counts_each_status(app: Flask, rt: Runtime) -> None:
    from notifications.mail import enqueue

    with rt.sessions() as s, s.begin():
        for n in range(3):
            enqueue(s, rt.clock, dedupe_key=f"k{n}", kind="test", to=["a@b.cn"],
                    subject="s", text="t")
    admin = app.test_client()
    do_login(admin, "admin")
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "待发送 3" in page


# 16, 17, 24 ------------------------------------------------------------------ names, dates, self
def test_a_name_taking_effect_later_is_not_a_former_name(app: Flask, rt: Runtime) -> None:
    with rt.sessions() as s, s.begin():
        unit = s.get(Unit, "hefei")
        unit.names[0].valid_to = date(2030, 1, 1)
        unit.names.append(UnitName(name="合肥新名称", valid_from=date(2030, 1, 1)))
    sup = app.test_client()
    do_login(sup, "duchao")
    page = sup.get("/board/units/hefei").get_data(as_text=True)
    assert "曾用名" not in page and "将启用新名称：合肥新名称" in page


def test_an_extension_to_a_past_date_is_refused(rt: Runtime) -> None:
    from engine.errors import ValidationError

    item = first_item(rt, "hefei")  # due 2018-08-30; today 2018-09-15
    with rt.sessions() as s, s.begin():
        who = Actor.of(s.scalars(select(User).where(User.username == "hefei")).one())
        with pytest.raises(ValidationError, match="晚于今天"):
            service.request_extension(s, rt.clock, who, item.id, new_due=date(2018, 9, 1),
                                      reason="x")
    with rt.sessions() as s:
        assert s.scalar(select(func.count(ExtensionRequest.id))) == 0


def test_nobody_reviews_the_own_units_evidence(rt: Runtime) -> None:
    from engine.errors import PermissionDeniedError

    with rt.sessions() as s, s.begin():
        lead = next(w for w in s.scalars(select(WorkItem).where(
            WorkItem.unit_id == "jxw", WorkItem.role == ItemRole.LEAD)))
        who = Actor.of(s.scalars(select(User).where(User.username == "jxw")).one())
        service.submit(s, rt.clock, who, lead.id, text="x")
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == lead.instance_id,
                                                  WorkItem.role == ItemRole.SUPERVISOR)).one()
        assert review.unit_id == "dcs"  # the supervising office, not the lead
        insider = accounts.create_user(s, rt.clock, username="jxw-sup", display_name="x",
                                       role=Role.SUPERVISOR, password=PASSWORD, unit_id="jxw")
        with pytest.raises(PermissionDeniedError, match="本单位"):
            service.review(s, rt.clock, Actor.of(insider), review.id, approve=True)


def test_admin_registers_a_unit_and_a_group_the_importer_then_knows(app: Flask,
                                                                    rt: Runtime) -> None:
    from engine.policy_import import directory

    admin = app.test_client()
    do_login(admin, "admin")
    admin.post("/admin/units/new", data={"csrf_token": tok(admin), "name": "安徽省大数据中心",
                                         "short_name": "省大数据中心", "kind": "other"})
    admin.post("/admin/groups", data={"csrf_token": tok(admin), "name": "皖北各市",
                                      "members": ["huaibei", "bozhou", "suzhou"]})
    with rt.sessions() as s:
        found = directory(s)
        assert found.lookup("省大数据中心") is not None
        assert found.group("皖北各市") == ("huaibei", "bozhou", "suzhou")
    assert "皖北各市" in admin.get("/admin/units").get_data(as_text=True)
