"""Login, logout, the session user, the own-password page and the role checks of every view.

A session is a row on the server (engine.accounts): the cookie carries only its random token.
Logout, a password change or deactivation end it; it lasts 8 hours from login and never slides.
Failed logins are counted in the database, so every web process sees the same count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from engine import accounts
from engine.errors import ValidationError
from engine.models import Role, User
from engine.text import has_control
from web.forms import LoginForm, PasswordForm

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"
login_manager.session_protection = None  # the server-side session row is the protection

F = TypeVar("F", bound=Callable[..., Any])
# pages a user who must change the password may still open
OPEN_WHEN_FORCED = frozenset({"auth.password", "auth.logout", "static", "vendor_bpmn",
                              "vendor_echarts"})


@dataclass
class SessionUser:
    """The logged-in user as Flask-Login sees it: a detached copy of the ``User`` row."""

    id: int
    username: str
    display_name: str
    role: Role
    unit_id: str | None
    unit_name: str | None
    token: str
    must_change_password: bool = False
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        """What the cookie carries: the server-side session's token."""
        return self.token

    @classmethod
    def of(cls, user: User, unit_name: str | None, token: str) -> SessionUser:
        """A session user from a database row."""
        return cls(id=user.id, username=user.username, display_name=user.display_name,
                   role=user.role, unit_id=user.unit_id, unit_name=unit_name, token=token,
                   must_change_password=user.must_change_password, is_active=user.active)


def _wall() -> Any:
    from web.views.common import runtime

    return runtime().wall_clock


def init_app(app: Flask) -> None:
    """Register the login manager, the forced password change and the auth blueprint."""
    login_manager.init_app(app)
    app.before_request(_forced_password_change)
    app.register_blueprint(bp)


@login_manager.user_loader
def load_user(token: str) -> SessionUser | None:
    """The user of a live server-side session (each request); anything else logs out."""
    from web.views.common import db, today_date

    found = accounts.session_user(db(), _wall(), token)
    if found is None:
        return None
    user, _ = found
    unit_name = user.unit.name_on(today_date()) if user.unit else None
    return SessionUser.of(user, unit_name, token)


def _forced_password_change() -> Response | None:
    """After an administrator issued the password, nothing opens before it is changed."""
    if request.endpoint in OPEN_WHEN_FORCED or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        flash("请先修改管理员为您设置的初始密码。", "info")
        return redirect(url_for("auth.password"))
    return None


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
    """The login form; too many failures per username and address, or per address, block it."""
    from web.views.common import db, today_date

    if current_user.is_authenticated:
        return redirect(url_for(home_for(current_user.role)))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form, insecure_transport=_cookie_lost())
    s, wall = db(), _wall()
    username, address = form.username.data.strip(), request.remote_addr or "-"
    if accounts.login_blocked(s, wall, username, address):
        flash("登录失败次数过多，请15分钟后再试。", "error")
        return render_template("login.html", form=form), 429
    user = accounts.authenticate(s, username, form.password.data)
    if user is None:
        accounts.login_failed(s, wall, username, address)
        s.commit()
        flash("用户名或密码错误。", "error")
        return render_template("login.html", form=form), 200
    accounts.login_succeeded(s, username, address)
    token = accounts.start_session(s, wall, user, address)
    s.commit()
    session.clear()
    session.permanent = True
    login_user(SessionUser.of(user, user.unit.name_on(today_date()) if user.unit else None,
                              token))
    return redirect(safe_next(request.args.get("next")) or url_for(home_for(user.role)))


def _cookie_lost() -> bool:
    """Whether a Secure session cookie would be dropped: plain HTTP to a non-local host."""
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    local = host in ("localhost", "::1") or host.startswith("127.")
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) and not request.is_secure \
        and not local


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site: no scheme, no host, no control characters or
    whitespace, one leading slash (``//host`` and ``/\\host`` are other sites to a browser)."""
    if not target or has_control(target) or any(ch.isspace() for ch in target):
        return None
    if "\\" in target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session on the server too: a copied cookie opens nothing afterwards."""
    from web.views.common import db

    if current_user.is_authenticated:
        s = db()
        accounts.end_session(s, _wall(), current_user.token)
        s.commit()
    logout_user()
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password() -> str | Response:
    """Change the own password (forced after an administrator set it)."""
    from web.views.common import clock, db

    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    form = PasswordForm()
    if form.validate_on_submit():
        s = db()
        user = s.get(User, current_user.id)
        assert user is not None
        try:
            accounts.change_own_password(s, clock(), user, current=form.current.data,
                                         new=form.new.data, keep_session=current_user.token)
            s.commit()
        except ValidationError as exc:
            s.rollback()
            flash(str(exc), "error")
        else:
            g.pop("nav_counts", None)
            flash("密码已修改，其他设备上的登录已全部退出。", "success")
            return redirect(url_for(home_for(user.role)))
    return render_template("account/password.html", form=form, title="修改密码",
                           forced=current_user.must_change_password)


@bp.route("/")
def root() -> Response:
    """Send users to their landing page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(home_for(current_user.role)))
