"""What reminders and 催办 say: 还有7天 (never 7个天), 3个工作日, titles quoted once."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from engine.clock import CHINA_TZ, ManualClock
from notifications.models import Notification
from notifications.tick import (
    run_tick,
    step_mark_overdue,
    step_open_cycles,
    step_remind,
)
from tests.engine_fixtures import make_runtime

TITLE = "任务1“制定‘地方版’和‘加强版’政策措施”"


def at(day: date) -> datetime:
    return datetime.combine(day, time(8), CHINA_TZ)


def _notes(rt, kind: str) -> list[Notification]:
    with rt.sessions() as s:
        return list(s.scalars(select(Notification).where(Notification.kind == kind,
                                                         Notification.unit_id == "hefei")))


def test_reminder_counts_days_and_quotes_the_title(tmp_path) -> None:
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 5, 30))))
    step_open_cycles(rt)
    rt.clock.set(at(date(2018, 8, 23)))  # 7 days before task 1's 2018-08-30
    run_tick(rt, [("remind", step_remind)])
    [note] = [n for n in _notes(rt, "reminder") if "任务1" in n.title]
    assert "距截止还有7天" in note.body and "个天" not in note.body
    assert note.title.startswith(f"【到期提醒】{TITLE}") and TITLE in note.body
    assert "““" not in note.body and "””" not in note.body
    rt.clock.set(at(date(2018, 8, 31)))
    run_tick(rt, [("mark_overdue", step_mark_overdue)])
    [urge] = [n for n in _notes(rt, "urge") if "任务1" in n.title]
    assert urge.title.startswith(f"【催办】{TITLE}") and TITLE in urge.body


def test_working_day_reminders_say_working_days(tmp_path) -> None:
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 5, 30))))
    rt.config.extra.update(DUBAN_REMINDER_DAYS="3", DUBAN_REMINDER_WORKING_DAYS="1")
    step_open_cycles(rt)
    rt.clock.set(at(date(2018, 8, 27)))  # Mon: 3 working days before Thu 08-30
    run_tick(rt, [("remind", step_remind)])
    [note] = [n for n in _notes(rt, "reminder") if "任务1" in n.title]
    assert "距截止还有3个工作日" in note.body
