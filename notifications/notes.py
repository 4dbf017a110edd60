"""What every scheduler step shares: in-app notes, mail beside them, batches, the signature.

A step records what it did as an in-app ``Notification`` under a unique dedupe key (the same key
as its mail), so ``existing_keys`` tells a repeat run what is already done, and ``run_batched``
handles the rest: one transaction per batch, one savepoint and one ``try`` per entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.blobs import insert_ignoring
from engine.clock import Clock, today
from engine.units import unit_names
from notifications.chat import queue_for_note
from notifications.mail import enqueue
from notifications.models import Notification
from notifications.recipients import Recipients

log = logging.getLogger(__name__)

BATCH = 200
Handler = Callable[..., int]


def cn_date(day: date) -> str:
    """2018年9月15日."""
    return f"{day.year}年{day.month}月{day.day}日"


def existing_keys(s: Session, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` already have an in-app note (the sweeps' record of what was sent)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start:start + 500])
        found.update(s.scalars(select(Notification.dedupe_key).where(
            Notification.dedupe_key.in_(chunk))))
    return found


def add_note(s: Session, now: datetime, *, key: str, unit_id: str, kind: str, title: str,
             body: str, link: str | None) -> bool:
    """Insert the in-app note for ``key`` once, and queue it for the unit's group-chat robots
    (notifications.chat); False when it was already there."""
    stmt = insert_ignoring(s, Notification, "dedupe_key").values(
        unit_id=unit_id, kind=kind, title=title, body=body, link=link, dedupe_key=key,
        created_at=now)
    if s.execute(stmt.returning(Notification.id)).scalar_one_or_none() is None:
        return False
    queue_for_note(s, now, key=key, unit_id=unit_id, kind=kind, title=title, body=body)
    return True


def notify(s: Session, clock: Clock, to: Recipients, *, key: str, unit_id: str, kind: str,
           subject: str, text: str, link: str | None, related: tuple[str, int]) -> bool:
    """The in-app note and, when the unit has an address, the mail; both under ``key``."""
    if not add_note(s, clock.now(), key=key, unit_id=unit_id, kind=kind, title=subject,
                    body=text, link=link):
        return False
    addresses = to.unit(unit_id)
    if addresses:
        enqueue(s, clock, dedupe_key=key, kind=kind, to=addresses, subject=subject, text=text,
                related=related)
    else:
        log.debug("unit %s has no mail address: %s kept as an in-app note only", unit_id, key)
    return True


def batches(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    """``rows`` in slices of ``size``."""
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def run_batched(sessions: sessionmaker[Session], clock: Clock, todo: Sequence[Any],
                handler: Handler, *args: Any) -> int:
    """Handle ``todo`` in batches, each entry in its own savepoint and ``try``.

    ``handler(s, clock, names, recipients, entry, *args)`` returns how many things it did.
    """
    count = 0
    day = today(clock)
    for chunk in batches(todo):
        with sessions() as s, s.begin():
            names, to = unit_names(s, day), Recipients(s, day)
            for entry in chunk:
                try:
                    with s.begin_nested():
                        count += handler(s, clock, names, to, entry, *args)
                except Exception:  # noqa: BLE001 - one bad item must not block the sweep
                    log.exception("sweep entry %r failed", entry)
    return count


def signature(names: dict[str, str], office_unit_id: str, day: date) -> str:
    """The closing lines of a mail: the supervising office's name of the day, and the date."""
    return f"\n{names.get(office_unit_id, office_unit_id)}\n{cn_date(day)}\n"
