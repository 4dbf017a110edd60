"""The process view: an instance's BPMN diagram (bpmn-js), its marked steps and audit trail."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import access, bpmn, lifecycle, queries
from engine.models import EscalationLevel, Instance, ItemRole, Role, WorkItem
from engine.units import unit_names
from web.auth import role_required
from web.forms import InterviewForm, UrgeForm
from web.views.common import act, actor, clock, db, today_date

bp = Blueprint("process", __name__, url_prefix="/process")


def _visible_instance(instance_id: int) -> Instance:
    """The instance if the user may see it (engine.access): 404 otherwise."""
    s = db()
    inst = s.get(Instance, instance_id)
    if inst is None:
        abort(404)
    units = set(s.scalars(select(WorkItem.unit_id).where(WorkItem.instance_id == inst.id)))
    if not access.may_see_instance(actor(), inst, units):
        abort(404)
    return inst


@bp.route("/<int:instance_id>")
@login_required
def show(instance_id: int) -> str:
    """The diagram with completed and current steps, and the audit trail beside it."""
    s, today = db(), today_date()
    inst = _visible_instance(instance_id)
    who = actor()
    items = list(s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id)
                           .order_by(WorkItem.id)))
    whole = access.View.HISTORY in access.views(who, inst)
    if not whole:
        items = [w for w in items if w.unit_id == who.unit_id]
    # the audit log's id is the true order: actions on a standing clock share their time
    history = (queries.instance_history(s, inst.id) if whole else
               sorted((e for w in items for e in queries.audit_history(s, "work_item", w.id)),
                      key=lambda e: e.id))
    lead = next((w for w in items if w.role is ItemRole.LEAD), None)
    return render_template(
        "board/process.html", inst=inst, items=items, history=history,
        units=unit_names(s, today, {inst.lead_unit_id, *(w.unit_id for w in items)}),
        urge_form=UrgeForm(), title=f"流程 · 任务{inst.task.number}", lead=lead,
        ladder=lifecycle.history(s, [lead.id]) if lead else [],
        met=lifecycle.interviews(s, [lead.id]) if lead else [],
        may_interview=_may_interview(lead), interview_form=InterviewForm())


def _may_interview(lead: WorkItem | None) -> bool:
    """The 约谈 form: supervisors, on a lead item past its 二次督办 (engine.lifecycle's table)."""
    return (lead is not None and access.may_urge(actor()) and
            EscalationLevel.INTERVIEWED in lifecycle.LEVEL_RULES[lead.escalation])


@bp.route("/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int) -> Response:
    """The BPMN XML and the element ids to mark, for the viewer script."""
    inst = _visible_instance(instance_id)
    completed, current = bpmn.element_states(inst.state, inst.spec.bpmn_xml)
    response = jsonify({"xml": inst.spec.bpmn_xml, "completed": completed, "current": current})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:instance_id>/urge", methods=["POST"])
@role_required(Role.SUPERVISOR)
def urge(instance_id: int) -> Response:
    """A manual 催办: a mail to the lead unit through the outbox, recorded in the audit log."""
    inst = _visible_instance(instance_id)
    form = UrgeForm()
    if not form.validate():
        abort(400)
    act(lambda: _enqueue_urge(inst, (form.message.data or "").strip()),
        "催办通知已进入发件队列。")
    return redirect(url_for(".show", instance_id=inst.id))


def _enqueue_urge(inst: Instance, message: str) -> None:
    """Queue the 催办 mail and an in-app note for the lead unit."""
    from notifications.reminders import manual_urge

    manual_urge(db(), clock(), actor=actor(), inst=inst, message=message,
                link=url_for("process.show", instance_id=inst.id))


@bp.route("/<int:instance_id>/interview", methods=["POST"])
@role_required(Role.SUPERVISOR)
def interview(instance_id: int) -> Response:
    """Record a 约谈 on the obligation's lead item (engine.lifecycle.record_interview)."""
    inst = _visible_instance(instance_id)
    form = InterviewForm()
    if not form.validate():
        flash("；".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for(".show", instance_id=inst.id))
    lead = db().scalars(select(WorkItem).where(WorkItem.instance_id == inst.id,
                                               WorkItem.role == ItemRole.LEAD)).first()
    if lead is None:
        abort(404)
    act(lambda: lifecycle.record_interview(
        db(), clock(), actor(), lead.id, held_on=form.held_on.data,
        interviewee=form.interviewee.data or "", summary=form.summary.data or ""),
        "约谈情况已记录。")
    return redirect(url_for(".show", instance_id=inst.id))
