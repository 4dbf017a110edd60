"""The search page: one box over tasks, units, evidence, notices and bulletins."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import or_, select

from engine import access
from engine.models import Policy
from engine.search import LIMIT, Filters, Hit, like_pattern, search, snippet
from engine.units import unit_names
from notifications.models import Document
from web.params import iso_date
from web.views.common import actor, db, today_date

bp = Blueprint("search", __name__, url_prefix="/search")
KINDS = {"task": "任务", "unit": "单位", "evidence": "报送材料", "document": "通知与通报"}


def _documents(query: str, f: Filters) -> list[Hit]:
    """Notices and bulletins by number or title, as the archive would show them."""
    if not query:
        return []
    pattern = like_pattern(query)
    q = (select(Document).where(or_(Document.title.like(pattern, escape="\\"),
                                    Document.number.like(pattern, escape="\\")))
         .order_by(Document.issued_on.desc()).limit(LIMIT))
    unit = access.readable_addressee(actor())
    if unit is not None:
        q = q.where(or_(Document.unit_id == unit, Document.unit_id.is_(None)))
    if f.policy:
        q = q.where(Document.policy_id == f.policy)
    if f.unit:
        q = q.where(Document.unit_id == f.unit)
    if f.since:
        q = q.where(Document.issued_on >= f.since)
    if f.until:
        q = q.where(Document.issued_on <= f.until)
    return [Hit("document", f"{d.number} {d.title}", snippet(d.title, query),
                {"doc": d.id, "on": d.issued_on}) for d in db().scalars(q)]


@bp.route("/")
@login_required
def index() -> str:
    """Results by kind for the query and its filters."""
    query = (request.args.get("q") or "").strip()
    f = Filters(policy=request.args.get("policy") or None, unit=request.args.get("unit") or None,
                status=request.args.get("status") or None,
                since=iso_date(request.args.get("since")),
                until=iso_date(request.args.get("until")))
    s = db()
    results = search(s, actor(), query, today_date(), f)
    results.hits["document"] = _documents(results.query, f)
    policies = {p.id: p.title for p in s.scalars(select(Policy).order_by(Policy.issued_on))}
    return render_template("search/index.html", r=results, f=f, kinds=KINDS,
                           policies=policies, units=unit_names(s, today_date()), title="搜索")
