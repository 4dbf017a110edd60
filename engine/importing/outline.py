"""Numbered items (rows or paragraphs) -> a tree whose leaves are the obligations.

Chinese official documents number their levels in a fixed order (GB/T 9704): 一、 > （一） >
1. / 1、 > （1） > ①. Every reader turns its rows or paragraphs into ``Item``s with the level of
their numbering; ``leaves`` nests them by level, so an item with children is a heading and shows
in its children's ``path``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.importing.normalize import strip_punct

UNNUMBERED = 6  # an item without numbering nests below every numbered level
_CN = "一二三四五六七八九十百"
_LEVELS: list[tuple[int, re.Pattern[str]]] = [(level, re.compile(pattern)) for level, pattern in [
    (1, rf"第[{_CN}]+部分\s*|[{_CN}]+\s*[、．.]\s*"),
    (2, rf"[（(]\s*[{_CN}]+\s*[）)]\s*"),
    (3, r"[0-9]{1,3}\s*[、．.](?![0-9])\s*"),
    (4, r"[（(]\s*[0-9]{1,3}\s*[）)]\s*"),
    (5, r"[①-⑳㉑-㉟]\s*"),
]]
_BARE = [(3, re.compile(r"[0-9]{1,4}")), (1, re.compile(rf"[{_CN}]+"))]
_CLAUSE_END = "，。；：！？,;:!?"
_OPENERS, _CLOSERS = "“‘（(《【[「", "”’）)》】]」"
TITLE_MAX = 60


@dataclass
class Field:
    """A cell or line that holds one part of a task, with its place."""

    text: str
    place: str


@dataclass
class Item:
    """A row or paragraph: its numbering, level, text and the cells that go with it."""

    label: str
    level: int
    text: str
    place: str
    lead: Field | None = None
    supporting: Field | None = None
    deadline: Field | None = None
    remark: Field | None = None
    parents: list[str] = field(default_factory=list)  # headings from a parent column
    heading: bool = False  # a section row: a heading even without children
    notes: list[str] = field(default_factory=list)  # vague phrases met while reading
    head: str = ""  # the item's first line, when its text runs on over several


@dataclass
class Leaf:
    """An obligation: its item, the headings above it and the items above it (outermost first)."""

    item: Item
    path: list[str]
    ancestors: list[Item]
    label: str


def split_label(text: str) -> tuple[str, int, str]:
    """(numbering as written, its level, the rest) of a text; ("", UNNUMBERED, text) if none."""
    for level, pattern in _LEVELS:
        match = pattern.match(text)
        if match and match.end() < len(text):
            return match.group().strip(), level, text[match.end():].strip()
    return "", UNNUMBERED, text


def cell_label(text: str) -> tuple[str, int]:
    """The level of a 序号 cell: a bare "1" is a task number, a bare "一" a section."""
    text = text.strip()
    for level, pattern in _BARE:
        if pattern.fullmatch(text):
            return text, level
    label, level, rest = split_label(text + " ")  # "1." alone in the cell
    return (label, level) if label and not rest else (text, UNNUMBERED)


def title_of(text: str) -> str:
    """The first clause of a text (outside quotes and brackets), at most TITLE_MAX chars."""
    depth = 0
    for i, char in enumerate(text):
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        elif char in _CLAUSE_END and depth == 0 and i > 0:
            return strip_punct(text[:i][:TITLE_MAX])
    return strip_punct(text[:TITLE_MAX])


def heading_of(item: Item) -> str:
    """How an item shows in a path: its numbering and its title ("（一）加强培育指导")."""
    text = item.head or item.text
    return f"{item.label}{title_of(text)}" if text else item.label


def leaves(items: list[Item]) -> list[Leaf]:
    """The items without children, each with its path; labels made unique with their parents."""
    parent: list[int | None] = []
    stack: list[int] = []
    for index, item in enumerate(items):
        while stack and items[stack[-1]].level >= item.level:
            stack.pop()
        parent.append(stack[-1] if stack else None)
        stack.append(index)
    has_child = {p for p in parent if p is not None}
    found: list[Leaf] = []
    for index, item in enumerate(items):
        if index in has_child or item.heading:
            continue
        chain = _chain(index, parent)
        above = [items[i] for i in chain]
        path = [heading_of(a) for a in above]
        for extra in item.parents:
            if extra and extra not in path and not any(p.endswith(extra) for p in path):
                path.append(extra)
        found.append(Leaf(item, path, above, item.label))
    _qualify_labels(found)
    return found


def _chain(index: int, parent: list[int | None]) -> list[int]:
    """The indices of an item's ancestors, outermost first."""
    chain: list[int] = []
    up = parent[index]
    while up is not None:
        chain.append(up)
        up = parent[up]
    return chain[::-1]


def _qualify_labels(found: list[Leaf]) -> None:
    """A label used twice ("3" under （一） and under （二）) gets its nearest heading's label."""
    counts: dict[str, int] = {}
    for leaf in found:
        counts[leaf.label] = counts.get(leaf.label, 0) + 1
    for leaf in found:
        if leaf.label and counts[leaf.label] > 1:
            labels = [a.label for a in leaf.ancestors if a.label]
            if labels:
                leaf.label = labels[-1] + leaf.label
