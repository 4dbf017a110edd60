"""The JSON API under /api/v1: bearer tokens, no cookies, no CSRF; described by OpenAPI 3."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from engine import access, accounts, queries, service
from engine.access import Action
from engine.board import BoardFilter, board_page
from engine.lights import days_left, light
from engine.models import Role, WorkItem
from engine.service import Actor
from web.api_doc import openapi_document
from web.api_input import body
from web.params import small_int
from web.views.common import clock, db, today_date

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = frozenset({"api.openapi"})
API_PER_PAGE = 500  # rows per page unless per_page says otherwise (at most 1000)


@bp.before_request
def authenticate() -> Response | tuple[Response, int] | None:
    """Every call except the OpenAPI document needs ``Authorization: Bearer <token>``."""
    if request.endpoint in PUBLIC:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = accounts.user_for_token(db(), token.strip()) if scheme.lower() == "bearer" and \
        token.strip() else None
    if user is None:
        response = jsonify({"error": "缺少或无效的 API 令牌", "status": 401})
        response.headers["WWW-Authenticate"] = 'Bearer realm="duban"'
        return response, 401
    g.api_actor = Actor.of(user)
    return None


def _actor() -> Actor:
    return g.api_actor


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def item_json(item: WorkItem, today: date) -> dict[str, Any]:
    """A work item as the API shows it."""
    return {"id": item.id, "instance_id": item.instance_id, "title": item.title,
            "unit_id": item.unit_id, "role": item.role.value, "kind": item.kind.value,
            "status": item.status.value,
            "due_date": _iso(item.due_date), "days_left": days_left(item.due_date, today),
            "light": light(item.status, item.due_date, today).value,
            "return_reason": item.return_reason}


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document())


@bp.get("/inbox")
def inbox() -> Response:
    """A liaison's actionable items, or a supervisor's review queue."""
    who, s, today = _actor(), db(), today_date()
    policy = request.args.get("policy") or None
    if who.role is Role.LIAISON and who.unit_id:
        items = queries.inbox(s, who.unit_id, policy=policy)
    elif who.role is Role.SUPERVISOR:
        items = queries.review_queue(s, policy=policy)
    else:
        abort(403)
    return jsonify({"items": [item_json(i, today) for i in items]})


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> Response:
    """One item with its task, evidence and reviews (permission-checked by the engine)."""
    d = queries.item_detail(db(), _actor(), item_id)
    today = today_date()
    return jsonify({
        **item_json(d.item, today),
        "task": {"number": d.task.number, "title": d.task.title, "text": d.task.text,
                 "deadline": d.task.deadline, "targets": d.task.targets},
        "cycle": {"label": d.cycle.label, "due_date": _iso(d.cycle.due_date)},
        "evidence": [{"id": e.id, "text": e.text, "numbers": e.numbers,
                      "submitted_at": e.submitted_at.isoformat(),
                      "attachments": [{"id": a.id, "filename": a.filename, "size": a.size}
                                      for a in e.attachments]} for e in d.evidence],
        "reviews": [{"approved": r.approved, "reason": r.reason,
                     "reviewed_at": r.reviewed_at.isoformat()} for r in d.reviews],
    })


@bp.post("/items/<int:item_id>/submit")
def submit(item_id: int) -> Response:
    """Submit evidence: ``{"text": ..., "numbers": {...}, "attachment_ids": [...]}``."""
    s = db()
    _may(s, item_id, Action.SUBMIT)  # who may act is answered before the body is read
    data = body("Submission")
    done = service.submit(s, clock(), _actor(), item_id, text=data["text"],
                          numbers=data.get("numbers") or {},
                          attachment_ids=data.get("attachment_ids") or [])
    s.commit()
    return jsonify(item_json(done, today_date()))


@bp.post("/items/<int:item_id>/review")
def review(item_id: int) -> Response:
    """Review: ``{"approve": true}`` or ``{"approve": false, "reason": "..."}``."""
    s = db()
    _may(s, item_id, Action.REVIEW)
    data = body("Decision")
    done = service.review(s, clock(), _actor(), item_id, approve=data["approve"],
                          reason=data.get("reason"))
    s.commit()
    return jsonify(item_json(done, today_date()))


def _may(s: Session, item_id: int, action: Action) -> None:
    """404 for an item the caller may not see, 403/409 for one it may not act on now."""
    access.require(_actor(), service.get_item(s, _actor(), item_id), action)


@bp.get("/board")
def board() -> Response:
    """A page of the board rows, filtered like the page (supervisors and admins)."""
    if _actor().role is Role.LIAISON:
        abort(403)
    f = BoardFilter(policy=request.args.get("policy") or None,
                    task=small_int(request.args.get("task")),
                    unit=request.args.get("unit") or None,
                    cycle=request.args.get("cycle") or None,
                    status=request.args.get("status") or None)
    page = board_page(db(), today_date(), f, page=small_int(request.args.get("page")) or 1,
                      per_page=small_int(request.args.get("per_page")) or API_PER_PAGE)
    return jsonify({"total": page.total, "page": page.page, "pages": page.pages,
                    "per_page": page.per_page, "lights": dict(page.lights), "rows": [{
        "instance_id": r.instance_id, "policy": r.policy_id, "task_number": r.task_number,
        "task_title": r.task_title,
        "unit_id": r.unit_id, "unit_name": r.unit_name, "cycle": r.cycle_label,
        "due_date": _iso(r.due_date), "status": r.status.value, "light": r.light.value,
        "days_overdue": r.days_overdue, "item_id": r.item_id} for r in page.rows]})
