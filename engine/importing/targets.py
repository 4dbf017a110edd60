"""Numeric targets in a task's text: "每年培育入库“专精特新”中小企业1000户" -> Target(label=
"培育入库“专精特新”中小企业", amount=1000, unit="户", per="year").

A target is a number with a counting unit. Its label is the verb before the number and the noun
after the unit (or the words before the number when the unit ends the clause); in a list
"评选200名A、100名B" the verb carries over. The period is the last 每年 / 每两年 / 每届 of the
sentence before the number (评选 alone: per selection). Rates and caps (每户…50万元, 最高, 不超过)
and qualifiers ("10亿元以上“行业小巨人”50户") are not targets.
"""

from __future__ import annotations

import re

from engine.importing.dates import IN_TEXT
from engine.importing.model import Problems
from engine.importing.normalize import number, strip_punct
from engine.policy import Target

_UNITS = ("个百分点", "平方米", "公里", "千米", "人次", "户", "个", "家", "名", "人", "项", "所",
          "条", "台", "套", "件", "座", "场", "篇", "部", "辆", "吨", "亩", "元", "%", "％")
_TARGET = re.compile(
    r"(?<![0-9.．第前每〇零一二两三四五六七八九十百千])"
    r"([0-9]+(?:\.[0-9]+)?|(?:[二两三四五六七八九十百千]|一[十百千])[〇零一二两三四五六七八九十百千]*)"
    r"(余|多)?\s*((?:万|亿)?(?:" + "|".join(map(re.escape, _UNITS)) + r"))"
    r"(?!月|工作日|季度|自然日|年|小时|一)")
_AFTER_UNIT = re.compile(r"^(?:左右|以上|以内|上下|次)")
_PERIODS = [(re.compile(r"每两年|每三年|每届|每\d年"), "selection"),
            (re.compile(r"每年度?|年均"), "year"),
            (re.compile(r"每季度|每个季度"), "quarter"), (re.compile(r"每月|每个月"), "month")]
_RATE = re.compile(r"每(?:户|家|个|人|项|台|名|所)|最高|不超过|以内|以下|奖补|补贴|补助|资助")
_LEADING = re.compile(r"^(?:并|和|及|以及|同时|力争|全年|全省|全市|全区|全县|共|累计|"
                      r"每两年|每三年|每届|每年度?|年均|每季度|每个?月|，|、)+")
_TRAILING = re.compile(r"(?:达到|达|超过|不少于|至少|约|以上|的)+$")
_SENTENCES = re.compile(r"[。；;！!？?\n]")
_OPENERS, _CLOSERS = "“‘（(《【", "”’）)》】"


def read_targets(text: str, place: str, problems: Problems) -> list[Target]:
    """Every target of a task text, keyed t1, t2 … in order."""
    found: list[tuple[str, int, str, str]] = []
    for sentence in _SENTENCES.split(text):
        period = "total"
        for clause in _clauses(sentence):
            period = _clause_targets(clause, period, found, place, problems)
    return [Target(f"t{i}", label, amount, unit, per)
            for i, (label, amount, unit, per) in enumerate(found, start=1)]


def _clauses(sentence: str) -> list[str]:
    """The sentence split at commas outside quotes and brackets."""
    clauses, depth, start = [], 0, 0
    for i, char in enumerate(sentence):
        depth += (char in _OPENERS) - (char in _CLOSERS and depth > 0)
        if char in "，,：:" and depth == 0:
            clauses.append(sentence[start:i])
            start = i + 1
    return clauses + [sentence[start:]]


def _clause_targets(clause: str, period: str, found: list[tuple[str, int, str, str]],
                    place: str, problems: Problems) -> str:
    """Targets of one clause appended to ``found``; returns the period in force after it."""
    matches = [m for m in _TARGET.finditer(clause) if _counts(clause, m)]
    matches = [m for i, m in enumerate(matches)
               if not (clause[m.end():].startswith("以上") and i + 1 < len(matches))]
    verb = ""
    for i, match in enumerate(matches):
        period = _period(clause[:match.start()], period)
        start = matches[i - 1].end() if i else 0
        end = matches[i + 1].start() if i + 1 < len(matches) else len(clause)
        before = _after_separator(clause[start:match.start()]) if i else clause[:match.start()]
        after = _before_separator(clause[match.end():end]) if i + 1 < len(matches) else \
            clause[match.end():end]
        prefix = _TRAILING.sub("", _LEADING.sub("", IN_TEXT.sub("", before).strip()))
        verb = prefix or verb
        label = strip_punct((prefix or verb) + _AFTER_UNIT.sub("", after.strip()))
        _append(found, label, match, _per(period, prefix or verb), place, problems)
    return _period(clause, period)


def _counts(clause: str, match: re.Match[str]) -> bool:
    """Whether a number is a target: not inside quotes, not a rate or a cap."""
    head = clause[:match.start()]
    depth = sum(head.count(c) for c in "“《") - sum(head.count(c) for c in "”》")
    return depth <= 0 and not _RATE.search(head[-8:] + clause[match.end():match.end() + 2])


def _after_separator(text: str) -> str:
    """The words after the last 、/和/及 (the next item's own words)."""
    parts = re.split(r"、|和|及", text)
    return parts[-1] if len(parts) > 1 else ""


def _before_separator(text: str) -> str:
    """The words before the last 、/和/及 (this item's noun)."""
    parts = re.split(r"、|和|及", text)
    return "、".join(parts[:-1]) if len(parts) > 1 else text


def _period(text: str, current: str) -> str:
    """The period named last in ``text``, else ``current``."""
    best, at = current, -1
    for pattern, per in _PERIODS:
        for match in pattern.finditer(text):
            if match.start() > at:
                best, at = per, match.start()
    return best


def _per(period: str, verb: str) -> str:
    """A target's period; 评选 without a stated period is per selection."""
    return "selection" if period == "total" and "评选" in verb else period


def _append(found: list[tuple[str, int, str, str]], label: str, match: re.Match[str],
            per: str, place: str, problems: Problems) -> None:
    """Record one target, converting decimals of 亿/万 and reporting what cannot be kept."""
    raw, unit = match.group(1), match.group(3).replace("％", "%")
    amount = number(raw) if "." not in raw else None
    if "." in raw and unit.startswith("亿"):
        amount, unit = round(float(raw) * 10000), "万" + unit[1:]
    if amount is None or amount <= 0 or not label:
        why = "没有读到目标名称" if not label else "数量不是正整数"
        problems.warning(place, f"目标“{match.group()}”{why}，未读取", match.group())
        return
    if per in ("quarter", "month"):
        every = "季度" if per == "quarter" else "月"
        problems.warning(place, f"目标“{label}{match.group()}”按{every}计，暂按合计读取", label)
        per = "total"
    found.append((label, amount, unit, per))
