"""The unit registry shared by every policy: units with names over time, aliases and groups.

Policies refer to units by id; a table refers to them by any name they were ever known by
(full name, short name, alias) or by a group phrase (各市人民政府). ``unit_defs`` and
``groups`` read the registry back in the shapes the policy loader and the importer use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine import access, audit
from engine.access import Actor
from engine.clock import Clock
from engine.errors import ValidationError
from engine.models import Role, Unit, UnitAlias, UnitGroup, UnitKind, UnitName
from engine.policy import UnitDef
from engine.policy import UnitName as NameDef
from engine.text import clean_line


def unit_defs(s: Session) -> list[UnitDef]:
    """Every unit of the registry as a ``UnitDef`` (names over time and aliases)."""
    aliases: dict[str, list[str]] = {}
    for alias, unit_id in s.execute(select(UnitAlias.alias, UnitAlias.unit_id)
                                    .order_by(UnitAlias.alias)):
        aliases.setdefault(unit_id, []).append(alias)
    units = s.scalars(select(Unit).options(selectinload(Unit.names))
                      .order_by(Unit.sort_order, Unit.id))
    return [UnitDef(id=u.id, kind=u.kind.value,
                    names=tuple(NameDef(n.name, n.short_name, n.valid_from, n.valid_to)
                                for n in u.names) or (NameDef(u.id),),
                    aliases=tuple(aliases.get(u.id, ()))) for u in units]


def groups(s: Session) -> dict[str, tuple[str, ...]]:
    """Group phrase -> member unit ids."""
    return {g.name: tuple(g.members) for g in s.scalars(select(UnitGroup).order_by(UnitGroup.name))}


def store_aliases(s: Session, unit_id: str, names: Iterable[str]) -> None:
    """Record aliases of a unit (an alias already another unit's is left to that unit)."""
    for alias in names:
        row = s.get(UnitAlias, alias)
        if row is None:
            s.add(UnitAlias(alias=alias, unit_id=unit_id))


def store_groups(s: Session, found: Mapping[str, Iterable[str]]) -> None:
    """Create or replace groups."""
    for name, members in found.items():
        row = s.get(UnitGroup, name)
        if row is None:
            s.add(UnitGroup(name=name, members=list(members)))
        else:
            row.members = list(members)


def create_unit(s: Session, clock: Clock, actor: Actor, *, unit_id: str, name: str,
                kind: UnitKind = UnitKind.OTHER, short_name: str | None = None,
                valid_from: date | None = None) -> Unit:
    """A new unit of the registry (an import that meets a name nobody knows)."""
    access.require_role(actor, Role.SUPERVISOR, Role.ADMIN, what="登记新单位")
    name = clean_line(name, "单位名称", 100)
    if s.get(Unit, unit_id) is not None:
        raise ValidationError(f"单位编号 {unit_id} 已存在")
    taken = s.scalar(select(UnitName.unit_id).where(UnitName.name == name).limit(1)) or \
        s.scalar(select(UnitAlias.unit_id).where(UnitAlias.alias == name))
    if taken:
        raise ValidationError(f"名称“{name}”已属于单位 {taken}")
    last = s.scalar(select(Unit.sort_order).order_by(Unit.sort_order.desc()).limit(1)) or 0
    unit = Unit(id=unit_id, kind=kind, sort_order=last + 1)
    unit.names.append(UnitName(name=name, short_name=clean_line(short_name, "简称", 40,
                                                                 required=False) or None,
                               valid_from=valid_from))
    s.add(unit)
    s.flush()
    audit.record(s, clock, actor=actor.username, action="create_unit", object_type="unit",
                 object_id=unit_id, after={"name": name, "kind": kind})
    return unit


def new_unit_id(s: Session, prefix: str = "u") -> str:
    """A fresh unit id ``u0001`` … for a unit an import creates."""
    taken = set(s.scalars(select(Unit.id).where(Unit.id.like(f"{prefix}%"))))
    n = len(taken) + 1
    while f"{prefix}{n:04d}" in taken:
        n += 1
    return f"{prefix}{n:04d}"


def add_alias(s: Session, clock: Clock, actor: Actor, unit_id: str, alias: str) -> None:
    """Map a name read in a table to an existing unit, for this and every later import."""
    access.require_role(actor, Role.SUPERVISOR, Role.ADMIN, what="登记单位别名")
    alias = clean_line(alias, "别名", 100)
    if s.get(Unit, unit_id) is None:
        raise ValidationError(f"单位 {unit_id} 不存在")
    row = s.get(UnitAlias, alias)
    if row is not None and row.unit_id != unit_id:
        raise ValidationError(f"“{alias}”已是单位 {row.unit_id} 的别名")
    if row is None:
        s.add(UnitAlias(alias=alias, unit_id=unit_id))
        audit.record(s, clock, actor=actor.username, action="add_alias", object_type="unit",
                     object_id=unit_id, after={"alias": alias})


def set_group(s: Session, clock: Clock, actor: Actor, name: str, members: list[str]) -> None:
    """Define (or redefine, or with no members remove) a group phrase of the registry."""
    access.require_role(actor, Role.SUPERVISOR, Role.ADMIN, what="维护单位组")
    name = clean_line(name, "单位组名称", 100)
    unknown = [m for m in members if s.get(Unit, m) is None]
    if unknown:
        raise ValidationError(f"单位 {unknown[0]} 不存在")
    row = s.get(UnitGroup, name)
    before = list(row.members) if row else None
    if not members:
        if row is not None:
            s.delete(row)
    elif row is None:
        s.add(UnitGroup(name=name, members=list(dict.fromkeys(members))))
    else:
        row.members = list(dict.fromkeys(members))
    audit.record(s, clock, actor=actor.username, action="set_group", object_type="unit_group",
                 object_id=name[:60], before={"members": before}, after={"members": members})


def units_json(s: Session, day: date) -> list[dict[str, Any]]:
    """``duban units list --json``: id, name (today), short name, kind, names, aliases."""
    out: list[dict[str, Any]] = []
    for unit in unit_defs(s):
        entry = unit.entry_on(day)
        out.append({"id": unit.id, "name": entry.name, "short_name": entry.short_name,
                    "kind": unit.kind,
                    "names": [{"name": n.name, "short_name": n.short_name,
                               "valid_from": n.valid_from.isoformat() if n.valid_from else None,
                               "valid_to": n.valid_to.isoformat() if n.valid_to else None}
                              for n in unit.names],
                    "aliases": list(unit.aliases)})
    return out
