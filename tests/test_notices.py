"""Document numbers, the reminder windows, and the 督办 level across an extension."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from engine import service
from engine.clock import CHINA_TZ, ManualClock
from engine.models import Instance, ItemRole, PolicyTask, Role, WorkItem
from engine.workdays import WorkCalendar
from notifications.models import Document, DocumentKind, Notification
from notifications.notices import (
    Draft,
    EscalationRule,
    due_for_escalation,
    format_number,
    issue_document,
)
from notifications.reminders import ReminderRule
from notifications.tick import (
    run_tick,
    step_escalate,
    step_fire_timers,
    step_mark_overdue,
    step_open_cycles,
    step_remind,
)
from tests.engine_fixtures import add_user, make_runtime

CAL = WorkCalendar()
NO_PDF = b"%PDF-1.4 test"
SWEEPS = [("open_cycles", step_open_cycles), ("fire_timers", step_fire_timers),
          ("remind", step_remind), ("mark_overdue", step_mark_overdue),
          ("escalate", step_escalate)]


def at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), CHINA_TZ)


def test_reminder_windows():
    rule = ReminderRule()
    assert [rule.window(d) for d in (9, 8, 7, 5, 2, 1, 0, -1)] == [
        None, None, 7, 7, 7, 1, 1, None]
    assert rule.label(7) == "T-7" and ReminderRule((3,), True).label(3) == "T-3wd"


def test_escalation_day_counts_working_days():
    rule = EscalationRule(after_working_days=5)
    due = date(2018, 8, 30)  # Thu; overdue from Fri 08-31
    days = [due + timedelta(days=i) for i in range(1, 12)]
    assert [d for d in days if due_for_escalation(due, d, rule, CAL)][0] == date(2018, 9, 7)
    assert not due_for_escalation(due, date(2018, 9, 8), rule, CAL)  # Saturday: no notices
    # 2018 National Day: 10-01..07 off, 09-29/30 make-up days: 09-29, 30, 10-08, 09, 10, then 11
    assert [d for d in (date(2018, 9, 28) + timedelta(days=i) for i in range(1, 20))
            if due_for_escalation(date(2018, 9, 28), d, rule, CAL)][0] == date(2018, 10, 11)


def test_numbers_are_shared_by_kinds_gap_free_and_deduplicated(db, clock):
    from engine.models import Unit, UnitKind

    with db.begin() as s:
        s.add(Unit(id="jxw", kind=UnitKind.DEPARTMENT))
    built = []

    def build(number: str, issue: int) -> Draft:
        built.append((number, issue))
        return Draft("标题", NO_PDF + number.encode(), {})

    kinds = [DocumentKind.NOTICE, DocumentKind.BULLETIN, DocumentKind.NOTICE]
    for i, kind in enumerate(kinds):
        with db.begin() as s:
            doc = issue_document(s, clock, kind=kind, office="皖政督", office_unit_id="jxw",
                                 issued_on=date(2018, 9, 7), dedupe_key=f"k{i}", unit_id=None,
                                 build=build)
            assert doc is not None
    with db.begin() as s:
        assert issue_document(s, clock, kind=DocumentKind.NOTICE, office="皖政督",
                              office_unit_id="jxw", issued_on=date(2018, 9, 8), dedupe_key="k1",
                              unit_id=None, build=build) is None
        nxt = issue_document(s, clock, kind=DocumentKind.NOTICE, office="皖政督",
                             office_unit_id="jxw", issued_on=date(2019, 1, 3), dedupe_key="k9",
                             unit_id=None, build=build)
        assert nxt is not None and nxt.number == "皖政督〔2019〕1号"
    assert built == [("皖政督〔2018〕1号", 1), ("皖政督〔2018〕2号", 1),
                     ("皖政督〔2018〕3号", 2), ("皖政督〔2019〕1号", 1)]
    with db() as s:
        docs = s.scalars(select(Document).where(Document.year == 2018)
                         .order_by(Document.seq)).all()
        assert [d.seq for d in docs] == [1, 2, 3]
        assert [d.data["issue"] for d in docs] == [1, 1, 2]
    assert format_number("皖政督", 2018, 3) == "皖政督〔2018〕3号"


def _lead(rt, unit: str) -> WorkItem:
    with rt.sessions() as s:
        return s.scalars(select(WorkItem).join(Instance).join(PolicyTask).where(
            PolicyTask.number == 1, WorkItem.unit_id == unit,
            WorkItem.role == ItemRole.LEAD)).one()


def _days(rt, start: date, end: date) -> None:
    day = start
    while day <= end:
        rt.clock.set(at(day))
        counts = run_tick(rt, SWEEPS).counts
        assert min(counts.values()) >= 0, (day, counts)
        day += timedelta(days=1)


def _keys(rt, prefix: str) -> list[str]:
    with rt.sessions() as s:
        return sorted(s.scalars(select(Notification.dedupe_key).where(
            Notification.dedupe_key.like(f"{prefix}%"))))


@pytest.mark.slow
def test_extension_after_the_notice_restarts_the_levels(tmp_path):
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 8, 29))))
    hefei = add_user(rt, "hefei", Role.LIAISON, "hefei")
    sup = add_user(rt, "duchao", Role.SUPERVISOR, "dcs")
    _days(rt, date(2018, 8, 29), date(2018, 9, 7))
    item = _lead(rt, "hefei")
    assert item.escalated_at is not None and item.overdue_marked_at is not None
    rt.clock.set(at(date(2018, 9, 7), 10))
    with rt.sessions() as s, s.begin():
        req = service.request_extension(s, rt.clock, hefei, item.id, new_due=date(2018, 9, 20),
                                        reason="需提请市政府常务会审议")
        service.decide_extension(s, rt.clock, sup, req.id, approve=True)
    _days(rt, date(2018, 9, 8), date(2018, 10, 10))
    assert _keys(rt, f"urge:{item.id}:") == [f"urge:{item.id}:2018-08-30",
                                             f"urge:{item.id}:2018-09-20"]
    with rt.sessions() as s:
        notices = s.scalars(select(Document).where(Document.kind == DocumentKind.NOTICE,
                                                   Document.unit_id == "hefei")
                            .order_by(Document.seq)).all()
        # the second notice after 5 more working days (09-24 中秋 off: 09-21,25,26,27,28)
        assert [d.issued_on for d in notices] == [date(2018, 9, 7), date(2018, 9, 29)]
        assert notices[1].data["due_dates"] == ["2018-09-20"]
        # the other cities got their one notice and no second one
        others = s.scalars(select(Document.unit_id).where(
            Document.kind == DocumentKind.NOTICE, Document.unit_id != "hefei")).all()
        assert len(others) == len(set(others)) == 15
    assert run_tick(rt, SWEEPS).counts["escalate"] == 0


def test_working_day_reminders(tmp_path):
    rt = make_runtime(tmp_path, clock=ManualClock(at(date(2018, 8, 24))))
    rt.config.extra.update(DUBAN_REMINDER_DAYS="3", DUBAN_REMINDER_WORKING_DAYS="1")
    assert run_tick(rt, SWEEPS[:3]).counts["remind"] == 0  # Fri: 4 working days left
    for day in (date(2018, 8, 25), date(2018, 8, 26)):
        rt.clock.set(at(day))
        assert run_tick(rt, SWEEPS[:3]).counts["remind"] == 0  # still 4 working days
    rt.clock.set(at(date(2018, 8, 27)))  # Mon: 3 working days before Thu 08-30
    assert run_tick(rt, SWEEPS[:3]).counts["remind"] == 32  # 16 leads + 16 contributions
    assert run_tick(rt, SWEEPS[:3]).counts["remind"] == 0
    item = _lead(rt, "hefei")
    assert _keys(rt, f"reminder:{item.id}:") == [f"reminder:{item.id}:T-3wd"]
