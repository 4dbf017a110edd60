"""Users: creation, passwords (werkzeug's salted hashes) and API tokens (stored as sha256)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine import audit
from engine.clock import Clock
from engine.errors import ValidationError
from engine.models import Role, Unit, User

MIN_PASSWORD = 8
_DUMMY_HASH = generate_password_hash("duban-dummy-password")


def new_password() -> str:
    """A random password that is easy to read out (no 0/O, 1/l)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def create_user(s: Session, clock: Clock, *, username: str, display_name: str, role: Role,
                password: str, unit_id: str | None = None, email: str | None = None,
                actor: str = "system") -> User:
    """A new account; a liaison must belong to a unit."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValidationError("用户名不能为空且不超过 80 个字符")
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationError(f"用户名“{username}”已存在")
    if role is Role.LIAISON and (unit_id is None or s.get(Unit, unit_id) is None):
        raise ValidationError("联络员必须属于一个已登记的单位")
    _check_password(password)
    user = User(username=username, display_name=display_name, role=role, unit_id=unit_id,
                email=email, password_hash=generate_password_hash(password), active=True,
                created_at=clock.now())
    s.add(user)
    s.flush()
    audit.record(s, clock, actor=actor, action="create_user", object_type="user",
                 object_id=str(user.id), after={"username": username, "role": role,
                                                "unit": unit_id})
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"密码至少 {MIN_PASSWORD} 位")


def set_password(s: Session, clock: Clock, user: User, password: str, *, actor: str) -> None:
    """Replace a user's password."""
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    audit.record(s, clock, actor=actor, action="set_password", object_type="user",
                 object_id=str(user.id))


def authenticate(s: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None."""
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)  # same cost: names can't be probed by timing
        return None
    return user if check_password_hash(user.password_hash, password) else None


def token_digest(token: str) -> str:
    """What is stored for an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(s: Session, clock: Clock, user: User, *, actor: str) -> str:
    """A new API token for the user (shown once; only its digest is kept)."""
    token = "dbn_" + secrets.token_urlsafe(32)
    user.api_token_hash = token_digest(token)
    audit.record(s, clock, actor=actor, action="issue_token", object_type="user",
                 object_id=str(user.id))
    return token


def user_for_token(s: Session, token: str) -> User | None:
    """The active user owning this API token."""
    user = s.scalars(select(User).where(User.api_token_hash == token_digest(token))).first()
    return user if user is not None and user.active else None
