"""The outbox as the administrator sees it: what needs attention, and sending failed mail again.

``attention`` counts what the navigation badge and the outbox page show: messages ``failed``
for good, and messages still unsent more than ``DELAYED_AFTER`` after they were written (an
outage in progress). ``retry_failed`` is the admin's 重新发送 / 全部重新发送: an engine-style
action (actor, permission, audit entry, the caller commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import access, audit
from engine.access import Actor
from engine.clock import Clock
from engine.models import Role
from notifications.models import OutboxMessage, OutboxStatus

DELAYED_AFTER = timedelta(hours=1)
UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@dataclass(frozen=True)
class Attention:
    """Failed messages and unsent ones that are late."""

    failed: int
    delayed: int

    @property
    def total(self) -> int:
        return self.failed + self.delayed


def attention(s: Session, clock: Clock) -> Attention:
    """How many messages failed for good, and how many wait longer than they should."""
    failed = s.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.FAILED)) or 0
    delayed = s.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status.in_(UNSENT),
        OutboxMessage.created_at < clock.now() - DELAYED_AFTER)) or 0
    return Attention(failed, delayed)


def retry_failed(s: Session, clock: Clock, actor: Actor, msg_id: int | None = None) -> int:
    """Give failed messages (one, or all with ``msg_id=None``) a fresh retry window."""
    access.require_role(actor, Role.ADMIN, what="重新发送邮件")
    stmt = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    if msg_id is not None:
        stmt = stmt.where(OutboxMessage.id == msg_id)
    result = s.execute(stmt.values(status=OutboxStatus.PENDING, attempts=0,
                                   first_attempt_at=None, next_attempt_at=clock.now()))
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        audit.record(s, clock, actor=actor.username, action="retry_mail", object_type="outbox",
                     object_id="failed" if msg_id is None else str(msg_id),
                     after={"count": count})
    return count
