"""A work item: the task, the evidence form, drafts, submission, extension requests, files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from engine import access, checkins, plans, queries, service
from engine.attachments import ACCEPT, ALLOWED_TEXT, MAX_FILES_PER_REQUEST, discard_unclaimed
from engine.errors import ValidationError
from engine.models import (
    Attachment,
    Evidence,
    Instance,
    ItemKind,
    ProgressReport,
    Role,
    WorkItem,
)
from engine.units import unit_names
from web.auth import role_required
from web.forms import EvidenceForm, ExtensionRequestForm, ProgressForm, ReviewForm
from web.params import MAX_ID, small_int
from web.views.common import act, actor, clock, db, runtime, today_date
from web.views.files import attachment_response, store_files

bp = Blueprint("items", __name__, url_prefix="/items")
PLAN_ROWS = 8  # milestone rows the plan form offers


@bp.route("/<int:item_id>")
@login_required
def show(item_id: int) -> str:
    """The item page: task text, cycle, due date, contributions, evidence, history, forms."""
    return _page(item_id)


def _page(item_id: int, progress_form: ProgressForm | None = None,
          progress_numbers: dict[str, str] | None = None) -> str:
    """The item page; a refused progress report shown again as typed."""
    s = db()
    detail = queries.item_detail(s, actor(), item_id)
    draft: dict[str, Any] = detail.item.draft or {}
    form = EvidenceForm(data={"text": draft.get("text", "")})
    ids = {detail.instance.lead_unit_id, *(w.unit_id for w, _ in detail.contributions)}
    drafted = _draft_attachments(draft)
    return render_template(
        "items/show.html", d=detail, form=form, ext_form=ExtensionRequestForm(),
        review_form=ReviewForm(), progress_form=progress_form or ProgressForm(formdata=None),
        progress_numbers=progress_numbers or {},
        numbers=draft.get("numbers") or _last_numbers(detail), drafted=drafted,
        units=unit_names(s, today_date(), ids), title=detail.item.title,
        max_mb=runtime().config.upload_max_bytes // (1024 * 1024), accept=ACCEPT,
        allowed=ALLOWED_TEXT, plan_rows=PLAN_ROWS)


def _last_numbers(detail: queries.ItemDetail) -> dict[str, Any]:
    """The numbers of the latest evidence, to prefill a resubmission."""
    return dict(detail.evidence[-1].numbers) if detail.evidence else {}


def _draft_attachments(draft: dict[str, Any]) -> list[Attachment]:
    """The unclaimed attachments a draft refers to (of the user's own unit)."""
    ids = [v for i in draft.get("attachment_ids", []) if (v := small_int(str(i), maximum=MAX_ID))]
    if not ids:
        return []
    found = db().scalars(select(Attachment).where(Attachment.id.in_(ids))).all()
    by_id = {a.id: a for a in found}
    return [a for i in ids if (a := by_id.get(i)) is not None and a.evidence_id is None
            and a.unit_id == current_user.unit_id]


def _numbers(item: WorkItem) -> dict[str, str]:
    """The task's numbers as typed (the engine validates them)."""
    if item.kind not in (ItemKind.EVIDENCE, ItemKind.PROGRESS):
        return {}
    out = {}
    for target in item.instance.task.targets:
        raw = request.form.get(f"num_{target['key']}", "").strip()
        if raw:
            out[target["key"]] = raw
    return out


@bp.route("/<int:item_id>/evidence", methods=["POST"])
@role_required(Role.LIAISON)
def evidence(item_id: int) -> Response:
    """Save the draft or submit the evidence, with uploaded files."""
    s, who = db(), actor()
    item = service.get_item(s, who, item_id)  # only what the form needs, permission-checked
    form = EvidenceForm()
    if not form.validate():
        abort(400)
    files: list[FileStorage] = [f for f in request.files.getlist(form.files.name) if f.filename]
    if len(files) > MAX_FILES_PER_REQUEST:
        flash(f"一次最多上传 {MAX_FILES_PER_REQUEST} 个文件。", "error")
        return redirect(url_for(".show", item_id=item_id))
    kept = [a.id for a in _draft_attachments(item.draft or {})]
    removed = {v for i in request.form.getlist("remove_attachment")
               if (v := small_int(i, maximum=MAX_ID))}
    if removed & set(kept):
        act(lambda: discard_unclaimed(s, runtime().config.blob_dir, who.unit_id or "",
                                      sorted(removed & set(kept))))
    kept = [i for i in kept if i not in removed]
    new_ids = act(lambda: store_files(s, who, files)) if files else []
    if new_ids is None:
        return redirect(url_for(".show", item_id=item_id))
    attachment_ids = kept + new_ids
    text, numbers = form.text.data or "", _numbers(item)
    if request.form.get("action") == "submit":
        done = act(lambda: service.submit(s, clock(), who, item_id, text=text, numbers=numbers,
                                          attachment_ids=attachment_ids), "已提交，等待审核。")
        if done is not None:
            return redirect(url_for("inbox.index"))
        _keep_draft(item_id, text, numbers, attachment_ids)
        return redirect(url_for(".show", item_id=item_id))
    act(lambda: service.save_draft(s, clock(), who, item_id, {
        "text": text, "numbers": numbers, "attachment_ids": attachment_ids}), "草稿已保存。")
    return redirect(url_for(".show", item_id=item_id))


def _keep_draft(item_id: int, text: str, numbers: dict[str, str], ids: list[int]) -> None:
    """After a refused submission keep what was typed and uploaded as the draft."""
    s = db()
    try:
        service.save_draft(s, clock(), actor(), item_id, {
            "text": text, "numbers": numbers, "attachment_ids": ids})
        s.commit()
    except ValidationError:
        s.rollback()


@bp.route("/<int:item_id>/extension", methods=["POST"])
@role_required(Role.LIAISON)
def extension(item_id: int) -> Response:
    """File a 延期申请 for the item."""
    s, who = db(), actor()
    service.get_item(s, who, item_id)
    form = ExtensionRequestForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(f"延期申请：{message}", "error")
        return redirect(url_for(".show", item_id=item_id))
    act(lambda: service.request_extension(
        s, clock(), who, item_id, new_due=form.new_due.data, reason=form.reason.data or "",
        progress=form.progress.data or None), "延期申请已提交，等待督查人员审批。")
    return redirect(url_for(".show", item_id=item_id))


@bp.route("/files/<int:attachment_id>")
@login_required
def download(attachment_id: int) -> Response:
    """An attachment, for the units and people engine.access allows."""
    s = db()
    att = s.get(Attachment, attachment_id)
    lead = None
    if att is not None and att.evidence_id is not None:
        lead = s.scalar(select(Instance.lead_unit_id).join(
            Evidence, Evidence.instance_id == Instance.id).where(Evidence.id == att.evidence_id))
    elif att is not None and att.progress_report_id is not None:
        lead = s.scalar(select(Instance.lead_unit_id).join(
            ProgressReport, ProgressReport.instance_id == Instance.id).where(
            ProgressReport.id == att.progress_report_id))
    if att is None or not access.may_download(actor(), att, lead):
        abort(404)
    return attachment_response(att)


@bp.route("/<int:item_id>/ack", methods=["POST"])
@role_required(Role.LIAISON)
def acknowledge(item_id: int) -> Response:
    """签收: one button, from the inbox or the item page."""
    s, who = db(), actor()
    service.get_item(s, who, item_id)
    done = act(lambda: checkins.acknowledge(s, clock(), who, item_id), "已签收。")
    return redirect(url_for("inbox.index") if done is not None else
                    url_for(".show", item_id=item_id))


@bp.route("/<int:item_id>/progress", methods=["POST"])
@role_required(Role.LIAISON)
def progress(item_id: int) -> Response | str:
    """进展报送: text, numbers so far, problems to coordinate, next steps, attachments.
    A refused report is shown again as typed (a progress item keeps no draft)."""
    s, who = db(), actor()
    item = service.get_item(s, who, item_id)
    form = ProgressForm()
    numbers = _numbers(item)
    if not form.validate():
        for errors in form.errors.values():
            flash("；".join(errors), "error")
        return _page(item_id, form, numbers)
    files: list[FileStorage] = [f for f in request.files.getlist(form.files.name) if f.filename]
    if len(files) > MAX_FILES_PER_REQUEST:
        flash(f"一次最多上传 {MAX_FILES_PER_REQUEST} 个文件。", "error")
        return _page(item_id, form, numbers)
    ids = act(lambda: store_files(s, who, files)) if files else []
    if ids is None:
        return _page(item_id, form, numbers)
    done = act(lambda: checkins.report_progress(
        s, clock(), who, item_id, text=form.text.data or "", numbers=numbers,
        problems=form.problems.data, next_steps=form.next_steps.data, attachment_ids=ids,
        reached=[v for i in request.form.getlist("reached")
                 if (v := small_int(i, maximum=MAX_ID))]),
        "工作进展已报送。")
    if done is None:
        return _page(item_id, form, numbers)
    return redirect(url_for("inbox.index"))


@bp.route("/<int:item_id>/plan", methods=["POST"])
@role_required(Role.LIAISON)
def plan(item_id: int) -> Response:
    """形象进度: the lead unit proposes (or resubmits) its milestones."""
    s, who = db(), actor()
    item = service.get_item(s, who, item_id)
    keys = [t["key"] for t in item.instance.task.targets]
    rows = []
    for i in range(PLAN_ROWS):
        name = request.form.get(f"m{i}_name", "").strip()
        day = request.form.get(f"m{i}_date", "").strip()
        amounts = {k: v for k in keys if (v := request.form.get(f"m{i}_{k}", "").strip())}
        if name or day or amounts:
            rows.append({"name": name, "due_on": day or None, "amounts": amounts})
    done = act(lambda: plans.propose(s, clock(), who, item_id, milestones=rows,
                                     note=request.form.get("note")),
               "形象进度计划已报送，等待督查人员审核。")
    return redirect(url_for("inbox.index") if done is not None else
                    url_for(".show", item_id=item_id))


@bp.route("/<int:item_id>/plan/decide", methods=["POST"])
@role_required(Role.SUPERVISOR)
def decide_plan(item_id: int) -> Response:
    """A supervisor approves the plan or returns it with a reason."""
    decision = request.form.get("decision")
    if decision not in ("approve", "return"):
        abort(400)
    s, who = db(), actor()
    approve = decision == "approve"
    ok = "已批准形象进度计划。" if approve else "已退回形象进度计划，等待单位修改后重新报送。"
    done = act(lambda: plans.decide(s, clock(), who, item_id, approve=approve,
                                    reason=request.form.get("reason")), ok)
    return redirect(url_for("review.queue") if done is not None else
                    url_for(".show", item_id=item_id))
