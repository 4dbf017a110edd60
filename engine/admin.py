"""Administrators' writes as engine actions: accounts, tokens, unit names and addresses.

Like every other action each takes the caller's session, the clock and an ``Actor``, checks
the role inside, validates its input (a value that reaches a mail header is one clean line),
writes the audit log and leaves the commit to the caller.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from engine import access, accounts, audit
from engine.access import Actor
from engine.clock import Clock
from engine.errors import NotFoundError, StateError, ValidationError
from engine.models import Role, Unit, UnitName, User
from engine.text import clean_email, clean_line


def _admin(actor: Actor, what: str) -> None:
    access.require_role(actor, Role.ADMIN, what=what)


def _user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFoundError(f"用户 #{user_id} 不存在")
    return user


def create_account(s: Session, clock: Clock, actor: Actor, *, username: str, display_name: str,
                   role: Role, unit_id: str | None, email: str | None) -> tuple[User, str]:
    """A new account with a random password shown once (to be changed at first login)."""
    _admin(actor, "创建账号")
    password = accounts.new_password()
    user = accounts.create_user(s, clock, username=username, display_name=display_name,
                                role=role, password=password, unit_id=unit_id, email=email,
                                actor=actor.username, must_change=True)
    return user, password


def set_active(s: Session, clock: Clock, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate (ending sessions and the API token) or reactivate an account."""
    _admin(actor, "停用或启用账号")
    user = _user(s, user_id)
    if user.id == actor.user_id:
        raise StateError("不能停用自己的账号")
    user.active = active
    if not active:
        user.api_token_hash = None
    accounts.end_sessions(s, clock, user)
    audit.record(s, clock, actor=actor.username,
                 action="activate_user" if active else "deactivate_user",
                 object_type="user", object_id=str(user.id))
    return user


def reset_password(s: Session, clock: Clock, actor: Actor, user_id: int) -> tuple[User, str]:
    """A new random password, shown once; sessions and the API token end."""
    _admin(actor, "重置密码")
    user = _user(s, user_id)
    password = accounts.new_password()
    accounts.set_password(s, clock, user, password, actor=actor.username, must_change=True)
    return user, password


def issue_token(s: Session, clock: Clock, actor: Actor, user_id: int) -> tuple[User, str]:
    """A new API token (shown once; only its digest is kept)."""
    _admin(actor, "签发令牌")
    user = _user(s, user_id)
    if not user.active:
        raise StateError("停用的账号不能签发令牌")
    return user, accounts.issue_token(s, clock, user, actor=actor.username)


def revoke_token(s: Session, clock: Clock, actor: Actor, user_id: int) -> User:
    """Withdraw the user's API token."""
    _admin(actor, "撤销令牌")
    user = _user(s, user_id)
    accounts.revoke_token(s, clock, user, actor=actor.username)
    return user


def rename_unit(s: Session, clock: Clock, actor: Actor, unit_id: str, *, name: str,
                short_name: str | None, valid_from: date) -> Unit:
    """A new name valid from a date on; the previous name ends that day."""
    _admin(actor, "修改单位名称")
    unit = s.get(Unit, unit_id)
    if unit is None:
        raise NotFoundError(f"单位 {unit_id} 不存在")
    name = clean_line(name, "名称", 100)
    short = clean_line(short_name, "简称", 40, required=False) or None
    if any(n.valid_from and n.valid_from >= valid_from for n in unit.names):
        raise ValidationError("启用日期须晚于现有名称的启用日期")
    for n in unit.names:
        if n.valid_to is None:
            n.valid_to = valid_from
    unit.names.append(UnitName(name=name, short_name=short, valid_from=valid_from))
    audit.record(s, clock, actor=actor.username, action="rename_unit", object_type="unit",
                 object_id=unit.id, after={"name": name, "short_name": short,
                                           "valid_from": valid_from})
    return unit


def set_unit_email(s: Session, clock: Clock, actor: Actor, unit_id: str,
                   email: str | None) -> Unit:
    """The unit's own address (used when it has no liaison with one)."""
    _admin(actor, "修改单位邮箱")
    unit = s.get(Unit, unit_id)
    if unit is None:
        raise NotFoundError(f"单位 {unit_id} 不存在")
    before = unit.email
    unit.email = clean_email(email) if email else None
    audit.record(s, clock, actor=actor.username, action="set_unit_email", object_type="unit",
                 object_id=unit.id, before={"email": before}, after={"email": unit.email})
    return unit
