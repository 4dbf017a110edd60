"""Reminders, 催办 and 督办通知: exactly what the facts of the replay call for, each once."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from conftest import Replay
from replay_facts import FOREVER, Expected, Obligation, criticized
from replay_readers import Mail
from sqlalchemy import select

from engine.clock import overdue_from
from engine.models import ItemKind, ItemRole
from engine.workdays import default_calendar
from notifications.models import Document, DocumentKind, Notification, OutboxMessage
from simulator.behaviour import today_of


def _keys(replay: Replay, prefix: str) -> tuple[set[str], set[str]]:
    """Dedupe keys of the in-app notes and of the outbox rows starting with ``prefix``."""
    with replay.sessions() as s:
        notes = {str(k) for k in s.scalars(select(Notification.dedupe_key)
                                           .where(Notification.dedupe_key.startswith(prefix)))}
        mail = set(s.scalars(select(OutboxMessage.dedupe_key)
                             .where(OutboxMessage.dedupe_key.startswith(prefix))))
    return notes, mail


def _notices(replay: Replay) -> dict[tuple[str, date], set[int]]:
    with replay.sessions() as s:
        docs = s.scalars(select(Document).where(Document.kind == DocumentKind.NOTICE)).all()
        found: dict[tuple[str, date], set[int]] = {}
        for doc in docs:
            assert doc.unit_id is not None
            key = (doc.unit_id, doc.issued_on)
            assert key not in found, f"两份督办通知：{key}"
            found[key] = set(doc.data["items"])
    return found


@pytest.mark.parametrize("prefix", ["reminder:", "urge:"])
def test_reminders_and_urges_are_exactly_those_the_facts_call_for(
        replay: Replay, expected: Expected, prefix: str) -> None:
    want = expected.reminders if prefix == "reminder:" else expected.urges
    notes, mail = _keys(replay, prefix)
    assert want, "the replay should need some of them"
    assert notes == want, f"多发：{sorted(notes - want)}；漏发：{sorted(want - notes)}"
    assert mail == want  # every simulated unit has a liaison with an address


def test_notices_go_to_the_right_unit_on_the_right_day_listing_the_right_items(
        replay: Replay, expected: Expected) -> None:
    found = _notices(replay)
    assert expected.notices, "the replay should reach the 督办 level"
    assert set(found) == set(expected.notices)
    for key, items in expected.notices.items():
        assert found[key] == items, key


def _per_key(mails: list[Mail]) -> Counter[str]:
    return Counter(m.key for m in mails)


def test_late_obligations_got_reminders_urge_and_escalation_once_each(
        replay: Replay, obligations: list[Obligation], expected: Expected,
        mails: list[Mail]) -> None:
    arrived = _per_key(mails)
    notices = _notices(replay)
    notice_mail = _notice_mail_keys(replay)
    # a 签收 or report not due before the replay's last tick is not late yet
    late = [ob for ob in obligations if ob.late() and not (
        ob.checkin and ob.due is not None and ob.due >= replay.req.end)]
    cal = default_calendar()
    assert any(ob.role is ItemRole.LEAD for ob in late)
    for ob in late:
        due = ob.due_on(overdue_from(replay.req.end))
        assert due is not None
        first = ob.first_submission()
        if first is None or first >= overdue_from(due):  # nothing handed in before the due date
            for k in ((0,) if ob.kind is ItemKind.ACK else (7, 1)):
                assert arrived[f"reminder:{ob.item_id}:T-{k}"] == 1, (ob, k)
        urges = [k for k in arrived if k.startswith(f"urge:{ob.item_id}:")]
        assert urges == [f"urge:{ob.item_id}:{due.isoformat()}"], ob
        assert arrived[urges[0]] == 1
        listed = sorted(day for (unit, day), items in notices.items() if ob.item_id in items)
        held_until = today_of(first) if first else replay.req.end
        if ob.role is ItemRole.LEAD and not ob.checkin and \
                cal.working_days_between(due, held_until) > 5:
            assert listed, ob  # in the unit's hands more than 5 working days past the due date
        if (ob.item_id, due) in expected.first_escalation:
            assert listed and listed[0] == expected.first_escalation[(ob.item_id, due)], ob
            assert arrived[notice_mail[(ob.unit_id, listed[0])]] == 1
        else:
            assert not listed, ob


def test_on_time_obligations_got_no_urge_and_no_notice(
        replay: Replay, obligations: list[Obligation], mails: list[Mail]) -> None:
    arrived = _per_key(mails)
    listed = {item for items in _notices(replay).values() for item in items}
    on_time = [ob for ob in obligations if not ob.late() and ob.original_due is not None]
    assert on_time
    for ob in on_time:
        assert not [k for k in arrived if k.startswith(f"urge:{ob.item_id}:")], ob
        assert ob.item_id not in listed, ob


def test_a_reminder_only_while_the_item_was_in_the_units_hands(
        replay: Replay, obligations: list[Obligation]) -> None:
    by_id = {ob.item_id: ob for ob in obligations}
    with replay.sessions() as s:
        rows = s.execute(select(OutboxMessage.dedupe_key, OutboxMessage.created_at)
                         .where(OutboxMessage.kind.in_(["reminder", "urge"]))).all()
    for key, created in rows:
        ob = by_id[int(key.split(":")[1])]
        assert ob.actionable_at(created), key


def _notice_mail_keys(replay: Replay) -> dict[tuple[str, date], str]:
    with replay.sessions() as s:
        rows = s.execute(select(Document.unit_id, Document.issued_on, OutboxMessage.dedupe_key)
                         .join(OutboxMessage, OutboxMessage.related_id ==
                               Document.id.cast(OutboxMessage.related_id.type))
                         .where(Document.kind == DocumentKind.NOTICE,
                                OutboxMessage.related_type == "document")).all()
    found: dict[tuple[str, date], str] = {}
    for unit, day, key in rows:
        assert unit is not None and (unit, day) not in found
        found[(unit, day)] = key
    return found


def test_every_escalated_unit_was_mailed_its_notice_once(
        replay: Replay, mails: list[Mail]) -> None:
    arrived = _per_key(mails)
    keys = _notice_mail_keys(replay)
    assert set(keys) == set(_notices(replay))
    per_unit: dict[str, int] = defaultdict(int)
    for (unit, _), key in keys.items():
        assert arrived[key] == 1, key
        per_unit[unit] += 1
    assert per_unit


def _second_notices(replay: Replay) -> dict[tuple[str, date], set[int]]:
    with replay.sessions() as s:
        found: dict[tuple[str, date], set[int]] = {}
        for doc in s.scalars(select(Document).where(Document.kind == DocumentKind.PRINCIPAL)):
            assert doc.unit_id is not None and (doc.unit_id, doc.issued_on) not in found
            found[(doc.unit_id, doc.issued_on)] = set(doc.data["items"])
    return found


def test_second_notices_are_exactly_those_the_facts_call_for_each_mailed_once(
        replay: Replay, expected: Expected, mails: list[Mail]) -> None:
    found = _second_notices(replay)
    assert expected.principal, "the replay should reach the level past the 督办通知"
    assert found == expected.principal
    arrived = _per_key(mails)
    with replay.sessions() as s:
        keys = s.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.kind == "principal")).all()
    assert len(keys) == len(found) and all(arrived[k] == 1 for k in keys)


def test_bulletins_name_for_criticism_exactly_the_items_past_the_second_notice(
        replay: Replay, expected: Expected, obligations: list[Obligation]) -> None:
    with replay.sessions() as s:
        docs = s.scalars(select(Document).where(Document.kind == DocumentKind.BULLETIN)
                         .order_by(Document.issued_on, Document.id)).all()
        named = [set(d.data.get("criticized", [])) for d in docs]
        periods = [(date.fromisoformat(d.data["as_of"]), d.issued_on) for d in docs]
    want = criticized(expected, obligations, periods)
    assert any(want), "some bulletin should name items for 通报批评"
    assert named == want


def test_silent_and_late_units_got_the_ack_and_progress_ladder_once_and_on_time_units_none(
        replay: Replay, obligations: list[Obligation], mails: list[Mail]) -> None:
    """签收 and 进展报送: the replay has units that acknowledge and report on time, late, or
    never; each late one got its reminder(s) and one 催办, none ever reached a 督办通知, and
    the on-time ones got no 催办."""
    arrived = _per_key(mails)
    listed = {item for items in _notices(replay).values() for item in items}
    for kind in (ItemKind.ACK, ItemKind.PROGRESS):
        items = [ob for ob in obligations if ob.kind is kind and ob.due is not None
                 and ob.due < replay.req.end]
        late = [ob for ob in items if ob.late()]
        # silent: nothing for more than a week past the due date (a silent unit's 签收 is
        # its evidence weeks later, its missing reports are withdrawn when the task closes)
        silent = [ob for ob in late if ob.due is not None and (
            ob.first_submission() or FOREVER) > overdue_from(ob.due) + timedelta(days=7)]
        on_time = [ob for ob in items if not ob.late()]
        assert late and silent and on_time, kind  # the seed plays every behaviour
        assert len(on_time) > len(late), kind  # most units are on time
        for ob in late:
            assert ob.due is not None
            assert arrived[f"urge:{ob.item_id}:{ob.due.isoformat()}"] == 1, ob
            assert ob.item_id not in listed, ob
        for ob in on_time:
            assert not [k for k in arrived if k.startswith(f"urge:{ob.item_id}:")], ob
    acks = [ob for ob in obligations if ob.kind is ItemKind.ACK]
    assert not [k for ob in acks for k in arrived
                if k.startswith(f"reminder:{ob.item_id}:T-") and not k.endswith(":T-0")]


def test_late_progress_reports_are_the_facts_the_assessment_counts(
        replay: Replay, obligations: list[Obligation]) -> None:
    from engine.checkins import late_reports

    want = {ob.item_id for ob in obligations if ob.kind is ItemKind.PROGRESS and ob.late()
            and ob.due is not None and ob.due < replay.req.end}
    with replay.sessions() as s:
        got = {r.item_id for r in late_reports(s, replay.req.end)}
    assert want and got == want
