"""In-app notifications (notifications.models.Notification) for the logged-in user."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, func, or_, select, update
from werkzeug.wrappers import Response

from web.views.common import clock, db

LIMIT = 100


def _mine() -> ColumnElement[bool]:
    """Notes addressed to the user, the user's unit or the user's role."""
    from notifications.models import Notification

    conds = [Notification.user_id == current_user.id, Notification.role == current_user.role]
    if current_user.unit_id:
        conds.append(Notification.unit_id == current_user.unit_id)
    return or_(*conds)


def unread_count() -> int:
    """How many of the user's notes are unread."""
    from notifications.models import Notification

    return db().scalar(select(func.count()).select_from(Notification).where(
        _mine(), Notification.read_at.is_(None))) or 0


def list_notifications(_user_id: int) -> list[Any]:
    """The user's newest notes."""
    from notifications.models import Notification

    return list(db().scalars(select(Notification).where(_mine())
                             .order_by(Notification.created_at.desc(), Notification.id.desc())
                             .limit(LIMIT)))


def mark_read(_user_id: int) -> Response:
    """Mark every unread note of the user as read."""
    from notifications.models import Notification

    s = db()
    s.execute(update(Notification).where(_mine(), Notification.read_at.is_(None))
              .values(read_at=clock().now()))
    s.commit()
    flash("已全部标为已读。", "success")
    return redirect(url_for("inbox.notifications"))


def safe_link(link: str | None) -> str | None:
    """A note's link when it stays on this site."""
    if link and link.startswith("/") and not link.startswith("//"):
        return link
    return None
