"""The importer's results: what was read from a document, and every problem with its place.

These are the contract between the readers (this package, pure) and whoever confirms an import
(database, CLI, web). ``ImportResult.to_json`` gives the ``duban policy import --json`` object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from engine.deadlines import DeadlineRule
from engine.policy import Target

if TYPE_CHECKING:
    from engine.importing.directory import UnitDirectory

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One reading worth telling: where (Chinese), how bad, what, and the text read."""

    place: str
    severity: str  # ERROR | WARNING
    message: str
    text: str | None = None


@dataclass(frozen=True)
class UnitRef:
    """One unit phrase read from a cell, resolved to a unit id when the directory knows it."""

    written: str
    unit_id: str | None
    group: str | None = None  # the group phrase ("各市人民政府") this member was expanded from


@dataclass
class ImportedTask:
    """One obligation (a leaf of the document's numbering) as read."""

    number: int
    label: str
    path: list[str]
    title: str
    text: str
    lead: list[UnitRef]
    supporting: list[UnitRef]
    more_units: bool
    notes: list[str]
    deadline: str
    rule: DeadlineRule | None
    targets: list[Target]
    place: str
    deadline_source: str = "column"  # column | text | inherited | default | none
    remark: str = ""  # the 备注 column, as written


@dataclass
class PolicyMeta:
    """The policy's own facts, read from the document or given by the options."""

    id: str | None
    title: str | None
    issuer: str | None
    issued_on: date | None
    reporting: str | None
    horizon_year: int | None = None
    selection_years: tuple[int, ...] = ()


@dataclass
class ImportResult:
    """A preview: every task as read, every problem, the unit names not yet known."""

    policy: PolicyMeta
    tasks: list[ImportedTask]
    problems: list[Problem]
    new_units: list[str]
    source_kind: str
    digest: str = ""  # sha256 of the uploaded bytes

    def ok(self) -> bool:
        """No problem is an error."""
        return not any(p.severity == ERROR for p in self.problems)

    def errors(self) -> list[Problem]:
        """The error-severity problems."""
        return [p for p in self.problems if p.severity == ERROR]

    def to_json(self, directory: UnitDirectory, horizon_year: int | None = None
                ) -> dict[str, Any]:
        """The ``duban policy import --json`` object (DESIGN.md contract)."""
        from engine.importing.jsonout import result_json  # jsonout imports this module

        return result_json(self, directory, horizon_year)


@dataclass(frozen=True)
class ImportOptions:
    """What the caller knows better than the document; options win over what was read."""

    policy_id: str | None = None
    title: str | None = None
    issuer: str | None = None
    issued_on: date | None = None
    horizon_year: int | None = None
    create_units: bool = False  # unknown units are errors unless set (then warnings)
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 5000
    max_cell_chars: int = 4000
    selection_years: tuple[int, ...] | None = None


@dataclass
class Problems:
    """A list of problems being collected, with shorthands for the two severities."""

    items: list[Problem] = field(default_factory=list)

    def error(self, place: str, message: str, text: str | None = None) -> None:
        """Record an error."""
        self.items.append(Problem(place, ERROR, message, text))

    def warning(self, place: str, message: str, text: str | None = None) -> None:
        """Record a warning."""
        self.items.append(Problem(place, WARNING, message, text))

    def add(self, problem: Problem) -> None:
        """Record a problem made elsewhere."""
        self.items.append(problem)
