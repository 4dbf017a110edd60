"""One search box over tasks, units, evidence, notices and bulletins, cut to what the actor
may read (engine.access), with filters: policy, unit, status, period.

Plain substring matches (LIKE) with a limit per kind: the tables a supervision office keeps
are small enough, and a Chinese phrase has no word boundaries a full-text index would need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.access import Actor
from engine.clock import CHINA_TZ
from engine.models import (
    Cycle,
    Evidence,
    Instance,
    ItemStatus,
    Policy,
    PolicyTask,
    Role,
    Unit,
    UnitAlias,
    UnitName,
    WorkItem,
)

LIMIT = 50
MIN_CHARS = 1
MAX_CHARS = 100


@dataclass(frozen=True)
class Filters:
    """What the search is narrowed to; None: everything."""

    policy: str | None = None
    unit: str | None = None
    status: str | None = None        # a work item status value
    since: date | None = None
    until: date | None = None


@dataclass
class Hit:
    """One result: what it is, a title, a line of context, where it leads."""

    kind: str        # task | unit | evidence | document
    title: str
    snippet: str
    ref: dict[str, Any]


@dataclass
class Results:
    """Hits by kind, each kind capped at LIMIT."""

    query: str
    hits: dict[str, list[Hit]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.hits.values())


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its % and _ taken literally (escape \\)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet(text: str, query: str, width: int = 60) -> str:
    """The part of ``text`` around the first match."""
    at = text.find(query)
    start = max(0, at - width // 2) if at >= 0 else 0
    part = text[start:start + width]
    return ("…" if start else "") + part + ("…" if start + width < len(text) else "")


def search(s: Session, actor: Actor, query: str, day: date,
           f: Filters = Filters()) -> Results:  # noqa: B008
    """Every kind of hit the actor may read (units named as on ``day``)."""
    query = query.strip()[:MAX_CHARS]
    out = Results(query)
    if len(query) < MIN_CHARS:
        return out
    pattern = like_pattern(query)
    out.hits["task"] = _tasks(s, pattern, query, f)
    if actor.role is not Role.LIAISON:
        out.hits["unit"] = _units(s, pattern, day)
    out.hits["evidence"] = _evidence(s, actor, pattern, query, f)
    return out


def _tasks(s: Session, pattern: str, query: str, f: Filters) -> list[Hit]:
    q = (select(PolicyTask.policy_id, PolicyTask.number, PolicyTask.title, PolicyTask.text,
                Policy.title, PolicyTask.lead_unit_ids, PolicyTask.supporting_unit_ids)
         .join(Policy, Policy.id == PolicyTask.policy_id)
         .where(or_(PolicyTask.text.like(pattern, escape="\\"),
                    PolicyTask.title.like(pattern, escape="\\")))
         .order_by(Policy.issued_on.desc(), PolicyTask.number))
    if f.policy:
        q = q.where(PolicyTask.policy_id == f.policy)
    rows = s.execute(q if f.unit else q.limit(LIMIT)).all()
    if f.unit:  # the unit lists are JSON: a task of the unit leads or supports (tasks are few)
        rows = [r for r in rows if f.unit in (r[5] or []) or f.unit in (r[6] or [])][:LIMIT]
    return [Hit("task", f"任务{n} · {title}", snippet(text, query),
                {"policy": pid, "number": n, "policy_title": ptitle})
            for pid, n, title, text, ptitle, _lead, _supporting in rows]


def _units(s: Session, pattern: str, day: date) -> list[Hit]:
    ids = set(s.scalars(select(UnitName.unit_id).where(
        or_(UnitName.name.like(pattern, escape="\\"),
            UnitName.short_name.like(pattern, escape="\\"))).limit(LIMIT)))
    ids |= set(s.scalars(select(UnitAlias.unit_id).where(
        UnitAlias.alias.like(pattern, escape="\\")).limit(LIMIT)))
    units = s.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.sort_order))
    return [Hit("unit", u.name_on(day), "、".join(n.name for n in u.names), {"unit": u.id})
            for u in units]


def _evidence(s: Session, actor: Actor, pattern: str, query: str, f: Filters) -> list[Hit]:
    q = (
        select(Evidence.id, Evidence.text, Evidence.unit_id, Evidence.submitted_at,
               Evidence.work_item_id, PolicyTask.number, PolicyTask.policy_id, Cycle.label,
               Instance.lead_unit_id, WorkItem.status)
        .join(Instance, Instance.id == Evidence.instance_id)
        .join(PolicyTask, PolicyTask.id == Instance.task_id)
        .join(Cycle, Cycle.id == Instance.cycle_id)
        .join(WorkItem, WorkItem.id == Evidence.work_item_id)
        .where(Evidence.text.like(pattern, escape="\\"))
        .order_by(Evidence.submitted_at.desc()).limit(LIMIT))
    if actor.role is Role.LIAISON:  # the own unit's work, as engine.access.views has it
        q = q.where(or_(Evidence.unit_id == actor.unit_id, Instance.lead_unit_id == actor.unit_id))
    if f.policy:
        q = q.where(PolicyTask.policy_id == f.policy)
    if f.unit:
        q = q.where(or_(Evidence.unit_id == f.unit, Instance.lead_unit_id == f.unit))
    if f.status and f.status in {st.value for st in ItemStatus}:
        q = q.where(WorkItem.status == f.status)
    if f.since:
        q = q.where(Evidence.submitted_at >= datetime.combine(f.since, time(0), CHINA_TZ))
    if f.until:
        q = q.where(Evidence.submitted_at < datetime.combine(f.until, time.max, CHINA_TZ))
    return [Hit("evidence", f"任务{number} · {label}", snippet(text, query),
                {"item": item_id, "unit": unit, "policy": pid, "at": at})
            for _, text, unit, at, item_id, number, pid, label, _lead, _st in s.execute(q)]
