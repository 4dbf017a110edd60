"""The liaison's pages: 待办 inbox, 已办 done items, notifications."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from engine import queries
from engine.models import Role
from engine.units import unit_names
from web.auth import role_required
from web.params import small_int
from web.views.common import db, policy_scope, today_date
from web.views.rows import item_rows

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
PAGE_SIZE = 50


def _page() -> int:
    """The requested page number (1 when missing or malformed)."""
    return small_int(request.args.get("page")) or 1


@bp.route("/")
@role_required(Role.LIAISON)
def index() -> str:
    """The unit's open and returned work, the earliest due first, with lights."""
    page = _page()
    s, today = db(), today_date()
    policy, policies = policy_scope()
    items = queries.inbox(s, current_user.unit_id, limit=PAGE_SIZE + 1,
                          offset=(page - 1) * PAGE_SIZE, policy=policy)
    rows = item_rows(s, items[:PAGE_SIZE], today)
    lights = Counter(r.light.value for r in rows)
    return render_template("inbox/index.html", rows=rows, page=page, lights=lights,
                           has_next=len(items) > PAGE_SIZE, title="待办事项",
                           policy=policy, policies=policies,
                           units=unit_names(s, today, {r.lead_unit_id for r in rows}))


@bp.route("/done")
@role_required(Role.LIAISON)
def done() -> str:
    """Items the unit has submitted or finished, with the review outcome."""
    s, today = db(), today_date()
    policy, policies = policy_scope()
    rows = item_rows(s, queries.done(s, current_user.unit_id, policy=policy), today)
    return render_template("inbox/done.html", rows=rows, title="已办事项", policy=policy,
                           policies=policies)


@bp.route("/notifications", methods=["GET", "POST"])
@role_required(Role.LIAISON, Role.SUPERVISOR, Role.ADMIN)
def notifications() -> str | Response:
    """The user's in-app notifications, newest first; POST marks them read."""
    from web.views.notices import list_notifications, mark_read

    if request.method == "POST":
        return mark_read(current_user.id)
    return render_template("inbox/notifications.html", title="通知",
                           notes=list_notifications(current_user.id))
