"""Login, logout, the session user and the role checks every blueprint uses."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from engine import accounts
from engine.models import Role, User
from web.forms import LoginForm
from web.security import LoginLimiter

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class SessionUser:
    """The logged-in user as Flask-Login sees it; a detached copy of the ``User`` row."""

    id: int
    username: str
    display_name: str
    role: Role
    unit_id: str | None
    unit_name: str | None
    stamp: str
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        """The session id: changes when the password changes, which ends old sessions."""
        return f"{self.id}:{self.stamp}"

    @classmethod
    def of(cls, user: User, unit_name: str | None) -> SessionUser:
        """A session user from a database row."""
        return cls(id=user.id, username=user.username, display_name=user.display_name,
                   role=user.role, unit_id=user.unit_id, unit_name=unit_name,
                   stamp=password_stamp(user.password_hash), is_active=user.active)


def password_stamp(password_hash: str) -> str:
    """A short fingerprint of the password hash kept in the session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:12]


def init_app(app: Flask) -> None:
    """Register the login manager, the limiter and the auth blueprint."""
    login_manager.init_app(app)
    app.extensions["duban_login_limiter"] = LoginLimiter()
    app.register_blueprint(bp)


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """Reload the user each request; inactive users and stale stamps log out."""
    from web.views.common import db, today_date

    raw_id, _, stamp = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    user = db().get(User, int(raw_id))
    if user is None or not user.active or password_stamp(user.password_hash) != stamp:
        return None
    unit_name = user.unit.name_on(today_date()) if user.unit else None
    return SessionUser.of(user, unit_name)


def role_required(*roles: Role) -> Callable[[F], F]:
    """Allow the view to users of these roles only (403 for others, login for anonymous)."""
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return cast(F, wrapped)
    return decorator


def home_for(role: Role) -> str:
    """The landing page of a role."""
    return {Role.LIAISON: "inbox.index", Role.SUPERVISOR: "review.queue",
            Role.ADMIN: "admin.users"}[role]


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The login form; five failures per username and address in 15 minutes block it."""
    if current_user.is_authenticated:
        return redirect(url_for(home_for(current_user.role)))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form, insecure_transport=_cookie_lost())
    limiter: LoginLimiter = current_app.extensions["duban_login_limiter"]
    username, address = form.username.data.strip(), request.remote_addr or "-"
    if limiter.blocked(username, address):
        flash("登录失败次数过多，请15分钟后再试。", "error")
        return render_template("login.html", form=form), 429
    user = _check(username, form.password.data)
    if user is None:
        limiter.fail(username, address)
        flash("用户名或密码错误。", "error")
        return render_template("login.html", form=form), 200
    limiter.clear(username, address)
    session.clear()
    session.permanent = True
    login_user(user)
    return redirect(_safe_next() or url_for(home_for(user.role)))


def _cookie_lost() -> bool:
    """Whether a Secure session cookie would be dropped: plain HTTP to a non-local host."""
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    local = host in ("localhost", "::1") or host.startswith("127.")
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) and not request.is_secure \
        and not local


def _check(username: str, password: str) -> SessionUser | None:
    """The user when the password is right and the account active."""
    from web.views.common import db, today_date

    user = accounts.authenticate(db(), username, password)
    if user is None:
        return None
    return SessionUser.of(user, user.unit.name_on(today_date()) if user.unit else None)


def _safe_next() -> str | None:
    """The ``next`` target when it is a local path."""
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session."""
    logout_user()
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def root() -> Response:
    """Send users to their landing page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(home_for(current_user.role)))
