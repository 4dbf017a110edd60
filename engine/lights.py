"""The one rule for status lights (绿灯/黄灯/红灯), shown by the web and the bulletins."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from engine.models import ItemStatus

DUE_SOON_DAYS = 7


class Light(enum.StrEnum):
    GREEN = "green"    # on track
    YELLOW = "yellow"  # due within DUE_SOON_DAYS, behind schedule, or waiting for review
                       # after the due date
    RED = "red"        # overdue
    GREY = "grey"      # closed or cancelled

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {Light.GREEN: "正常", Light.YELLOW: "临期", Light.RED: "逾期", Light.GREY: "已办结"}


@dataclass(frozen=True)
class Signal:
    """A light with the words for why it is lit (a yellow is 临期 or 逾期报送·待审)."""

    light: Light
    label: str

    @property
    def value(self) -> str:
        """The light's value (the CSS class and the JSON field)."""
        return self.light.value


def days_left(due_date: date | None, today: date) -> int | None:
    """Calendar days until the due date (negative once overdue); None without a due date."""
    return None if due_date is None else (due_date - today).days


def light(status: ItemStatus | str, due_date: date | None, today: date,
          due_soon_days: int = DUE_SOON_DAYS, behind: bool = False) -> Light:
    """Grey when done; red when overdue and still the unit's move; yellow when due soon or
    behind the time-proportional schedule (``behind``: engine.plans.behind, 序时进度)."""
    status = ItemStatus(status)
    if status in (ItemStatus.CLOSED, ItemStatus.CANCELLED):
        return Light.GREY
    waiting = status == ItemStatus.SUBMITTED
    left = days_left(due_date, today)
    if left is not None and left < 0:
        return Light.YELLOW if waiting else Light.RED
    if left is not None and left <= due_soon_days and not waiting:
        return Light.YELLOW
    if behind and not waiting:
        return Light.YELLOW
    return Light.GREEN


def signal(status: ItemStatus | str, due_date: date | None, today: date,
           submitted_on: date | None = None, behind: str | None = None) -> Signal:
    """The light and its reason: a submission waiting for review past the due date is not
    临期 but 逾期报送·待审 (按期报送·待审 when it came in by the due date; 过期待审 when the
    caller does not know when it came in); an obligation behind its schedule says why
    (``behind``: 进度滞后, 进展迟报; 临期·进度滞后 when also due soon)."""
    status = ItemStatus(status)
    lit = light(status, due_date, today, behind=bool(behind))
    if status is ItemStatus.CANCELLED:
        return Signal(lit, "已撤销")
    if lit is Light.YELLOW and status is ItemStatus.SUBMITTED:
        if submitted_on is None or due_date is None:
            return Signal(lit, "过期待审")
        return Signal(lit, "按期报送·待审" if submitted_on <= due_date else "逾期报送·待审")
    if lit is Light.YELLOW and behind:
        soon = light(status, due_date, today) is Light.YELLOW
        return Signal(lit, f"{Light.YELLOW.label}·{behind}" if soon else behind)
    return Signal(lit, lit.label)
