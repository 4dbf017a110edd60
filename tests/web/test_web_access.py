"""Authorization on every route: the wrong role gets 403, another unit's objects answer 404."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from webtools import TOKENS, do_login, first_item, tok

from engine import import_drafts
from engine.access import Actor
from engine.models import Attachment, Blob, ExtensionRequest, ItemRole, WorkItem
from engine.runtime import Runtime

PDF = b"%PDF-1.4\n%%EOF\n"
LIAISON, OTHER, SUPERVISOR, ADMIN = "hefei", "wuhu", "duchao", "admin"
EVERYONE = {LIAISON, OTHER, SUPERVISOR, ADMIN}
NO_AUTH = {"auth.login", "auth.logout", "auth.root", "static", "vendor_bpmn", "vendor_echarts",
           "api.openapi"}


@dataclass(frozen=True)
class Case:
    """A route, the URL to try, who may use it, and who must get 404 (another unit)."""

    endpoint: str
    method: str
    url: str
    allowed: frozenset[str]
    hidden_from: frozenset[str] = frozenset()


@pytest.fixture
def world_ids(app: Flask, rt: Runtime) -> dict[str, int]:
    """Objects of the hefei unit: a submitted item with a file, its review, an extension."""
    from notifications.mail import enqueue
    from notifications.models import Document, DocumentKind

    item = first_item(rt, LIAISON)
    client = app.test_client()
    do_login(client, LIAISON)
    client.post(f"/items/{item.id}/evidence", data={
        "csrf_token": tok(client), "action": "submit", "text": "材料",
        "files": [(io.BytesIO(PDF), "a.pdf")]}, content_type="multipart/form-data")
    ext_item = first_item(rt, "jxw", task_name="submit")
    jxw = app.test_client()
    do_login(jxw, "jxw")
    jxw.post(f"/items/{ext_item.id}/extension", data={
        "csrf_token": tok(jxw), "new_due": "2019-06-30", "reason": "原因"})
    with rt.sessions() as s, s.begin():
        review = s.scalars(select(WorkItem).where(WorkItem.instance_id == item.instance_id,
                                                  WorkItem.role == ItemRole.SUPERVISOR)).one()
        att = s.scalars(select(Attachment)).one()
        ext = s.scalars(select(ExtensionRequest)).one()
        s.add(Blob(sha256="f" * 64, data=PDF))
        doc = Document(kind=DocumentKind.NOTICE, year=2018, seq=1, number="皖政督〔2018〕1号",
                       office="皖政督", title="督办通知", unit_id="hefei",
                       issued_on=date(2018, 9, 1), pdf_sha256="f" * 64, data={},
                       dedupe_key="t1", created_at=rt.clock.now())
        s.add(doc)
        msg = enqueue(s, rt.clock, dedupe_key="t-msg", kind="test", to=["a@example.gov.cn"],
                      subject="测试", text="正文")
        draft = import_drafts.create(s, rt.clock, Actor.system(), filename="t.txt",
                                     data="任务\n2018年6月1日\n".encode())
        s.flush()
        assert msg is not None
        return {"item": item.id, "instance": item.instance_id, "review": review.id,
                "attachment": att.id, "extension": ext.id, "doc": doc.id, "msg": msg.id,
                "draft": draft.id,
                "other_item": first_item(rt, OTHER).id,
                "other_instance": first_item(rt, OTHER).instance_id}


def cases(ids: dict[str, int]) -> list[Case]:
    """Every protected route with its rule."""
    sup, adm, both = frozenset({SUPERVISOR}), frozenset({ADMIN}), frozenset({SUPERVISOR, ADMIN})
    lia = frozenset({LIAISON, OTHER})
    every = frozenset(EVERYONE)
    i, n = ids["item"], ids["instance"]
    return [
        Case("inbox.index", "GET", "/inbox/", lia),
        Case("inbox.done", "GET", "/inbox/done", lia),
        Case("auth.password", "GET", "/account/password", every),
        Case("inbox.notifications", "GET", "/inbox/notifications", every),
        Case("items.show", "GET", f"/items/{i}", every, frozenset({OTHER})),
        Case("items.evidence", "POST", f"/items/{i}/evidence", frozenset({LIAISON}),
             frozenset({OTHER})),
        Case("items.acknowledge", "POST", f"/items/{i}/ack", frozenset({LIAISON}),
             frozenset({OTHER})),
        Case("items.progress", "POST", f"/items/{i}/progress", frozenset({LIAISON}),
             frozenset({OTHER})),
        Case("items.plan", "POST", f"/items/{i}/plan", frozenset({LIAISON}),
             frozenset({OTHER})),
        Case("items.decide_plan", "POST", f"/items/{i}/plan/decide", sup),
        Case("items.extension", "POST", f"/items/{i}/extension", frozenset({LIAISON}),
             frozenset({OTHER})),
        Case("items.download", "GET", f"/items/files/{ids['attachment']}", every,
             frozenset({OTHER})),
        Case("process.show", "GET", f"/process/{n}", every, frozenset({OTHER})),
        Case("process.diagram", "GET", f"/process/{n}/diagram.json", every, frozenset({OTHER})),
        Case("process.urge", "POST", f"/process/{n}/urge", sup),
        Case("process.interview", "POST", f"/process/{n}/interview", sup),
        Case("review.queue", "GET", "/review/", sup),
        Case("review.decide", "POST", f"/review/{ids['review']}", sup),
        Case("review.extensions", "GET", "/review/extensions", sup),
        Case("review.decide_extension", "POST", f"/review/extensions/{ids['extension']}", sup),
        Case("board.index", "GET", "/board/", both),
        Case("board.export", "GET", "/board/export.csv", both),
        Case("board.unit", "GET", "/board/units/hefei", both),
        Case("board.task", "GET", "/board/tasks/1", both),
        Case("progress.behind", "GET", "/board/behind", both),
        Case("progress.problems", "GET", "/board/problems", both),
        Case("progress.problems_csv", "GET", "/board/problems.csv", both),
        Case("archive.index", "GET", "/archive/", every),
        Case("search.index", "GET", "/search/?q=任务", every),
        Case("policies.index", "GET", "/policies/", both),
        Case("policies.show", "GET", "/policies/anhui-2018-zjtx", both),
        Case("policies.status", "POST", "/policies/anhui-2018-zjtx/status", both),
        Case("policies.upload", "GET", "/policies/import", both),
        Case("policies.preview", "GET", f"/policies/import/{ids['draft']}", both),
        Case("policies.map_unit", "POST", f"/policies/import/{ids['draft']}/map", both),
        Case("policies.correct", "POST", f"/policies/import/{ids['draft']}/correct", both),
        Case("policies.confirm", "POST", f"/policies/import/{ids['draft']}/confirm", both),
        Case("archive.pdf", "GET", f"/archive/{ids['doc']}.pdf", every, frozenset({OTHER})),
        Case("assessment.index", "GET", "/assessment/?year=2018", both),
        Case("assessment.unit", "GET", "/assessment/units/hefei?year=2018", both),
        Case("assessment.adjust", "POST", "/assessment/adjust", sup),
        Case("assessment.publish", "POST", "/assessment/publish", sup),
        Case("assessment.export", "GET", "/assessment/export.xlsx?year=2018", both),
        Case("assessment.rules", "GET", "/assessment/rules", sup),
        Case("assessment.cockpit", "GET", "/assessment/cockpit", both),
        Case("assessment.map_json", "GET", "/assessment/map.json", both),
        Case("admin.users", "GET", "/admin/users", adm),
        Case("admin.units", "GET", "/admin/units", adm),
        Case("admin.rename_unit", "POST", "/admin/units/hefei/names", adm),
        Case("admin.create_unit", "POST", "/admin/units/new", adm),
        Case("admin.set_group", "POST", "/admin/groups", adm),
        Case("admin.toggle_active", "POST", "/admin/users/1/active", adm),
        Case("admin.reset_password", "POST", "/admin/users/1/password", adm),
        Case("admin.issue_token", "POST", "/admin/users/1/token", adm),
        Case("admin.revoke_token", "POST", "/admin/users/1/token/revoke", adm),
        Case("admin.clock_page", "GET", "/admin/clock", adm),
        Case("admin.outbox", "GET", "/admin/outbox", adm),
        Case("admin.retry", "POST", f"/admin/outbox/{ids['msg']}/retry", adm),
        Case("admin.retry_all", "POST", "/admin/outbox/retry-all", adm),
        Case("admin.chat_hooks", "GET", "/admin/chat", adm),
        Case("admin.add_chat_hook", "POST", "/admin/chat/new", adm),
        Case("admin.toggle_chat_hook", "POST", "/admin/chat/1/active", adm),
        Case("api.inbox", "GET", "/api/v1/inbox", frozenset({LIAISON, OTHER, SUPERVISOR})),
        Case("api.item", "GET", f"/api/v1/items/{i}", every, frozenset({OTHER})),
        Case("api.submit", "POST", f"/api/v1/items/{ids['other_item']}/submit",
             frozenset({OTHER}), frozenset({LIAISON})),
        Case("api.review", "POST", f"/api/v1/items/{ids['review']}/review", sup),
        Case("api.board", "GET", "/api/v1/board", both),
    ]


def test_every_rule_is_covered(app: Flask) -> None:
    covered = {c.endpoint for c in cases({k: 1 for k in (
        "item", "instance", "review", "attachment", "extension", "doc", "msg", "other_item",
        "draft",
        "other_instance")})}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - NO_AUTH == covered


def _tokens(app: Flask, rt: Runtime) -> dict[str, str]:
    from engine import accounts
    from engine.models import User

    out = {}
    with rt.sessions() as s, s.begin():
        for user in s.scalars(select(User)):
            out[user.username] = accounts.issue_token(s, rt.clock, user, actor="test")
    return out


def _call(app: Flask, case: Case, who: str | None, token: str | None) -> int:
    client = app.test_client()
    if case.endpoint.startswith("api."):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if case.method == "GET":
            return client.get(case.url, headers=headers).status_code
        return client.post(case.url, json={"text": "x", "approve": True},
                           headers=headers).status_code
    if who is not None:
        do_login(client, who)
    if case.method == "GET":
        return client.get(case.url).status_code
    data = {"csrf_token": TOKENS.get(client, "")}
    return client.post(case.url, data=data).status_code


def test_wrong_role_and_wrong_unit_are_refused(app: Flask, rt: Runtime,
                                               world_ids: dict[str, int]) -> None:
    tokens = _tokens(app, rt)
    failures = []
    for case in cases(world_ids):
        anon = _call(app, case, None, None)
        expected_anon = (401,) if case.endpoint.startswith("api.") else (302, 400)
        if anon not in expected_anon:
            failures.append(f"{case.endpoint} anonymous -> {anon}")
        for who in sorted(EVERYONE - case.allowed):
            status = _call(app, case, who, tokens[who])
            wanted = (404,) if who in case.hidden_from else (403, 404)
            if status not in wanted:
                failures.append(f"{case.endpoint} as {who} -> {status}, wanted {wanted}")
        for who in sorted(case.hidden_from & case.allowed):
            status = _call(app, case, who, tokens[who])
            if status != 404:
                failures.append(f"{case.endpoint} as {who} (other unit) -> {status}")
        if case.method == "GET":
            for who in sorted(case.allowed - case.hidden_from):
                status = _call(app, case, who, tokens[who])
                if status != 200:
                    failures.append(f"{case.endpoint} as {who} (allowed) -> {status}")
    assert not failures, "\n".join(failures)


def test_liaison_of_the_supervising_unit_never_sees_review_items(
        app: Flask, rt: Runtime, world_ids: dict[str, int]) -> None:
    client = app.test_client()
    do_login(client, "jxw")
    assert client.get(f"/items/{world_ids['review']}").status_code == 404
    page = client.get("/inbox/").get_data(as_text=True)
    assert f"/items/{world_ids['review']}\"" not in page
