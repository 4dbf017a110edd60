"""Numbered paragraphs whose units travel with each item -> ``Item``s.

Three shapes of real documents (shared/notes/domain.md): a closing parenthesis
"（市政府办公室、市审改办牵头，市级各有关部门按职责分工负责）", a line "部门分工：省发展改革委牵头，
各地、各部门配合。", or lines "牵头单位：…" / "责任单位：…" / "配合单位：…" under the item
("分管省领导：…" lines name leaders, not units, and are skipped).
"""

from __future__ import annotations

import re

from engine.importing.annex import Line
from engine.importing.model import Problems
from engine.importing.normalize import DATE_LINE, clean
from engine.importing.outline import UNNUMBERED, Field, Item, split_label

_FIELD_LINE = re.compile(
    r"^(牵头单位|牵头部门|责任单位|责任部门|配合单位|配合部门|协同单位|协办单位|部门分工|分工|"
    r"完成时限|时限要求|完成时间|时间节点|时限|"
    r"分管省领导|分管市领导|分管区领导|分管县领导|分管领导|责任领导|责任人|联系人)\s*[:：]\s*(.*)$")
_FIELD_ROLE = {"牵头单位": "lead", "牵头部门": "lead", "责任单位": "responsible",
               "责任部门": "responsible", "配合单位": "supporting", "配合部门": "supporting",
               "协同单位": "supporting", "协办单位": "supporting", "部门分工": "duties",
               "分工": "duties", "完成时限": "deadline", "时限要求": "deadline",
               "完成时间": "deadline", "时间节点": "deadline", "时限": "deadline"}
_DUTIES = re.compile(r"[（(]([^（）()]{2,300}?(?:牵头|负责|配合|参与|协助|落实))[）)]"
                     r"\s*[。；;]?\s*$")
_LEAD_WORD = re.compile(r"(?:牵头|牵头负责)$")
_HELP_WORD = re.compile(r"(?:配合|参与|协助|协同|共同推进|参与配合)$")
_END_LINE = re.compile(r"^(附件|附表|抄送|（此件|\(此件|印发|联系人)")


def read_paragraphs(lines: list[Line], problems: Problems) -> list[Item]:
    """Every numbered paragraph as an item, with the unit lines that follow it."""
    items: list[Item] = []
    current: Item | None = None
    stops = _stop_lines(lines)
    for index, line in enumerate(lines):
        text = clean(line.text)
        if not text:
            continue
        if index in stops:
            current = None
            continue
        field_line = _FIELD_LINE.match(text)
        if field_line and current is not None:
            _field(current, field_line.group(1), field_line.group(2), line.place)
            continue
        label, level, rest = split_label(text)
        if label:
            current = Item(label, level, rest, line.place, head=rest)
            items.append(current)
        elif current is not None and not field_line:
            current.text += text
    for item in items:
        _closing_duties(item)
        _settle_responsible(item)
    return items


def _stop_lines(lines: list[Line]) -> set[int]:
    """Lines that end the current item: dates, signatures above them, 附件/抄送 lines."""
    stops: set[int] = set()
    last_text: int | None = None
    for index, line in enumerate(lines):
        text = clean(line.text)
        if not text:
            continue
        if DATE_LINE.match(text):
            stops.add(index)
            if last_text is not None and len(clean(lines[last_text].text)) <= 40:
                stops.add(last_text)
        elif _END_LINE.match(text):
            stops.add(index)
        last_text = index
    return stops


def _field(item: Item, name: str, value: str, place: str) -> None:
    """A "牵头单位：…" style line under an item."""
    role = _FIELD_ROLE.get(name)
    if role is None:
        return  # 分管省领导, 责任人 …: people, not units
    if role == "duties":
        _duties(item, value, place)
    elif role == "responsible":
        item.remark = Field(value, f"{place} {name}")  # settled once the item is complete
    else:
        setattr(item, role, Field(value, f"{place} {name}"))


def _settle_responsible(item: Item) -> None:
    """责任单位 is the lead when no 牵头单位 was given, else the supporting units."""
    if item.remark is None:
        return
    responsible, item.remark = item.remark, None
    if item.lead is None:
        item.lead = responsible
    elif item.supporting is None:
        item.supporting = responsible


def _closing_duties(item: Item) -> None:
    """Units in a closing parenthesis: "（A、B牵头，C按职责分工负责）"."""
    match = _DUTIES.search(item.text)
    if match and item.lead is None:
        item.text = item.text[:match.start()].rstrip() + item.text[match.end():].strip()
        _duties(item, match.group(1), item.place)


def _duties(item: Item, value: str, place: str) -> None:
    """A division of duties: parts ending in 牵头 lead, in 配合/参与 support, in 负责 lead first."""
    leads: list[str] = []
    helpers: list[str] = []
    for part in filter(None, (p.strip() for p in re.split(r"[，,；;]", value.rstrip("。；; ")))):
        if _LEAD_WORD.search(part):
            leads.append(_LEAD_WORD.sub("", part))
        elif _HELP_WORD.search(part):
            helpers.append(_HELP_WORD.sub("", part))
        elif not leads and not re.search(r"职责|分别", part):
            leads.append(part)  # "（市发改委负责）"
        else:
            helpers.append(part)
    if leads:
        item.lead = Field("、".join(leads), place)
    if helpers:
        item.supporting = Field("、".join(helpers), place)


def is_numbered(text: str) -> bool:
    """Whether a line starts with a numbering of some level."""
    return split_label(clean(text))[1] != UNNUMBERED
