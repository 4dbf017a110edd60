"""The JSON API: bearer tokens, the closed loop, errors as JSON, the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from webtools import first_item

from engine import accounts
from engine.models import ItemRole, User, WorkItem
from engine.runtime import Runtime


def _token(rt: Runtime, username: str) -> dict[str, str]:
    with rt.sessions() as s, s.begin():
        user = s.scalars(select(User).where(User.username == username)).one()
        return {"Authorization": f"Bearer {accounts.issue_token(s, rt.clock, user, actor='t')}"}


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def test_no_token_is_401_json(api: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = api.get("/api/v1/inbox", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "缺少或无效的 API 令牌"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_cookie_does_not_authenticate_the_api(app: Flask) -> None:
    from webtools import do_login

    client = app.test_client()
    do_login(client, "hefei")
    assert client.get("/api/v1/inbox").status_code == 401


def test_closed_loop_over_the_api(api: FlaskClient, rt: Runtime) -> None:
    liaison, supervisor = _token(rt, "hefei"), _token(rt, "duchao")
    items = api.get("/api/v1/inbox", headers=liaison).get_json()["items"]
    assert items and all(i["unit_id"] == "hefei" for i in items)
    assert items[0]["light"] == "red" and items[0]["days_left"] == -16
    item_id = items[0]["id"]
    detail = api.get(f"/api/v1/items/{item_id}", headers=liaison).get_json()
    assert detail["task"]["number"] == 1 and detail["cycle"]["due_date"] == "2018-08-30"
    bad = api.post(f"/api/v1/items/{item_id}/submit", json={"text": ""}, headers=liaison)
    assert bad.status_code == 400 and "请填写" in bad.get_json()["error"]
    done = api.post(f"/api/v1/items/{item_id}/submit", json={"text": "已完成"}, headers=liaison)
    assert done.status_code == 200 and done.get_json()["status"] == "submitted"
    again = api.post(f"/api/v1/items/{item_id}/submit", json={"text": "再次"}, headers=liaison)
    assert again.status_code == 409
    queue = api.get("/api/v1/inbox", headers=supervisor).get_json()["items"]
    review = next(i for i in queue if i["instance_id"] == detail["instance_id"])
    refused = api.post(f"/api/v1/items/{review['id']}/review", json={"approve": False},
                       headers=supervisor)
    assert refused.status_code == 400
    ok = api.post(f"/api/v1/items/{review['id']}/review", json={"approve": True},
                  headers=supervisor)
    assert ok.status_code == 200 and ok.get_json()["status"] == "closed"
    rows = api.get("/api/v1/board?unit=hefei&task=1", headers=supervisor).get_json()["rows"]
    assert [r["status"] for r in rows] == ["closed"] and rows[0]["light"] == "grey"
    whole = api.get("/api/v1/board", headers=supervisor).get_json()
    pages = [api.get(f"/api/v1/board?per_page=4&page={n}", headers=supervisor).get_json()
             for n in range(1, -(-whole["total"] // 4) + 1)]
    assert whole["total"] == len(whole["rows"]) == sum(whole["lights"].values()) > 8
    assert [r for p in pages for r in p["rows"]] == whole["rows"]
    assert pages[0]["pages"] == -(-whole["total"] // 4) and pages[0]["per_page"] == 4


def test_other_units_item_is_404(api: FlaskClient, rt: Runtime) -> None:
    other = first_item(rt, "wuhu")
    response = api.get(f"/api/v1/items/{other.id}", headers=_token(rt, "hefei"))
    assert response.status_code == 404 and "error" in response.get_json()


def test_malformed_body_is_400(api: FlaskClient, rt: Runtime) -> None:
    item = first_item(rt, "hefei")
    headers = _token(rt, "hefei")
    assert api.post(f"/api/v1/items/{item.id}/submit", data="x", headers=headers).status_code \
        == 400
    assert api.post(f"/api/v1/items/{item.id}/submit", json={"text": "a", "numbers": [1]},
                    headers=headers).status_code == 400


def test_deactivated_users_token_stops_working(api: FlaskClient, rt: Runtime) -> None:
    headers = _token(rt, "hefei")
    assert api.get("/api/v1/inbox", headers=headers).status_code == 200
    with rt.sessions() as s, s.begin():
        s.scalars(select(User).where(User.username == "hefei")).one().active = False
    assert api.get("/api/v1/inbox", headers=headers).status_code == 401


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if "$ref" in node else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def test_openapi_document_describes_every_route(app: Flask, api: FlaskClient) -> None:
    doc = api.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for ref in _refs(doc):
        section, name = ref.split("/")[2:]
        assert name in doc["components"][section], ref
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix("/api/v1").replace("<int:item_id>", "{item_id}")
            routes |= {(path, m) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_item_json_of_supporting_unit(api: FlaskClient, rt: Runtime) -> None:
    with rt.sessions() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.unit_id == "jxw",
                                                WorkItem.role == ItemRole.SUPPORTING)).first()
        assert item is not None
    body = api.get(f"/api/v1/items/{item.id}", headers=_token(rt, "jxw")).get_json()
    assert body["role"] == "supporting" and body["evidence"] == []
