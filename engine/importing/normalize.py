"""Text helpers of the readers: whitespace, width, numerals, the key names are looked up by."""

from __future__ import annotations

import re
import unicodedata

from engine.deadlines import _number  # the one Chinese-numeral reader of the engine

_SPACES = re.compile(r"[ \t\u00a0\u3000\r\f\v]+")
_ALL_SPACE = re.compile(r"\s+")
CN_NUMERAL = "〇零○一二三四五六七八九十百千两"
_CN_DATE = "〇零○一二三四五六七八九十"
DATE_LINE = re.compile(rf"^[（(]?\s*[0-9{_CN_DATE}]{{2,4}}\s*年\s*[0-9{_CN_DATE}]{{1,3}}"
                       rf"\s*月\s*[0-9{_CN_DATE}]{{1,3}}\s*日\s*[）)]?$")


def clean(text: str | None) -> str:
    """Whitespace runs (full-width too) to one space, lines joined, stripped."""
    if not text:
        return ""
    lines = [_SPACES.sub(" ", line).strip() for line in str(text).splitlines()]
    joined = ""
    for line in filter(None, lines):
        # Chinese text wrapped inside a cell: join without a space unless both sides are Latin.
        gap = " " if joined and joined[-1].isascii() and line[0].isascii() else ""
        joined += gap + line
    return joined


def key(name: str) -> str:
    """The form names are compared in: NFKC (full-width to half-width), no whitespace at all."""
    return _ALL_SPACE.sub("", unicodedata.normalize("NFKC", name))


def number(text: str) -> int | None:
    """An Arabic, full-width or Chinese numeral as an int; None when it is not one."""
    text = unicodedata.normalize("NFKC", text.strip())
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(c not in CN_NUMERAL for c in text):
        return None
    try:
        return _cn_number(text)
    except (KeyError, ValueError):
        return None


def _cn_number(text: str) -> int:
    """A Chinese numeral with 千 and 万 handled on top of the engine's reader (tens, hundreds)."""
    if "千" not in text:
        return _number(text.replace("两", "二"))
    high, _, low = text.partition("千")
    head = _number(high.replace("两", "二")) if high else 1
    tail = _number(low.lstrip("零〇")) if low.lstrip("零〇") else 0
    return head * 1000 + tail


def strip_punct(text: str) -> str:
    """Without trailing punctuation (。；，：、 and their half-width forms) and spaces."""
    return text.rstrip(" 。；;，,：:、.．!！?？")


def has_control(text: str) -> bool:
    """Whether the text holds control characters other than tab, CR and LF (binary data)."""
    return any(unicodedata.category(c) == "Cc" and c not in "\t\r\n\f\v" for c in text)
