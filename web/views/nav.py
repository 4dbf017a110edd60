"""Navigation counts and display labels shared by the templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import g
from flask_login import current_user
from sqlalchemy import func, select

from engine import queries
from engine.clock import CHINA_TZ
from engine.lights import Signal, signal
from engine.models import (
    ACTIONABLE,
    Attachment,
    ExtensionRequest,
    ExtensionStatus,
    ItemRole,
    ItemStatus,
    Role,
    WorkItem,
)
from engine.queries import ACTION_LABELS, action_label
from web.views.common import db

STATUS_LABELS = {**{st.value: st.label for st in ItemStatus}, "running": "进行中", "error": "异常",
                 "pending": "待审批", "approved": "已批准", "rejected": "未批准",
                 "queued": "待发送", "sent": "已发送", "failed": "发送失败",
                 "skipped": "未发送（已过时）"}
ROLE_LABELS = {"liaison": "联络员", "supervisor": "督查人员", "admin": "管理员",
               "lead": "牵头", "supporting": "配合"}


def status_label(value: Any) -> str:
    """The Chinese word for a status value."""
    key = getattr(value, "value", value)
    return STATUS_LABELS.get(str(key), str(key))


def role_label(value: Any) -> str:
    """The Chinese word for a user or item role."""
    key = getattr(value, "value", value)
    return ROLE_LABELS.get(str(key), str(key))


def count_inbox(unit_id: str) -> int:
    """How many items wait for the unit's action."""
    return queries.inbox_count(db(), unit_id)


def count_review() -> int:
    """How many submissions wait for review."""
    return db().scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.role == ItemRole.SUPERVISOR, WorkItem.status.in_(ACTIONABLE))) or 0


def count_extensions() -> int:
    """How many extension requests wait for a decision."""
    return db().scalar(select(func.count()).select_from(ExtensionRequest).where(
        ExtensionRequest.status == ExtensionStatus.PENDING)) or 0


def count_unread() -> int:
    """Unread in-app notifications of the user."""
    from web.views.notices import unread_count

    return unread_count()


def count_outbox_attention() -> int:
    """Outbox messages failed for good or late (an outage): the admin's badge."""
    from notifications.outbox import attention
    from web.views.common import clock

    return attention(db(), clock()).total


def nav_counts() -> dict[str, int]:
    """The badges of the navigation, computed once per request."""
    if "nav_counts" in g:
        return g.nav_counts
    counts: dict[str, int] = {}
    if current_user.is_authenticated:
        if current_user.role == Role.LIAISON and current_user.unit_id:
            counts["inbox"] = count_inbox(current_user.unit_id)
            counts["notifications"] = count_unread()
        elif current_user.role == Role.SUPERVISOR:
            counts["review"] = count_review()
            counts["extensions"] = count_extensions()
        else:
            counts["outbox"] = count_outbox_attention()
    g.nav_counts = counts
    return counts


def cn_date(value: date | datetime | None) -> str:
    """2018年9月15日 (datetimes in China time with the hour)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(CHINA_TZ)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{value.year}年{value.month}月{value.day}日"


__all__ = ["ACTION_LABELS", "action_label"]  # the history's words live in engine.queries
PER_LABELS = {"year": "/年", "selection": "/每届", "total": "（累计）"}


def filesize(size: int) -> str:
    """A file size in 字节 / KB / MB."""
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def per_label(per: str) -> str:
    """How a target counts: per year, per selection, in total."""
    return PER_LABELS.get(per, "")


def item_light(item: WorkItem) -> Signal:
    """The light of a work item today, with its reason (engine.lights.signal)."""
    from web.views.common import today_date

    sent = item.submitted_at.astimezone(CHINA_TZ).date() if item.submitted_at else None
    return signal(item.status, item.due_date, today_date(), sent)


def stamp(value: datetime) -> str:
    """A history entry's time to the second: 2018年9月15日 09:00:05 (China time)."""
    local = value.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}"


def can_download(att: Attachment, lead_unit_id: str | None = None) -> bool:
    """Whether the logged-in user may fetch this attachment (engine.access decides)."""
    from engine import access
    from web.views.common import actor

    return access.may_download(actor(), att, lead_unit_id)
