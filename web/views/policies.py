"""Policies: the list, one policy with its versions, and importing a table (upload, preview,
map units, correct cells, confirm)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import import_drafts, policies
from engine.importing.jsonout import context, cycles
from engine.models import PolicyStatus, PolicyVersion, Role, Unit
from engine.units import unit_names
from web.auth import role_required
from web.forms import ConfirmForm, PolicyUploadForm
from web.views.common import act, actor, clock, db, today_date

bp = Blueprint("policies", __name__, url_prefix="/policies")
STAFF = (Role.SUPERVISOR, Role.ADMIN)


@bp.route("/")
@role_required(*STAFF)
def index() -> str:
    """Every policy, active and archived, with its tasks and obligations."""
    return render_template("policies/index.html", rows=policies.policies_json(db()),
                           confirm=ConfirmForm(), title="政策")


@bp.route("/<policy_id>")
@role_required(*STAFF)
def show(policy_id: str) -> str:
    """One policy: its tasks as stored, its versions and what changed in each."""
    s = db()
    row = policies.get(s, policy_id)
    versions = list(s.scalars(select(PolicyVersion).where(PolicyVersion.policy_id == policy_id)
                              .order_by(PolicyVersion.version.desc())))
    return render_template("policies/show.html", policy=row, tasks=policies.tasks_json(s, row),
                           versions=versions, confirm=ConfirmForm(), title=row.title)


@bp.route("/<policy_id>/status", methods=["POST"])
@role_required(*STAFF)
def status(policy_id: str) -> Response:
    """Archive the policy, or make it active again."""
    if not ConfirmForm().validate():
        abort(400)
    wanted = request.form.get("status", "")
    if wanted not in {s.value for s in PolicyStatus}:
        abort(400)
    act(lambda: policies.set_status(db(), clock(), actor(), policy_id, PolicyStatus(wanted)),
        "政策已归档，不再开启新周期。" if wanted == "archived" else "政策已恢复执行。")
    return redirect(url_for(".show", policy_id=policy_id))


@bp.route("/import", methods=["GET", "POST"])
@role_required(*STAFF)
def upload() -> str | Response:
    """Upload a decomposition table (text, CSV, XLSX, DOCX, PDF) for its preview."""
    form = PolicyUploadForm()
    if form.validate_on_submit():
        file = form.file.data
        data = file.stream.read(import_drafts.MAX_UPLOAD + 1)
        draft = act(lambda: import_drafts.create(
            db(), clock(), actor(), filename=file.filename or "上传文件", data=data,
            policy_id=(form.policy_id.data or "").strip() or None,
            title=(form.title.data or "").strip() or None, issued_on=form.issued_on.data))
        if draft is not None:
            return redirect(url_for(".preview", draft_id=draft.id))
    return render_template("policies/upload.html", form=form, title="导入任务分解表")


@bp.route("/import/<int:draft_id>")
@role_required(*STAFF)
def preview(draft_id: int) -> str:
    """The table as read: every task, every cell's reading, every problem, unknown units."""
    s = db()
    shown = import_drafts.preview(s, import_drafts.get(s, actor(), draft_id))
    ctx = context(shown.result)
    dues = {t.number: cycles(t, ctx)[:6] for t in shown.result.tasks}
    units = unit_names(s, today_date())
    supervisors = sorted({u.id for u in s.scalars(select(Unit))})
    return render_template("policies/preview.html", p=shown, units=units,
                           supervisors=supervisors, confirm=ConfirmForm(), new=import_drafts.NEW,
                           dues=dues,
                           fields=import_drafts.FIELDS, title="导入预览")


@bp.route("/import/<int:draft_id>/map", methods=["POST"])
@role_required(*STAFF)
def map_unit(draft_id: int) -> Response:
    """Map an unknown unit name to a registered unit, or mark it to be created."""
    if not ConfirmForm().validate():
        abort(400)
    s = db()
    draft = import_drafts.get(s, actor(), draft_id)
    name, unit_id = request.form.get("name", ""), request.form.get("unit_id", "")
    act(lambda: import_drafts.map_unit(s, draft, name, unit_id), f"已处理“{name}”。")
    return redirect(url_for(".preview", draft_id=draft_id) + "#units")


@bp.route("/import/<int:draft_id>/correct", methods=["POST"])
@role_required(*STAFF)
def correct(draft_id: int) -> Response:
    """Correct the cells of one task; the preview reads them again."""
    if not ConfirmForm().validate():
        abort(400)
    s = db()
    draft = import_drafts.get(s, actor(), draft_id)
    number = request.form.get("number", "")
    if not number.isascii() or not number.isdigit():
        abort(400)
    fields = {k: request.form.get(k, "") for k in import_drafts.FIELDS if k in request.form}
    act(lambda: import_drafts.correct(s, actor(), draft, int(number), fields),
        f"任务{number}已更正，已重新识别。")
    return redirect(url_for(".preview", draft_id=draft_id) + f"#task-{number}")


@bp.route("/import/<int:draft_id>/confirm", methods=["POST"])
@role_required(*STAFF)
def confirm(draft_id: int) -> Response:
    """Write the policy and its processes in one transaction."""
    if not ConfirmForm().validate():
        abort(400)
    s = db()
    draft = import_drafts.get(s, actor(), draft_id)
    supervisor = request.form.get("supervisor") or None
    done = act(lambda: import_drafts.confirm(s, clock(), actor(), draft, supervisor))
    if done is None:
        return redirect(url_for(".preview", draft_id=draft_id))
    flash(f"已导入政策 {done.id}（第 {done.version} 版，{len(done.tasks)} 项任务）。", "success")
    return redirect(url_for(".show", policy_id=done.id))
