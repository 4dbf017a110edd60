"""The process view: an instance's BPMN diagram (bpmn-js), its marked steps and audit trail."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import audit, queries
from engine.models import Instance, Role, User, WorkItem
from engine.units import unit_names
from web.auth import role_required
from web.forms import UrgeForm
from web.views.common import act, clock, db, today_date

bp = Blueprint("process", __name__, url_prefix="/process")
COMPLETED, READY, STARTED, WAITING = 64, 16, 32, 8


def element_states(state_json: str, bpmn_xml: str) -> tuple[list[str], list[str]]:
    """(completed, current) BPMN element ids read from a serialized SpiffWorkflow state."""
    ids = set(re.findall(r'\bid="([^"]+)"', bpmn_xml))
    state = json.loads(state_json)
    tasks: list[dict[str, Any]] = list(state.get("tasks", {}).values())
    for sub in (state.get("subprocesses") or {}).values():
        tasks.extend((sub.get("tasks") or {}).values())
    completed: set[str] = set()
    current: set[str] = set()
    for task in tasks:
        name = task.get("task_spec", "")
        if name not in ids:
            continue
        if task.get("state") == COMPLETED:
            completed.add(name)
        elif task.get("state") in (READY, STARTED):
            current.add(name)
    return sorted(completed - current), sorted(current)


def _visible_instance(instance_id: int) -> Instance:
    """The instance if the user may see it; a liaison only when the own unit takes part."""
    s = db()
    inst = s.get(Instance, instance_id)
    if inst is None:
        abort(404)
    if current_user.role == Role.LIAISON:
        takes_part = s.scalar(select(WorkItem.id).where(
            WorkItem.instance_id == inst.id, WorkItem.unit_id == current_user.unit_id).limit(1))
        if inst.lead_unit_id != current_user.unit_id and takes_part is None:
            abort(404)
    return inst


@bp.route("/<int:instance_id>")
@login_required
def show(instance_id: int) -> str:
    """The diagram with completed and current steps, and the audit trail beside it."""
    s, today = db(), today_date()
    inst = _visible_instance(instance_id)
    items = list(s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id)
                           .order_by(WorkItem.id)))
    if current_user.role == Role.LIAISON:
        items = [w for w in items if w.unit_id == current_user.unit_id]
    return render_template(
        "board/process.html", inst=inst, items=items, history=queries.instance_history(s, inst.id),
        units=unit_names(s, today, {inst.lead_unit_id, *(w.unit_id for w in items)}),
        urge_form=UrgeForm(), title=f"流程 · 任务{inst.task.number}")


@bp.route("/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int) -> Response:
    """The BPMN XML and the element ids to mark, for the viewer script."""
    inst = _visible_instance(instance_id)
    completed, current = element_states(inst.state, inst.spec.bpmn_xml)
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
    from engine.errors import ValidationError
    from notifications.mail import enqueue
    from notifications.models import Notification

    s, now = db(), clock().now()
    unit = inst.lead_unit
    name = unit.name_on(today_date())
    to = [u.email for u in s.scalars(select(User).where(
        User.unit_id == unit.id, User.active.is_(True), User.email.is_not(None))) if u.email]
    if unit.email:
        to.append(unit.email)
    if not to:
        raise ValidationError(f"{name}没有登记邮箱，无法发送催办邮件")
    due = inst.due_date.isoformat() if inst.due_date else "长期"
    subject = f"【催办】任务{inst.task.number}（{inst.cycle.label}）请抓紧办理"
    text = (f"{name}：\n\n任务{inst.task.number}“{inst.task.title}”（{inst.cycle.label}，"
            f"截止日期 {due}）尚未办结，请抓紧办理并报送佐证材料。\n\n{message}\n")
    enqueue(s, clock(), dedupe_key=f"urge:{inst.id}:{now.isoformat()}", kind="urge",
            to=sorted(set(to)), subject=subject, text=text, related=("instance", inst.id))
    s.add(Notification(unit_id=unit.id, kind="urge", title=subject, body=text,
                       link=url_for("process.show", instance_id=inst.id), created_at=now))
    audit.record(s, clock(), actor=current_user.username, action="urge", object_type="instance",
                 object_id=str(inst.id), after={"to": sorted(set(to)), "message": message})
