"""Deadline phrases as tables write them -> ``DeadlineRule``, with the policy's year filled in.

``engine.deadlines.parse_deadline`` knows the phrases; this module decides what a phrase means in
one document: a year-less "9月底" is the policy's year (the next one when that is already past on
the issue date), an empty column takes the date stated in the task text, no deadline anywhere
is the policy year's Dec 31. Every such decision is a warning; a phrase that names no date
("尽快", "及时") is an error.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date

from engine.deadlines import DeadlineRule, FixedRule, RuleContext, parse_deadline
from engine.errors import DubanError
from engine.importing.model import Problems
from engine.importing.normalize import clean, strip_punct

_N = r"(?:[0-9０-９]{1,4}|[〇零○一二两三四五六七八九十]{1,4})"
_END = r"(?:前|之前|以前)"
# Deadlines inside a task's text: they must say "by" (前/底/末) to be one.
IN_TEXT = re.compile(
    rf"{_N}年(?:{_N}月(?:{_N}[日号]{_END}|(?:底|末){_END}?)|年?(?:底|末){_END}?|上半年|下半年)"
    rf"|(?<![0-9年])(?<!每){_N}月(?:{_N}[日号]|底|末){_END}"
    rf"|每年年底{_END}|(?<![0-9年])年底{_END}|长期坚持|持续推进")
_YEARLESS_DAY = re.compile(rf"{_N}月{_N}[日号]{_END}?")
_MONTH_ONLY = re.compile(rf"({_N}年{_N}月)(?:份)?(?:{_END}|完成)?")
VAGUE = re.compile(r"尽快|及时|适时|抓紧|尽早|按时|按要求|根据需要|视情况|按照要求|按进度|另行")


@dataclass
class Deadline:
    """A task's deadline: the phrase as read, its rule (None: unusable) and where it came from."""

    phrase: str
    rule: DeadlineRule | None
    source: str  # column | text | inherited | default | none


class DeadlineReader:
    """Reads deadlines for one policy: its year and issue date."""

    def __init__(self, year: int | None, issued_on: date | None, problems: Problems) -> None:
        """The policy year fills in year-less dates; the issue date checks early ones."""
        self.year = year
        self.issued_on = issued_on
        self.problems = problems

    def read(self, phrase: str, place: str, text: str, text_place: str,
             source: str = "column") -> Deadline:
        """The deadline of a task from its column (or inherited cell), else from its text."""
        phrase = strip_punct(clean(phrase))
        if phrase:
            return self._column(phrase, place, source)
        found = find_in_text(text)
        if found:
            used = found[-1]
            others = "、".join(f"“{f}”" for f in found[:-1])
            note = f"（文中另有{others}，取最后一个）" if others else ""
            self.problems.warning(text_place, f"时限取自任务内容：“{used}”{note}", used)
            return Deadline(used, self.rule(used, text_place), "text")
        if self.year is None:
            return Deadline("", None, "none")
        default = f"{self.year}年年底前"
        self.problems.warning(place, f"未写时限，按{default}（{self.year}年12月31日）计", None)
        return Deadline(default, FixedRule(default, self.year, 12), "default")

    def _column(self, phrase: str, place: str, source: str) -> Deadline:
        """A phrase from the deadline column: understood whole, in part, or not at all."""
        if VAGUE.search(phrase) and not find_in_text(phrase):
            self.problems.error(place, f"时限“{phrase}”没有明确的日期，无法督办，请写明完成时间",
                                phrase)
            return Deadline(phrase, None, source)
        rule = self.rule(phrase, place, quiet=True)
        if rule is not None:
            return Deadline(phrase, rule, source)
        month = _MONTH_ONLY.fullmatch(phrase)
        if month:
            rule = self.rule(month.group(1) + "底前", place)
            self.problems.warning(place, f"时限“{phrase}”未写日，按当月月底计", phrase)
            return Deadline(phrase, rule and dataclasses.replace(rule, phrase=phrase), source)
        found = find_in_text(phrase)
        if found:
            self.problems.warning(place, f"时限“{phrase}”按其中的“{found[-1]}”计", phrase)
            return Deadline(phrase, self.rule(found[-1], place), source)
        self.problems.error(place, f"无法识别的时限要求“{phrase}”", phrase)
        return Deadline(phrase, None, source)

    def rule(self, phrase: str, place: str, quiet: bool = False) -> DeadlineRule | None:
        """The rule of a phrase, a missing year filled in; None (with an error unless quiet)."""
        try:
            if _YEARLESS_DAY.fullmatch(phrase) and self.year is not None:
                rule = dataclasses.replace(parse_deadline(f"{self.year}年{phrase}"), phrase=phrase)
            else:
                rule = parse_deadline(phrase)
        except DubanError:
            if not quiet:
                self.problems.error(place, f"无法识别的时限要求“{phrase}”", phrase)
            return None
        return self._fill_year(rule, place)

    def _fill_year(self, rule: DeadlineRule, place: str) -> DeadlineRule:
        """A fixed date without a year takes the policy's year, or the next if already past."""
        if not isinstance(rule, FixedRule):
            return rule
        if rule.year is None and self.year is not None:
            rule = dataclasses.replace(rule, year=self.year)
            if self.issued_on is not None and rule.due(_ctx(self.issued_on)) < self.issued_on:
                rule = dataclasses.replace(rule, year=self.year + 1)
                self.problems.warning(place, f"时限“{rule.phrase}”未写年份，且{self.year}年的该日期"
                                             f"早于发布日期，按{self.year + 1}年计", rule.phrase)
        elif self.issued_on is not None and rule.due(_ctx(self.issued_on)) < self.issued_on:
            self.problems.warning(place, f"时限“{rule.phrase}”早于发布日期 {self.issued_on}",
                                  rule.phrase)
        return rule


def _ctx(start: date) -> RuleContext:
    """The smallest context FixedRule.due needs (it reads only ``start``)."""
    return RuleContext(start=start, horizon_year=start.year)


def find_in_text(text: str) -> list[str]:
    """Deadline phrases stated in a text ("2022年10月底前编制…"), in order, each one parseable
    (year-less ones with a year filled in)."""
    found = []
    for match in IN_TEXT.finditer(text):
        phrase = match.group()
        probe = f"2000年{phrase}" if _YEARLESS_DAY.fullmatch(phrase) else phrase
        try:
            parse_deadline(probe)
        except DubanError:
            continue
        found.append(phrase)
    return found
