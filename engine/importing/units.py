"""A unit cell as written -> unit references, vague phrases kept as notes, problems.

A cell lists units with 、，； or line breaks; a trailing 等 means "and others". Vague phrases
(有关单位, 按职责分工负责, 各地、各部门 …) name nobody and are kept as notes. Group phrases
(各市人民政府) expand through the directory. A part nobody knows is split by the directory's
names when it is two names written together ("市行政审批局市司法局"), else reported, with a
near miss if one is close.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from engine.importing.directory import UnitDirectory
from engine.importing.model import Problems, UnitRef
from engine.importing.normalize import clean, key
from engine.importing.outline import Field

_LEVEL = r"(?:省|市|区|县|州|市级|省级|区级|县级|省直|市直|区直|县直|中央驻[\u4e00-\u9fff]{1,3})?"
VAGUE = re.compile(
    rf"{_LEVEL}(?:各)?(?:有关|相关|其他|其他有关)(?:单位|部门|机构)(?:和单位)?"
    r"|各地|各部门|各地各部门|各单位|各有关方面|(?:按|根据)职责(?:分工)?(?:负责|落实|配合)?"
    r"|分别负责|共同负责")
_DUTY_SUFFIX = re.compile(r"(?:(?:按|根据)职责(?:分工)?(?:负责|落实|配合)?"
                          r"|牵头|负责|配合|参与|协助)$")
_MORE = re.compile(r"等(?:单位|部门|有关单位|相关单位)?$")
_SEPARATORS = re.compile(r"[、，,；;/／|｜\s]+")
_CONNECTORS = ("以及", "及", "和", "与", "、")
_GROUPISH = re.compile(r"各(?:(?!及|和|与)[\u4e00-\u9fff]){1,12}")
_NOTE_ANNOTATION = re.compile(r"[（(](?:牵头|配合|负责|主责|协办)[）)]")


@dataclass
class UnitCell:
    """What one cell names: units (groups expanded), vague notes, and whether it ended in 等."""

    refs: list[UnitRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    more: bool = False
    unknown: list[str] = field(default_factory=list)


class UnitReader:
    """Reads unit cells against one directory, on the policy's issue date."""

    def __init__(self, directory: UnitDirectory, on: date | None, problems: Problems,
                 create_units: bool) -> None:
        """Index the directory's names once per document (longest first for splitting)."""
        self.directory = directory
        self.on = on
        self.problems = problems
        self.create_units = create_units
        names = [(key(n), n) for n, _ in directory.names()]
        self._names = sorted({k for k, _ in names if k}, key=len, reverse=True)
        self._known = frozenset(self._names)
        self._written = dict(names)

    def read(self, cell: Field | None) -> UnitCell:
        """Every unit phrase of the cell, with problems at the cell's place."""
        result = UnitCell()
        text = _NOTE_ANNOTATION.sub("", self._lines(cell.text if cell else ""))
        if cell is None or not text:
            return result
        text = text.strip("。；;，,")
        more = _MORE.search(text)
        if more:
            result.more, text = True, text[:more.start()]
        for part in filter(None, _SEPARATORS.split(text)):
            self._part(part, cell, result)
        if not result.refs and result.notes:
            self.problems.warning(cell.place, f"“{clean(cell.text)}”不是具体单位", cell.text)
        return result

    def _lines(self, raw: str) -> str:
        """Line breaks separate units when every line holds known names, else they are a
        name wrapped in a narrow cell ("省人力资源社会保障" / "厅") and the lines are joined."""
        lines = [clean(line) for line in raw.splitlines() if clean(line)]
        if len(lines) > 1 and all(self._knows(p) for line in lines
                                  for p in _SEPARATORS.split(_MORE.sub("", line)) if p):
            return "、".join(lines)
        return clean(raw)

    def _knows(self, part: str) -> bool:
        """Whether a phrase is a known unit, group or vague phrase as it stands."""
        part = _DUTY_SUFFIX.sub("", part) or part
        return bool(VAGUE.fullmatch(part) or self.directory.lookup(part, self.on)
                    or self.directory.group(part) is not None)

    def _part(self, part: str, cell: Field, result: UnitCell) -> None:
        """One separated phrase: vague, a unit, a group, names written together, or unknown."""
        if VAGUE.fullmatch(part):
            result.notes.append(part)
            return
        duty = _DUTY_SUFFIX.search(part)
        if duty and duty.start() > 0:
            if VAGUE.fullmatch(duty.group()):
                result.notes.append(duty.group())
            part = part[:duty.start()]
            if VAGUE.fullmatch(part):
                result.notes.append(part)
                return
        if self._single(part, cell, result):
            return
        tokens = self._segment(key(part))
        if tokens and len(tokens) > 1:
            if not any(c in part for c in _CONNECTORS):
                shown = "”“".join(self._written.get(t, t) for t in tokens)
                self.problems.warning(cell.place, f"“{part}”按已知单位名称拆分为“{shown}”", part)
            for token in tokens:
                written = self._written.get(token, token)
                if not self._single(written, cell, result):
                    self._unknown(written, cell, result)
            return
        self._unknown(part, cell, result)

    def _single(self, part: str, cell: Field, result: UnitCell) -> bool:
        """A known vague phrase, unit or group; False when the directory does not know it."""
        if VAGUE.fullmatch(part):
            result.notes.append(part)
            return True
        unit_id = self.directory.lookup(part, self.on)
        if unit_id is not None:
            _add(result, UnitRef(part, unit_id), cell, self.problems)
            return True
        members = self.directory.group(part)
        if members is None:
            return False
        if not members:
            self.problems.error(cell.place, f"单位组“{part}”没有登记成员单位", part)
            result.refs.append(UnitRef(part, None, part))
        for member in members:
            _add(result, UnitRef(part, member, part), cell, self.problems)
        return True

    def _segment(self, text: str) -> list[str] | None:
        """``text`` as known names (longest first), with connectors between; None if it is not."""
        names, group = self._known, self.directory.group

        @cache
        def cover(i: int) -> tuple[str, ...] | None:
            """The names covering text[i:], or None."""
            if i == len(text):
                return ()
            for connector in _CONNECTORS:
                if text.startswith(connector, i) and i > 0:
                    rest = cover(i + len(connector))
                    if rest:
                        return rest
            for j in range(len(text), i, -1):
                piece = text[i:j]
                if piece in names or VAGUE.fullmatch(piece) or (piece.startswith("各") and (
                        group(piece) is not None or _GROUPISH.fullmatch(piece))):
                    rest = cover(j)
                    if rest is not None:
                        return (piece, *rest)
            return None

        found = cover(0)
        return list(found) if found else None

    def _unknown(self, part: str, cell: Field, result: UnitCell) -> None:
        """A phrase no unit or group answers to: a group without members, or a new unit."""
        if _GROUPISH.fullmatch(part):
            self.problems.error(cell.place, f"单位组“{part}”不在单位目录中，无法展开为具体单位",
                                part)
            result.refs.append(UnitRef(part, None, part))
            return
        close = difflib.get_close_matches(key(part), self._names, n=1, cutoff=0.6)
        hint = f"，是否为“{self._written[close[0]]}”？" if close else ""
        if self.create_units:
            self.problems.warning(cell.place, f"未知单位“{part}”，确认导入时将新建{hint}", part)
        else:
            self.problems.error(cell.place, f"未知单位“{part}”{hint}", part)
        result.unknown.append(part)
        result.refs.append(UnitRef(part, None))


def _add(result: UnitCell, ref: UnitRef, cell: Field, problems: Problems) -> None:
    """Append a resolved reference unless the cell already named that unit."""
    if any(r.unit_id == ref.unit_id for r in result.refs if r.unit_id):
        problems.warning(cell.place, f"单位“{ref.written}”重复，只计一次", ref.written)
        return
    result.refs.append(ref)
