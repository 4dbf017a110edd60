"""Unit lookups shared by the engine's modules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.models import Unit


def unit_names(s: Session, day: date, ids: Iterable[str] | None = None) -> dict[str, str]:
    """Unit id -> its name on ``day`` (two queries, whatever the number of units)."""
    q = select(Unit).options(selectinload(Unit.names)).order_by(Unit.sort_order)
    if ids is not None:
        q = q.where(Unit.id.in_(set(ids)))
    return {u.id: u.name_on(day) for u in s.scalars(q)}


def short_names(s: Session, day: date, ids: Iterable[str] | None = None) -> dict[str, str]:
    """Unit id -> its short name on ``day`` (for tables and charts); the full name if none."""
    q = select(Unit).options(selectinload(Unit.names)).order_by(Unit.sort_order)
    if ids is not None:
        q = q.where(Unit.id.in_(set(ids)))
    found: dict[str, str] = {}
    for unit in s.scalars(q):
        full = unit.name_on(day)
        entry = next((n for n in unit.names if n.name == full), None)
        found[unit.id] = (entry.short_name if entry is not None else None) or full
    return found
