"""The one rule for status lights (绿灯/黄灯/红灯), shown by the web and the bulletins."""

from __future__ import annotations

import enum
from datetime import date

from engine.models import ItemStatus

DUE_SOON_DAYS = 7


class Light(enum.StrEnum):
    GREEN = "green"    # on track
    YELLOW = "yellow"  # due within DUE_SOON_DAYS, or waiting for review after the due date
    RED = "red"        # overdue
    GREY = "grey"      # closed or cancelled

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {Light.GREEN: "正常", Light.YELLOW: "临期", Light.RED: "逾期", Light.GREY: "已办结"}


def days_left(due_date: date | None, today: date) -> int | None:
    """Calendar days until the due date (negative once overdue); None without a due date."""
    return None if due_date is None else (due_date - today).days


def light(status: ItemStatus | str, due_date: date | None, today: date,
          due_soon_days: int = DUE_SOON_DAYS) -> Light:
    """Grey when done; red when overdue and still the unit's move; yellow when due soon."""
    status = ItemStatus(status)
    if status in (ItemStatus.CLOSED, ItemStatus.CANCELLED):
        return Light.GREY
    left = days_left(due_date, today)
    if left is None:
        return Light.GREEN
    if left < 0:
        return Light.YELLOW if status == ItemStatus.SUBMITTED else Light.RED
    if left <= due_soon_days and status != ItemStatus.SUBMITTED:
        return Light.YELLOW
    return Light.GREEN
