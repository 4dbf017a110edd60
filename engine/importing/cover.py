"""The policy's own facts from its text: title, issuer, date of issue, the reporting rule.

The title is the first line that ends like a title (意见, 方案, 通知, 要点 …); the date is the
first line that is only a date ("2018年5月30日", the 成文日期 under the signature); the issuer is
the line just above it, else the part of the title before 关于. The reporting rule is the phrase
of the cover letter's "请于每月23日前报送…".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from engine.deadlines import parse_deadline
from engine.errors import DubanError
from engine.importing.normalize import DATE_LINE, clean, number, strip_punct

_TITLE_END = re.compile(r"(?:意见|方案|通知|要点|计划|办法|细则|安排|清单|分解表|规划|决定"
                        r"|纲要|措施|任务|通报|函|实施方案|分工)$")
_CN = "〇零○一二三四五六七八九十"
_DATE = re.compile(rf"([0-9{_CN}]{{2,4}})\s*年\s*([0-9{_CN}]{{1,3}})\s*月"
                   rf"\s*([0-9{_CN}]{{1,3}})\s*日")
_REPORTING = [re.compile(r"于\s*(每[^，。；、]{1,14}?前)"),
              re.compile(r"(每[月季年半][^，。；]{0,10}?前)\s*(?:报送|上报|报告|报)")]
_HORIZON = re.compile(r"(?:到|至|截至)\s*([0-9]{4})\s*年")
_ISSUER_END = re.compile(r"(?:政府|办公厅|办公室|委员会|委|厅|局|部|办|中心|小组|集团|公司"
                         r"|银行|支行|院)$")


@dataclass
class Cover:
    """What the text says about the policy itself (None where it says nothing)."""

    title: str | None = None
    issuer: str | None = None
    issued_on: date | None = None
    reporting: str | None = None
    date_place: str | None = None


def read_cover(lines: list[tuple[str, str]]) -> Cover:
    """Title, issuer, date and reporting rule from (place, text) lines of the document."""
    texts = [(place, clean(text)) for place, text in lines]
    texts = [(p, t) for p, t in texts if t]
    cover = Cover(title=_title(t for _, t in texts[:20]))
    for index, (place, text) in enumerate(texts):
        if DATE_LINE.match(text):
            cover.issued_on, cover.date_place = _date(text), place
            if cover.issued_on is None:
                continue
            above = texts[index - 1][1] if index else ""
            if above and len(above) <= 40 and _ISSUER_END.search(above) and above != cover.title:
                cover.issuer = above
            break
    if cover.issuer is None and cover.title and "关于" in cover.title:
        head = cover.title.split("关于", 1)[0]
        cover.issuer = head if _ISSUER_END.search(head) else None
    cover.reporting = _reporting(" ".join(t for _, t in texts))
    return cover


def _title(texts: Iterable[str]) -> str | None:
    """The first line that ends like a title."""
    for text in texts:
        bare = strip_punct(text.lstrip("#* "))
        if 4 <= len(bare) <= 120 and _TITLE_END.search(bare) and not bare.startswith("附件"):
            return bare
    return None


def _date(text: str) -> date | None:
    """The date written in a date line, None when it is no real date."""
    match = _DATE.search(text)
    if not match:
        return None
    year, month, day = (number(g) for g in match.groups())
    try:
        return date(year, month, day) if year and month and day and year > 1900 else None
    except ValueError:
        return None


def _reporting(text: str) -> str | None:
    """The cover letter's reporting rule phrase, when one parses as a recurring deadline."""
    for pattern in _REPORTING:
        for match in pattern.finditer(text):
            phrase = match.group(1).strip()
            try:
                parse_deadline(phrase)
            except DubanError:
                continue
            return phrase
    return None


def horizon_years(text: str) -> list[int]:
    """Years a text aims at ("力争到2020年")."""
    return [int(y) for y in _HORIZON.findall(text)]
