"""Word's automatic numbering rendered as text, so a numbered list reads like typed numbering.

A paragraph numbered by Word holds no "（一）" in its text: it names a list (numId) and a level
(ilvl), on itself or through its style, and numbering.xml says how that level is written
(numFmt, lvlText such as "（%1）"). Counting the paragraphs of each list gives the label.
"""

from __future__ import annotations

from typing import Any

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CN = "〇一二三四五六七八九"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_CHINESE_FORMATS = ("chineseCounting", "chineseCountingThousand", "ideographTraditional",
                    "japaneseCounting", "taiwaneseCounting", "ideographDigital")


def chinese(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 25 -> 二十五 (up to 99; larger as digits)."""
    if n >= 100:
        return "".join(_CN[int(c)] for c in str(n))
    tens, ones = divmod(n, 10)
    head = ("" if tens < 2 else _CN[tens]) + ("十" if tens else "")
    return head + (_CN[ones] if ones else "")


def _formatted(n: int, fmt: str) -> str:
    """A counter in a level's number format."""
    if fmt in _CHINESE_FORMATS:
        return chinese(n)
    if fmt == "decimalEnclosedCircle" and n <= len(_CIRCLED):
        return _CIRCLED[n - 1]
    return str(n)


class Numbering:
    """The list levels of one document and the counters of its lists."""

    def __init__(self, document: Any) -> None:
        """Read numbering.xml once (a document without lists has none)."""
        self._levels: dict[tuple[str, int], tuple[str, str, int]] = {}
        self._counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {a.get(f"{_W}abstractNumId"): a for a in root.iter(f"{_W}abstractNum")}
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            levels = abstract.get(ref.get(f"{_W}val") if ref is not None else None)
            for lvl in levels.iter(f"{_W}lvl") if levels is not None else ():
                self._levels[(num.get(f"{_W}numId"), int(lvl.get(f"{_W}ilvl", "0")))] = (
                    _val(lvl, "numFmt", "decimal"), _val(lvl, "lvlText", ""),
                    int(_val(lvl, "start", "1")))

    def label(self, paragraph: Any) -> str:
        """The rendered number of a paragraph ("（一）"), "" when Word does not number it."""
        num_id, ilvl = self._num_pr(paragraph)
        if num_id is None or (num_id, ilvl) not in self._levels:
            return ""
        counters = self._counters.setdefault(num_id, [0] * 9)
        counters[ilvl] += 1
        counters[ilvl + 1:] = [0] * (8 - ilvl)
        text = self._levels[(num_id, ilvl)][1]
        for level in range(ilvl + 1):
            lfmt, _, start = self._levels.get((num_id, level), ("decimal", "", 1))
            value = counters[level] + start - 1  # a level not yet counted shows its start
            text = text.replace(f"%{level + 1}", _formatted(max(value, start, 1), lfmt))
        return text

    def _num_pr(self, paragraph: Any) -> tuple[str | None, int]:
        """(numId, ilvl) of the paragraph, from itself or its style."""
        for owner in (paragraph._p, _style_element(paragraph)):
            ppr = owner.find(f"{_W}pPr") if owner is not None else None
            num_pr = ppr.find(f"{_W}numPr") if ppr is not None else None
            if num_pr is not None:
                num_id = num_pr.find(f"{_W}numId")
                ilvl = num_pr.find(f"{_W}ilvl")
                level = int(ilvl.get(f"{_W}val", "0")) if ilvl is not None else 0
                return (num_id.get(f"{_W}val") if num_id is not None else None), min(level, 8)
        return None, 0


def _style_element(paragraph: Any) -> Any:
    """The paragraph style's XML element, None when it has none."""
    try:
        return paragraph.style.element if paragraph.style is not None else None
    except (KeyError, AttributeError, ValueError):
        return None


def _val(element: Any, child: str, default: str) -> str:
    """The w:val of a child element, or ``default``."""
    found = element.find(f"{_W}{child}")
    return found.get(f"{_W}val", default) if found is not None else default
