"""Who receives a unit's mail: the rule in one place, cached per sweep.

The rule (docs/scheduler.md):

- A unit is reached through its liaisons: the active users of the unit with the liaison role
  and an email address, each as ``显示名 <addr>``.
- A unit with no such liaison falls back to the unit's own address (``Unit.email``), shown
  with the unit's name valid on the day of sending.
- A unit with neither gets no mail; the in-app notification (by unit) is still written, and
  the sweep logs the gap so an administrator can add an address.
- The supervising office (the cc of every supervision notice) is reached through its active
  supervisors with an email; without one, through the office's liaisons or address as above.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Role, Unit, User
from engine.text import EMAIL, has_control

log = logging.getLogger(__name__)

Address = tuple[str, str]  # (display name, address)


class Recipients:
    """Addresses of units for one sweep (one query per unit and role, then cached)."""

    def __init__(self, s: Session, day: date) -> None:
        self._s = s
        self._day = day
        self._cache: dict[tuple[str, Role], list[Address]] = {}
        self._warned: set[str] = set()

    def unit(self, unit_id: str) -> list[Address]:
        """A unit's liaisons with an email, else the unit's address, else nobody."""
        return self._users_or_unit(unit_id, Role.LIAISON)

    def office(self, unit_id: str) -> list[Address]:
        """The supervising office: its supervisors with an email, else as ``unit``."""
        found = self._users(unit_id, Role.SUPERVISOR)
        return found or self.unit(unit_id)

    def _users_or_unit(self, unit_id: str, role: Role) -> list[Address]:
        found = self._users(unit_id, role)
        if found:
            return found
        unit = self._s.get(Unit, unit_id)
        usable = self._usable(unit.name_on(self._day), unit.email, unit_id) \
            if unit is not None and unit.email else None
        if usable is not None:
            return [usable]
        if unit_id not in self._warned:
            self._warned.add(unit_id)
            log.warning("unit %s has no liaison with an email and no unit email: "
                        "in-app notes only", unit_id)
        return []

    def _users(self, unit_id: str, role: Role) -> list[Address]:
        key = (unit_id, role)
        if key not in self._cache:
            rows = self._s.execute(
                select(User.display_name, User.email).where(
                    User.unit_id == unit_id, User.role == role, User.active.is_(True),
                    User.email.is_not(None), User.email != "").order_by(User.id))
            self._cache[key] = [usable for name, email in rows
                                if (usable := self._usable(name, email, unit_id))]
        return self._cache[key]

    def _usable(self, name: str, email: str | None, unit_id: str) -> Address | None:
        """An address as it may go into a header: a bad stored one is skipped (and logged),
        so one unit's typo never blocks the mail to every other unit."""
        if not email or not EMAIL.fullmatch(email):
            if email:
                log.warning("unit %s: skipping malformed address %r", unit_id, email)
            return None
        return ("".join(ch for ch in name if not has_control(ch)), email)


def merged(*groups: Iterable[Address]) -> list[Address]:
    """Several address lists as one, each address once, in order of first appearance."""
    seen: dict[str, Address] = {}
    for group in groups:
        for name, addr in group:
            seen.setdefault(addr.lower(), (name, addr))
    return list(seen.values())
