"""What to do with a message that could not go out on the day it was written (docs/mail.md).

A reminder (T-7, T-1) is pointless once its item's due date has passed or the item is no
longer open: it is not sent (status ``skipped``, the reason in ``note``); the 催办 of the next
day speaks for it. Every other late message (催办, 督办通知, 通报) still goes out, opened by a
line saying when it was meant to be sent: it records a fact of that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from engine.clock import CHINA_TZ
from engine.models import ACTIONABLE, WorkItem
from notifications.models import OutboxMessage


@dataclass(frozen=True)
class Verdict:
    """Send as written (both None), send with ``note`` first, or skip for ``skip``'s reason."""

    skip: str | None = None
    note: str | None = None


def cn_date(day: date) -> str:
    """2018年9月15日."""
    return f"{day.year}年{day.month}月{day.day}日"


def judge(s: Session, msg: OutboxMessage, now: datetime) -> Verdict:
    """The verdict on ``msg`` when it can be sent at ``now`` (business clock)."""
    today = now.astimezone(CHINA_TZ).date()
    planned = msg.created_at.astimezone(CHINA_TZ).date()
    if msg.kind == "reminder":
        reason = _pointless_reminder(s, msg, today)
        if reason:
            return Verdict(skip=reason)
    if today <= planned:
        return Verdict()
    return Verdict(note=f"（本邮件原定于{cn_date(planned)}发送，因邮件服务中断延迟至"
                        f"{cn_date(today)}发出；所述情况以督办系统中的最新状态为准。）")


def _pointless_reminder(s: Session, msg: OutboxMessage, today: date) -> str | None:
    """Why a reminder should no longer be sent today, or None."""
    if msg.related_type != "work_item" or not (msg.related_id or "").isdigit():
        return None
    item = s.get(WorkItem, int(msg.related_id or 0))
    if item is None:
        return "提醒所涉事项已不存在，不再发送"
    if item.status not in ACTIONABLE:
        return f"事项当前为“{item.status.label}”，提醒不再发送"
    if item.due_date is not None and today > item.due_date:
        return f"已过截止日期{cn_date(item.due_date)}，提醒不再发送（逾期后由催办跟进）"
    return None
