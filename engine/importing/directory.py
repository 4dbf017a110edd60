"""The unit registry an import is read against: names over time, short names, aliases, groups.

``UnitDirectory`` is the protocol (the database side implements it over its unit tables);
``StaticDirectory`` is the in-memory one, built from a policy YAML by ``directory_from_policy``
or from ``UnitDef``s in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Protocol

from engine.importing.normalize import key
from engine.policy import PolicyDef, UnitDef


class UnitDirectory(Protocol):
    """The one unit registry shared by all policies."""

    def lookup(self, name: str, on: date | None = None) -> str | None:
        """The unit id for a full name, short name or alias; None when unknown."""
        ...

    def group(self, name: str) -> tuple[str, ...] | None:
        """Member unit ids of a group phrase; () for a known group without members."""
        ...

    def names(self) -> Iterable[tuple[str, str]]:
        """Every (name, unit id) known."""
        ...

    def display_name(self, unit_id: str, on: date) -> str:
        """The unit's full name on ``on``."""
        ...


class StaticDirectory:
    """A directory over ``UnitDef``s and a group mapping, compared by ``normalize.key``."""

    def __init__(self, units: Iterable[UnitDef],
                 groups: Mapping[str, tuple[str, ...]] | None = None) -> None:
        """Index every name, short name and alias by its comparison key."""
        self._units = {u.id: u for u in units}
        self._groups = {key(name): tuple(ids) for name, ids in (groups or {}).items()}
        self._by_name: dict[str, list[str]] = {}
        for unit in self._units.values():
            for name in unit.all_names():
                owners = self._by_name.setdefault(key(name), [])
                if unit.id not in owners:
                    owners.append(unit.id)

    def lookup(self, name: str, on: date | None = None) -> str | None:
        """The unit id; when a name stood for two units over time, the one of ``on``."""
        owners = self._by_name.get(key(name), [])
        if len(owners) > 1 and on is not None:
            current = [uid for uid in owners if any(
                n.valid_on(on) and key(name) in (key(n.name), key(n.short_name or ""))
                for n in self._units[uid].names)]
            owners = current or owners
        return owners[0] if owners else None

    def group(self, name: str) -> tuple[str, ...] | None:
        """The group's members, or None when the phrase is no group of this directory."""
        return self._groups.get(key(name))

    def names(self) -> Iterable[tuple[str, str]]:
        """Every name, short name and alias with its unit id."""
        for unit in self._units.values():
            for name in unit.all_names():
                yield name, unit.id

    def display_name(self, unit_id: str, on: date) -> str:
        """The full name on ``on``; the id itself for a unit this directory does not hold."""
        unit = self._units.get(unit_id)
        return unit.name_on(on) if unit else unit_id


def directory_from_policy(policy: PolicyDef) -> StaticDirectory:
    """The directory of one policy YAML: its units, aliases, short names and groups."""
    return StaticDirectory(policy.units.values(), policy.groups)
