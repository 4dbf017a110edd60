"""Test helpers for the 签收 and progress items (engine.checkins) that scenarios about other
things want out of the way: the units acknowledge and report on time, so only what the test is
about sends mail."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from engine import checkins
from engine.access import Actor
from engine.models import ACTIONABLE, CHECKIN_KINDS, ItemKind, Role, WorkItem


def settle_checkins(rt, actors: Mapping[str, Actor] | None = None) -> int:
    """Every open 签收 and progress item: acknowledged or reported by the unit's actor in
    ``actors``, else by a liaison of the unit with no account (a unit known by mail only)."""
    done = 0
    with rt.sessions() as s, s.begin():
        items = s.scalars(select(WorkItem).where(WorkItem.kind.in_(CHECKIN_KINDS),
                                                 WorkItem.status.in_(ACTIONABLE))
                          .order_by(WorkItem.id)).all()
        for item in items:
            actor = (actors or {}).get(item.unit_id) or Actor(None, f"{item.unit_id}-liaison",
                                                             Role.LIAISON, item.unit_id)
            if item.kind is ItemKind.ACK:
                checkins.acknowledge(s, rt.clock, actor, item.id)
            else:
                checkins.report_progress(s, rt.clock, actor, item.id, text="按计划推进。")
            done += 1
    return done


def evidence_items(items):
    """The items that take evidence, a contribution or a review (not 签收, progress, plan)."""
    return [it for it in items if it.kind not in (*CHECKIN_KINDS, ItemKind.PLAN)]
