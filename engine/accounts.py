"""Users: creation, passwords (werkzeug's salted hashes), API tokens (stored as sha256) and
login sessions kept on the server.

Sessions and the login throttle are measured on the wall clock the caller passes (the runtime's
``wall_clock``), never on a simulated business clock: a session lasts ``SESSION_LIFETIME`` from
login whatever the simulated date, and ends at logout, a password change or deactivation.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine import audit
from engine.clock import Clock
from engine.errors import ValidationError
from engine.models import LoginFailure, Role, Unit, User, UserSession
from engine.text import clean_email, clean_line

MIN_PASSWORD = 8
MAX_PASSWORD = 200
SESSION_LIFETIME = timedelta(hours=8)
_DUMMY_HASH = generate_password_hash("duban-dummy-password")


def new_password() -> str:
    """A random password that is easy to read out (no 0/O, 1/l)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def username_key(username: str) -> str:
    """The form usernames are compared in (case-insensitive)."""
    return username.strip().casefold()


def create_user(s: Session, clock: Clock, *, username: str, display_name: str, role: Role,
                password: str, unit_id: str | None = None, email: str | None = None,
                actor: str = "system", must_change: bool = False) -> User:
    """A new account; a liaison belongs to a unit, an administrator to none."""
    username = clean_line(username, "用户名", 80)
    if s.scalar(select(User.id).where(User.username_key == username_key(username))) is not None:
        raise ValidationError(f"用户名“{username}”已存在（不区分大小写）")
    if role is Role.LIAISON and (unit_id is None or s.get(Unit, unit_id) is None):
        raise ValidationError("联络员必须属于一个已登记的单位")
    if role is Role.ADMIN and unit_id is not None:
        raise ValidationError("管理员账号不属于任何单位")
    if unit_id is not None and s.get(Unit, unit_id) is None:
        raise ValidationError(f"单位 {unit_id} 不存在")
    _check_password(password)
    user = User(username=username, username_key=username_key(username),
                display_name=clean_line(display_name, "姓名", 100), role=role, unit_id=unit_id,
                email=clean_email(email) if email else None,
                password_hash=generate_password_hash(password), active=True,
                created_at=clock.now(), must_change_password=must_change)
    s.add(user)
    s.flush()
    audit.record(s, clock, actor=actor, action="create_user", object_type="user",
                 object_id=str(user.id), after={"username": username, "role": role,
                                                "unit": unit_id})
    return user


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(f"密码须为 {MIN_PASSWORD}–{MAX_PASSWORD} 位")


def set_password(s: Session, clock: Clock, user: User, password: str, *, actor: str,
                 must_change: bool = False, keep_session: str | None = None) -> None:
    """Replace a user's password; every other session ends, and an administrator's reset
    (``must_change``) withdraws the API token too."""
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = must_change
    if must_change:
        user.api_token_hash = None
    end_sessions(s, clock, user, keep=keep_session)
    audit.record(s, clock, actor=actor, action="set_password", object_type="user",
                 object_id=str(user.id), after={"forced_change": must_change})


def change_own_password(s: Session, clock: Clock, user: User, *, current: str, new: str,
                        keep_session: str | None = None) -> None:
    """Self-service change: the current password first; the new one must differ."""
    if not check_password_hash(user.password_hash, current):
        raise ValidationError("当前密码不正确")
    if current == new:
        raise ValidationError("新密码不能与当前密码相同")
    set_password(s, clock, user, new, actor=user.username, keep_session=keep_session)


def authenticate(s: Session, username: str, password: str) -> User | None:
    """The active user with this name (any case) and password, else None."""
    user = s.scalars(select(User).where(User.username_key == username_key(username))).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)  # same cost: names can't be probed by timing
        return None
    return user if check_password_hash(user.password_hash, password) else None


def token_digest(token: str) -> str:
    """What is stored for an API token or a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(s: Session, clock: Clock, user: User, *, actor: str) -> str:
    """A new API token for the user (shown once; only its digest is kept)."""
    token = "dbn_" + secrets.token_urlsafe(32)
    user.api_token_hash = token_digest(token)
    audit.record(s, clock, actor=actor, action="issue_token", object_type="user",
                 object_id=str(user.id))
    return token


def revoke_token(s: Session, clock: Clock, user: User, *, actor: str) -> None:
    """Withdraw the user's API token (no new one)."""
    user.api_token_hash = None
    audit.record(s, clock, actor=actor, action="revoke_token", object_type="user",
                 object_id=str(user.id))


def user_for_token(s: Session, token: str) -> User | None:
    """The active user owning this API token."""
    if not token or len(token) > 200:
        return None
    user = s.scalars(select(User).where(User.api_token_hash == token_digest(token))).first()
    return user if user is not None and user.active else None


# ---------------------------------------------------------------- sessions
def start_session(s: Session, wall: Clock, user: User, address: str | None) -> str:
    """A new server-side session; the token (kept in the cookie) is returned once."""
    token = secrets.token_urlsafe(32)
    now = wall.now()
    s.add(UserSession(id=token_digest(token), user_id=user.id, created_at=now,
                      expires_at=now + SESSION_LIFETIME, address=(address or "")[:64] or None))
    return token


def session_user(s: Session, wall: Clock, token: str) -> tuple[User, UserSession] | None:
    """The active user of a live session, else None (ended, expired, unknown)."""
    if not token or len(token) > 100:
        return None
    row = s.get(UserSession, token_digest(token))
    if row is None or row.ended_at is not None or wall.now() >= row.expires_at:
        return None
    user = s.get(User, row.user_id)
    return (user, row) if user is not None and user.active else None


def end_session(s: Session, wall: Clock, token: str) -> None:
    """Logout: the session can never be used again."""
    s.execute(update(UserSession).where(UserSession.id == token_digest(token),
                                        UserSession.ended_at.is_(None))
              .values(ended_at=wall.now()))


def end_sessions(s: Session, clock: Clock, user: User, *, keep: str | None = None) -> int:
    """End every session of ``user`` (but ``keep``, a token); how many ended."""
    q = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep:
        q = q.where(UserSession.id != token_digest(keep))
    return int(getattr(s.execute(q.values(ended_at=clock.now())), "rowcount", 0) or 0)


# ---------------------------------------------------------------- login throttle
LOGIN_WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5        # failures of one username from one address
ADDRESS_LIMIT = 20    # failures from one address over all usernames (password spraying)


def login_blocked(s: Session, wall: Clock, username: str, address: str) -> bool:
    """Whether this (username, address) or this address has used up its failures."""
    since = wall.now() - LOGIN_WINDOW
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at > since)
    pair = s.scalar(recent.where(LoginFailure.username_key == username_key(username)[:80],
                                 LoginFailure.address == address[:64])) or 0
    if pair >= PAIR_LIMIT:
        return True
    return (s.scalar(recent.where(LoginFailure.address == address[:64])) or 0) >= ADDRESS_LIMIT


def login_failed(s: Session, wall: Clock, username: str, address: str) -> None:
    """Record one failed attempt (old rows are pruned as they leave the window)."""
    now = wall.now()
    s.add(LoginFailure(username_key=username_key(username)[:80], address=address[:64], at=now))
    s.execute(delete(LoginFailure).where(LoginFailure.at < now - 2 * LOGIN_WINDOW))


def login_succeeded(s: Session, username: str, address: str) -> None:
    """Forget this pair's failures after a successful login."""
    s.execute(delete(LoginFailure).where(
        LoginFailure.username_key == username_key(username)[:80],
        LoginFailure.address == address[:64]))

