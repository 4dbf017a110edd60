"""Administration: users, units, the simulated clock and the mail outbox."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from engine import admin, registry
from engine.errors import ClockError, DubanError
from engine.models import Role, Unit, UnitKind, User
from engine.units import unit_names
from web.auth import role_required
from web.forms import ClockForm, ConfirmForm, UnitNameForm, UserForm
from web.views.common import act, actor, clock, clock_is_simulated, db, runtime, today_date

bp = Blueprint("admin", __name__, url_prefix="/admin")
MAX_ADVANCE_DAYS = 400
OUTBOX_LIMIT = 200
OUTBOX_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败",
                 "skipped": "未发送（已过时）"}


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users() -> str | Response:
    """Every account; the form creates one and shows its password once."""
    s = db()
    form = UserForm()
    names = unit_names(s, today_date())
    form.unit_id.choices = [SelectChoice("", "（无）")] + [
        SelectChoice(uid, name) for uid, name in names.items()]
    if form.validate_on_submit():
        made = act(lambda: admin.create_account(
            s, clock(), actor(), username=form.username.data,
            display_name=form.display_name.data, role=Role(form.role.data),
            unit_id=form.unit_id.data or None, email=form.email.data or None))
        if made is not None:
            return render_template("admin/secret.html", title="账号已创建", user=made[0],
                                   secret=made[1], what="初始密码（首次登录后须修改）")
    rows = list(s.scalars(select(User).order_by(User.role, User.unit_id, User.username)))
    return render_template("admin/users.html", users=rows, form=form, units=names,
                           confirm=ConfirmForm(), title="用户管理")


def _confirmed() -> None:
    if not ConfirmForm().validate():
        abort(400)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required(Role.ADMIN)
def toggle_active(user_id: int) -> Response:
    """Deactivate or reactivate an account (never one's own); its sessions end."""
    _confirmed()
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    done = act(lambda: admin.set_active(db(), clock(), actor(), user_id, not user.active))
    if done is not None:
        flash(f"账号 {done.username} 已{'启用' if done.active else '停用'}。", "success")
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@role_required(Role.ADMIN)
def reset_password(user_id: int) -> str | Response:
    """A new random password, shown once; the user's sessions and API token end."""
    _confirmed()
    done = act(lambda: admin.reset_password(db(), clock(), actor(), user_id))
    if done is None:
        return redirect(url_for(".users"))
    return render_template("admin/secret.html", title="密码已重置", user=done[0],
                           secret=done[1], what="新密码（登录后须修改；API 令牌已作废）")


@bp.route("/users/<int:user_id>/token", methods=["POST"])
@role_required(Role.ADMIN)
def issue_token(user_id: int) -> str | Response:
    """A new API token, shown once (only its SHA-256 is stored)."""
    _confirmed()
    done = act(lambda: admin.issue_token(db(), clock(), actor(), user_id))
    if done is None:
        return redirect(url_for(".users"))
    return render_template("admin/secret.html", title="API 令牌已签发", user=done[0],
                           secret=done[1], what="API 令牌（Authorization: Bearer …）")


@bp.route("/users/<int:user_id>/token/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def revoke_token(user_id: int) -> Response:
    """Withdraw the user's API token."""
    _confirmed()
    done = act(lambda: admin.revoke_token(db(), clock(), actor(), user_id))
    if done is not None:
        flash(f"账号 {done.username} 的 API 令牌已撤销。", "success")
    return redirect(url_for(".users"))


@bp.route("/units")
@role_required(Role.ADMIN)
def units() -> str:
    """Units with their names over time and their liaison accounts."""
    s = db()
    rows = list(s.scalars(select(Unit).order_by(Unit.sort_order)))
    liaisons: dict[str, list[User]] = {}
    for user in s.scalars(select(User).where(User.unit_id.is_not(None)).order_by(User.username)):
        liaisons.setdefault(user.unit_id or "", []).append(user)
    return render_template("admin/units.html", units=rows, liaisons=liaisons,
                           form=UnitNameForm(), groups=registry.groups(s),
                           names=unit_names(s, today_date()), confirm=ConfirmForm(),
                           kinds=UNIT_KINDS, title="单位管理")


UNIT_KINDS = {"city": "市（县、区）政府", "department": "部门", "other": "其他单位"}


@bp.route("/units/new", methods=["POST"])
@role_required(Role.ADMIN)
def create_unit() -> Response:
    """Register a unit (shared by every policy)."""
    _confirmed()
    s = db()
    kind = request.form.get("kind", "other")
    if kind not in UNIT_KINDS:
        abort(400)
    act(lambda: registry.create_unit(
        s, clock(), actor(), unit_id=registry.new_unit_id(s), name=request.form.get("name", ""),
        kind=UnitKind(kind), short_name=request.form.get("short_name") or None), "单位已登记。")
    return redirect(url_for(".units"))


@bp.route("/groups", methods=["POST"])
@role_required(Role.ADMIN)
def set_group() -> Response:
    """Define a group phrase (各区县政府) and its members; no members removes it."""
    _confirmed()
    members = [m for m in request.form.getlist("members") if m]
    act(lambda: registry.set_group(db(), clock(), actor(), request.form.get("name", ""),
                                   members), "单位组已保存。")
    return redirect(url_for(".units") + "#groups")


@bp.route("/units/<unit_id>/names", methods=["POST"])
@role_required(Role.ADMIN)
def rename_unit(unit_id: str) -> Response:
    """A new name valid from a date; the previous name ends that day."""
    form = UnitNameForm()
    if not form.validate():
        flash("请填写新名称和启用日期。", "error")
        return redirect(url_for(".units"))
    act(lambda: admin.rename_unit(db(), clock(), actor(), unit_id, name=form.name.data,
                                  short_name=form.short_name.data,
                                  valid_from=form.valid_from.data), "单位名称已更新。")
    return redirect(url_for(".units"))


@bp.route("/clock", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def clock_page() -> str | Response:
    """Show the clock; on a simulated clock, advance it day by day running the scheduler."""
    from notifications.advance import advance

    form = ClockForm()
    if form.validate_on_submit():
        try:
            days = advance(runtime(), form.until.data, max_days=MAX_ADVANCE_DAYS)
            if not days:
                raise ClockError("目标日期须晚于当前模拟日期（时钟不能倒退）")
            flash(f"时钟已推进 {len(days)} 天，调度步骤已逐日运行。", "success")
        except DubanError as exc:  # backwards, busy (SQLite), or a step failed on a day
            flash(str(exc), "error")
        return redirect(url_for(".clock_page"))
    return render_template("admin/clock.html", form=form, now=clock().now(),
                           simulated=clock_is_simulated(), title="时钟")


@bp.route("/outbox")
@role_required(Role.ADMIN)
def outbox() -> str:
    """The mail outbox: status, attempts, errors, notes; failed messages can be sent again."""
    from notifications.mail import outbox_counts
    from notifications.models import OutboxMessage
    from notifications.outbox import attention

    status = request.args.get("status", "")
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(OUTBOX_LIMIT)
    if status:
        q = q.where(OutboxMessage.status == status)
    return render_template("admin/outbox.html", messages=list(db().scalars(q)), status=status,
                           counts=outbox_counts(db()), attention=attention(db(), clock()),
                           confirm=ConfirmForm(), title="发件箱", labels=OUTBOX_LABELS)


@bp.route("/outbox/<int:msg_id>/retry", methods=["POST"])
@role_required(Role.ADMIN)
def retry(msg_id: int) -> Response:
    """Queue one failed message again."""
    from notifications.outbox import retry_failed

    _confirmed()
    done = act(lambda: retry_failed(db(), clock(), actor(), msg_id))
    flash("已重新排队发送。" if done else "只有发送失败的邮件可以重发。",
          "success" if done else "error")
    return redirect(url_for(".outbox"))


@bp.route("/outbox/retry-all", methods=["POST"])
@role_required(Role.ADMIN)
def retry_all() -> Response:
    """Queue every failed message again (after an outage longer than the retry window)."""
    from notifications.outbox import retry_failed

    _confirmed()
    done = act(lambda: retry_failed(db(), clock(), actor()))
    flash(f"已将 {done} 封发送失败的邮件重新排队。" if done else "没有发送失败的邮件。",
          "success" if done else "error")
    return redirect(url_for(".outbox"))


@bp.route("/chat")
@role_required(Role.ADMIN)
def chat_hooks() -> str:
    """Each unit's group-chat robots (企业微信 / 钉钉): address, kind, what they sent."""
    from notifications import chat

    s = db()
    return render_template("admin/chat.html", hooks=chat.overview(s),
                           names=unit_names(s, today_date()), confirm=ConfirmForm(),
                           hosts=chat.allowed_hosts({**runtime().config.env,
                                                     **runtime().config.extra}),
                           title="群机器人")


@bp.route("/chat/new", methods=["POST"])
@role_required(Role.ADMIN)
def add_chat_hook() -> Response:
    """Register a robot for a unit; a bad address is refused with its reason."""
    from notifications import chat

    _confirmed()
    form = request.form
    hosts = chat.allowed_hosts({**runtime().config.env, **runtime().config.extra})
    act(lambda: chat.add_hook(db(), clock(), actor(), unit_id=form.get("unit_id", ""),
                              kind=form.get("kind", ""), url=form.get("url", ""),
                              secret=form.get("secret") or None, hosts=hosts),
        "群机器人已登记，此后该单位的通知同时推送到群内。")
    return redirect(url_for(".chat_hooks"))


@bp.route("/chat/<int:hook_id>/active", methods=["POST"])
@role_required(Role.ADMIN)
def toggle_chat_hook(hook_id: int) -> Response:
    """Stop or resume a robot."""
    from notifications import chat
    from notifications.chat_models import ChatHook

    _confirmed()
    hook = db().get(ChatHook, hook_id)
    if hook is None:
        abort(404)
    done = act(lambda: chat.set_hook_active(db(), clock(), actor(), hook_id, not hook.active))
    if done is not None:
        flash(f"群机器人已{'启用' if done.active else '停用'}。", "success")
    return redirect(url_for(".chat_hooks"))
