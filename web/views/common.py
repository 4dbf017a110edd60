"""What every view shares: the request's session, clock, actor and error translation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, current_app, flash, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from engine.clock import Clock, today
from engine.errors import (
    ConflictError,
    DubanError,
    NotFoundError,
    PermissionDeniedError,
    StateError,
    ValidationError,
)

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from engine.service import Actor

T = TypeVar("T")


def runtime() -> Runtime:
    """The engine runtime this app was built with."""
    return current_app.extensions["duban_runtime"]


def db() -> Session:
    """The request's database session (closed when the request ends)."""
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Teardown: roll back anything uncommitted and close the session."""
    session = g.pop("db", None)
    if session is not None:
        session.close()


def clock() -> Clock:
    """The deployment's clock."""
    return runtime().clock


def today_date() -> date:
    """Today in China time, by the deployment's clock (read once per request)."""
    if "today" not in g:
        g.today = today(clock())
    return g.today


def actor() -> Actor:
    """The engine actor of the logged-in user."""
    from engine.models import User
    from engine.service import Actor

    user = db().get(User, current_user.id)
    if user is None:
        abort(401)
    return Actor.of(user)


def act(action: Callable[[], T], success: str | None = None) -> T | None:
    """Run one engine action in the request's session: commit, flash; errors become flashes.

    A lost race (another user acted first: a stale version, a deadlock PostgreSQL broke, the
    item no longer open) is the "状态已变化" flash on the page, never an error page.
    """
    from engine.service import conflict

    session = db()
    try:
        result = action()
        session.commit()
    except (ValidationError, StateError) as exc:
        session.rollback()
        flash(str(exc), "error")
        return None
    except (NotFoundError, PermissionDeniedError):
        session.rollback()
        raise
    except Exception as exc:
        session.rollback()
        lost = conflict(exc)
        if lost is None:
            raise
        flash(str(lost), "error")
        return None
    if success:
        flash(success, "success")
    return result


def http_status(exc: DubanError) -> int:
    """The HTTP status that answers an engine error."""
    for cls, status in ((NotFoundError, 404), (PermissionDeniedError, 403),
                        (ValidationError, 400), (StateError, 409), (ConflictError, 409)):
        if isinstance(exc, cls):
            return status
    return 400


def days_text(due: date | None, today_: date, closed: bool = False) -> str:
    """剩余N天 / 今日到期 / 逾期N天 / 长期 for a due date."""
    if due is None:
        return "长期"
    if closed:
        return ""
    delta = (due - today_).days
    if delta > 0:
        return f"剩余{delta}天"
    if delta == 0:
        return "今日到期"
    return f"逾期{-delta}天"


def policy_scope() -> tuple[str | None, list[tuple[str, str]]]:
    """The policy a list is narrowed to (``?policy=``; an unknown id means none) and the
    choices to offer: every policy, newest first, when there is more than one."""
    from sqlalchemy import select

    from engine.models import Policy

    rows = [(p.id, p.title) for p in db().scalars(select(Policy).order_by(
        Policy.issued_on.desc(), Policy.id))]
    wanted = request.args.get("policy") or None
    chosen = wanted if wanted in {pid for pid, _ in rows} else None
    return chosen, rows if len(rows) > 1 else []


def clock_is_simulated() -> bool:
    """Whether the deployment runs on a simulated clock (the runtime's clock decides)."""
    from engine.clock import is_simulated

    return is_simulated(clock())


def template_globals() -> dict[str, Any]:
    """Names every template may use."""
    from engine.policy import kind_of
    from web.views import nav
    from web.views.notices import safe_link

    return {"today": today_date, "days_text": days_text, "nav_counts": nav.nav_counts,
            "status_label": nav.status_label, "clock_is_simulated": clock_is_simulated,
            "safe_link": safe_link, "action_label": nav.action_label,
            "per_label": nav.per_label, "item_light": nav.item_light,
            "can_download": nav.can_download, "stamp": nav.stamp, "target_kind": kind_of,
            "level_label": level_label}


def level_label(value: str) -> str:
    """An escalation level (a transition's state) in Chinese."""
    from engine.models import EscalationLevel

    return EscalationLevel(value).label
