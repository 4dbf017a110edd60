"""Checks for text that reaches a mail header, a PDF or a page: one clean line, a real address."""

from __future__ import annotations

import re
import unicodedata

from engine.errors import ValidationError

# local@domain.tld: no spaces, no control characters, one @, a dot in the domain (full match)
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (CR, LF, tab, NUL, …) or a line separator."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def clean_line(value: str | None, what: str, max_len: int, *, required: bool = True) -> str:
    """``value`` stripped; one line without control characters, at most ``max_len`` long."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"{what}不能为空")
    if has_control(text):
        raise ValidationError(f"{what}不能包含换行或控制字符")
    if len(text) > max_len:
        raise ValidationError(f"{what}不能超过 {max_len} 个字符")
    return text


def clean_email(value: str | None) -> str:
    """A mail address (the whole value must be one), lower-cased domain."""
    text = value or ""
    if text != text.strip() or not EMAIL.fullmatch(text) or len(text) > 200:
        raise ValidationError(f"邮箱格式不正确：{text!r}")
    local, _, domain = text.partition("@")
    return f"{local}@{domain.lower()}"


def quoted(title: str) -> str:
    """A title in double quotes, its own quotes turned single: 任务1“制定‘地方版’政策措施”."""
    inner = title.strip().translate(_INNER_QUOTES)
    return f"“{inner}”"


# GB/T 15834: quotes inside quotes are single quotes (“…‘…’…”).
_INNER_QUOTES = str.maketrans({"“": "‘", "”": "’"})
