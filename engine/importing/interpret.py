"""Items read by any reader -> ``ImportedTask``s: units resolved, deadline and targets read.

A leaf without its own units or deadline takes its heading's (an item "（一）…（市发改委牵头）"
with measures under it), with a warning. In a document of numbered paragraphs only the sections
that name units anywhere hold obligations: the others (一、总体要求) are prose, and each skipped
section is reported once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from engine.importing.dates import DeadlineReader, find_in_text
from engine.importing.directory import UnitDirectory
from engine.importing.model import ImportedTask, ImportOptions, Problems
from engine.importing.normalize import clean
from engine.importing.outline import Field, Item, Leaf, heading_of, leaves, title_of
from engine.importing.targets import read_targets
from engine.importing.units import UnitCell, UnitReader


@dataclass
class Reading:
    """What interpreting one document needs, and the unit names it met that nobody knows."""

    directory: UnitDirectory
    options: ImportOptions
    problems: Problems
    year: int | None
    issued_on: date | None
    new_units: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """One unit reader and one deadline reader for the whole document."""
        self.units = UnitReader(self.directory, self.issued_on, self.problems,
                                self.options.create_units)
        self.deadlines = DeadlineReader(self.year, self.issued_on, self.problems)


def build_tasks(items: list[Item], reading: Reading, prose: bool) -> list[ImportedTask]:
    """The obligations of a document; ``prose``: numbered paragraphs, not a table."""
    found = leaves(items)
    if prose:
        found = _sections_with_units(found, reading.problems)
    return [_task(number, leaf, reading) for number, leaf in enumerate(found, start=1)]


def _has_units(item: Item) -> bool:
    """Whether an item names a lead or supporting unit itself."""
    return any(f is not None and clean(f.text) for f in (item.lead, item.supporting))


def _sections_with_units(found: list[Leaf], problems: Problems) -> list[Leaf]:
    """The leaves of top-level sections that name units; one warning per section left out."""
    if not any(_has_units(leaf.item) or any(map(_has_units, leaf.ancestors)) for leaf in found):
        return found
    kept: list[Leaf] = []
    sections: dict[int, list[Leaf]] = {}
    for leaf in found:
        top = leaf.ancestors[0] if leaf.ancestors else leaf.item
        sections.setdefault(id(top), []).append(leaf)
    for members in sections.values():
        if any(_has_units(m.item) or any(map(_has_units, m.ancestors)) for m in members):
            kept += members
            continue
        top = members[0].ancestors[0] if members[0].ancestors else members[0].item
        problems.warning(top.place, f"“{heading_of(top)}”下的 {len(members)} 项未写责任单位，"
                                    "未作为任务读取", heading_of(top))
    return sorted(kept, key=found.index)


def _inherited(leaf: Leaf, attr: str) -> tuple[Field | None, Item | None]:
    """The item's own field when filled, else the nearest heading's (and that heading)."""
    own = getattr(leaf.item, attr)
    if own is not None and clean(own.text):
        return own, None
    for above in reversed(leaf.ancestors):
        value = getattr(above, attr)
        if value is not None and clean(value.text):
            return value, above
    return own, None


def _task(number: int, leaf: Leaf, reading: Reading) -> ImportedTask:
    """One obligation."""
    item, problems = leaf.item, reading.problems
    text = _limited(clean(item.text), item.place, reading)
    if not text:
        problems.error(item.place, "未写任务内容")
    lead, supporting = _units(leaf, reading)
    deadline_field, source = _deadline_field(leaf, text, problems)
    deadline = reading.deadlines.read(
        _limited(deadline_field.text, deadline_field.place, reading) if deadline_field else "",
        deadline_field.place if deadline_field else item.place, text, item.place, source)
    notes = list(dict.fromkeys(item.notes + lead.notes + supporting.notes))
    return ImportedTask(
        number=number, label=leaf.label, path=leaf.path, title=title_of(text), text=text,
        lead=lead.refs, supporting=supporting.refs, more_units=lead.more or supporting.more,
        notes=notes, deadline=deadline.phrase, rule=deadline.rule,
        targets=read_targets(text, item.place, problems), place=item.place,
        deadline_source=deadline.source, remark=clean(item.remark.text) if item.remark else "")


def _units(leaf: Leaf, reading: Reading) -> tuple[UnitCell, UnitCell]:
    """Lead and supporting units of a leaf (inherited from its heading when it names none)."""
    problems = reading.problems
    lead_field, lead_from = _inherited(leaf, "lead")
    support_field = leaf.item.supporting
    if lead_from is not None:
        problems.warning(leaf.item.place, f"未写牵头单位，沿用上级“{heading_of(lead_from)}”的"
                                          f"“{clean(lead_field.text if lead_field else '')}”")
        if support_field is None or not clean(support_field.text):
            support_field = lead_from.supporting
    for cell in (lead_field, support_field):
        if cell is not None:
            cell.text = _limited(cell.text, cell.place, reading)
    lead = reading.units.read(lead_field)
    supporting = reading.units.read(support_field)
    place = lead_field.place if lead_field else leaf.item.place
    if not lead.refs:
        problems.error(place, "未写牵头单位" if not lead.notes else
                       f"牵头单位只写了“{'、'.join(lead.notes)}”，没有具体单位")
    lead_ids = {r.unit_id for r in lead.refs if r.unit_id}
    both = [r for r in supporting.refs if r.unit_id in lead_ids]
    if both:
        problems.warning(support_field.place if support_field else place,
                         f"“{both[0].written}”已是牵头单位，不再列为配合单位", both[0].written)
        supporting.refs = [r for r in supporting.refs if r not in both]
    for read in (lead, supporting):
        reading.new_units += [n for n in read.unknown if n not in reading.new_units]
    return lead, supporting


def _deadline_field(leaf: Leaf, text: str, problems: Problems) -> tuple[Field | None, str]:
    """The deadline cell to read: the item's, else (when its text states none) its heading's."""
    own = leaf.item.deadline
    if (own is not None and clean(own.text)) or find_in_text(text):
        return own, "column"
    value, above = _inherited(leaf, "deadline")
    if above is None or value is None:
        return own, "column"
    problems.warning(leaf.item.place,
                     f"未写时限，沿用上级“{heading_of(above)}”的“{clean(value.text)}”")
    return value, "inherited"


def _limited(text: str, place: str, reading: Reading) -> str:
    """The text, cut to the cell limit with an error when longer."""
    limit = reading.options.max_cell_chars
    if len(text) <= limit:
        return text
    reading.problems.error(place, f"内容长达 {len(text)} 字，超过单元格上限 {limit} 字", text[:40])
    return text[:limit]
