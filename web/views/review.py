"""The supervisor's queue: review submissions, decide extension requests."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, load_only
from werkzeug.wrappers import Response

from engine import plans, queries, service
from engine.clock import CHINA_TZ
from engine.lights import signal
from engine.models import Evidence, Instance, ItemStatus, Role
from engine.units import unit_names
from web.auth import role_required
from web.forms import ExtensionDecisionForm, ReviewForm
from web.views.common import act, actor, clock, db, policy_scope, today_date
from web.views.rows import instance_labels, item_rows

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.route("/")
@role_required(Role.SUPERVISOR)
def queue() -> str:
    """Submissions waiting for a decision, the earliest review deadline first."""
    s, today = db(), today_date()
    policy, policies = policy_scope()
    rows = item_rows(s, queries.review_queue(s, policy=policy), today)
    plan_rows = item_rows(s, plans.plan_items_waiting(s, policy), today)
    ids = [r.item.instance_id for r in rows]
    submitted = _latest_submission(s, ids)
    dues: dict[int, date | None] = {  # the obligations' own due dates
        iid: due for iid, due in s.execute(
            select(Instance.id, Instance.due_date).where(Instance.id.in_(ids)))}
    signals = {iid: signal(ItemStatus.SUBMITTED, dues.get(iid), today,
                           _day(submitted[iid].submitted_at) if iid in submitted else None)
               for iid in ids}
    return render_template("review/queue.html", rows=rows, title="待审核", policy=policy,
                           policies=policies,
                           plan_rows=plan_rows,
                           units=unit_names(s, today, {r.lead_unit_id
                                                       for r in rows + plan_rows}),
                           submitted=submitted, dues=dues, signals=signals)


def _day(at: datetime) -> date:
    """The China-time date of a timestamp."""
    return at.astimezone(CHINA_TZ).date()


def _latest_submission(s: Session, instance_ids: list[int]) -> dict[int, Evidence]:
    """Instance id -> the lead unit's latest evidence (not a supporting unit's contribution)."""
    if not instance_ids:
        return {}
    latest: dict[int, Evidence] = {}
    q = (select(Evidence).join(Instance, Instance.id == Evidence.instance_id)
         .where(Evidence.instance_id.in_(instance_ids),
                Evidence.unit_id == Instance.lead_unit_id)
         .order_by(Evidence.id).options(load_only(Evidence.instance_id, Evidence.submitted_at)))
    for ev in s.scalars(q):
        latest[ev.instance_id] = ev
    return latest


@bp.route("/<int:item_id>", methods=["POST"])
@role_required(Role.SUPERVISOR)
def decide(item_id: int) -> Response:
    """Approve, or return with a reason (required)."""
    form = ReviewForm()
    decision = request.form.get("decision")
    if not form.validate() or decision not in ("approve", "return"):
        abort(400)
    reason = (form.reason.data or "").strip()
    if decision == "return" and not reason:
        flash("退回时请填写退回理由。", "error")
        return redirect(url_for("items.show", item_id=item_id))
    s, who = db(), actor()
    ok = "已审核通过，事项办结销号。" if decision == "approve" else "已退回，等待单位重新报送。"
    done = act(lambda: service.review(s, clock(), who, item_id, approve=decision == "approve",
                                      reason=reason or None), ok)
    if done is None:
        return redirect(url_for("items.show", item_id=item_id))
    return redirect(url_for(".queue"))


@bp.route("/extensions")
@role_required(Role.SUPERVISOR)
def extensions() -> str:
    """Pending extension requests."""
    s, today = db(), today_date()
    pending = queries.pending_extensions(s)
    labels = instance_labels(s, (x.instance_id for x in pending))
    return render_template("review/extensions.html", pending=pending, labels=labels,
                           units=unit_names(s, today, {x.unit_id for x in pending}),
                           form=ExtensionDecisionForm(), title="延期申请")


@bp.route("/extensions/<int:request_id>", methods=["POST"])
@role_required(Role.SUPERVISOR)
def decide_extension(request_id: int) -> Response:
    """Approve (with the requested or another date) or reject a request."""
    form = ExtensionDecisionForm()
    decision = request.form.get("decision")
    if not form.validate() or decision not in ("approve", "reject"):
        flash("请填写有效的日期。", "error")
        return redirect(url_for(".extensions"))
    s, who = db(), actor()
    act(lambda: service.decide_extension(
        s, clock(), who, request_id, approve=decision == "approve", due=form.due.data,
        note=(form.note.data or "").strip() or None),
        "已批准延期，新的截止日期已生效。" if decision == "approve" else "已驳回延期申请。")
    return redirect(url_for(".extensions"))
