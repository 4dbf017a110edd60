"""考核 rules: a base score, deductions and additions per fact with per-rule caps, grades.

The rules of a policy live in its data (``Policy.data["assessment"]``), editable by a supervisor
until a year is published; a published year keeps the rules it was scored with. The shipped
defaults follow published 考核细则 (起评分100分; 未按时限办复每件扣分; 被退办每次扣2分; 按要求完成
每件加1分; a leader's evaluation worth up to 20 points; domain.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.errors import ValidationError

MAX_POINTS = 1000  # no score, points, cap or band of a 考核 is larger (NaN and inf refused)


@dataclass(frozen=True)
class Rule:
    """Points per fact (negative: a deduction) and the most a unit can get from it in a year."""

    key: str
    label: str
    points: float
    cap: float | None = None  # the largest total (in absolute value) per unit and year

    def capped(self, total: float) -> float:
        """``total`` limited by the cap, keeping its sign."""
        if self.cap is None or abs(total) <= self.cap:
            return total
        return self.cap if total > 0 else -self.cap


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("on_time", "按时办结", 1, 10),
    Rule("early", "提前15天以上办结", 0.5, 5),
    Rule("target_exceeded", "超额完成量化目标", 1, 5),
    Rule("late", "逾期办结", -2, 20),
    Rule("no_action", "无正当理由逾期未办理", -10, 30),
    Rule("returned", "报送材料被退回", -2, 10),
    Rule("progress_late", "进展情况迟报或漏报", -2, 10),
    Rule("ack_late", "逾期签收", -1, 5),
    Rule("urge", "被催办", -1, 10),
    Rule("notice", "被发督办通知", -3, 15),
    Rule("principal", "被发二次督办通知", -5, 15),
    Rule("criticized", "被通报批评", -5, 15),
    Rule("interviewed", "被约谈", -10, 20),
    Rule("manual", "领导评价", 0, 20),
)
EARLY_DAYS = 15
DEFAULT_BANDS: tuple[tuple[str, float], ...] = (("优秀", 95), ("良好", 85), ("合格", 70),
                                                ("不合格", float("-inf")))
DEFAULT_RANK_SHARES: tuple[tuple[str, float], ...] = (("优秀", 0.2), ("良好", 0.5), ("合格", 1.0))


@dataclass(frozen=True)
class Rules:
    """A policy's 考核细则."""

    base: float = 100
    rules: tuple[Rule, ...] = DEFAULT_RULES
    grading: str = "bands"                      # "bands" (by score) or "rank" (by share)
    bands: tuple[tuple[str, float], ...] = DEFAULT_BANDS
    shares: tuple[tuple[str, float], ...] = DEFAULT_RANK_SHARES
    unfit: float = 60                           # below this score always 不合格, even by rank

    def rule(self, key: str) -> Rule:
        """The rule for a fact kind (a missing one counts nothing)."""
        for rule in self.rules:
            if rule.key == key:
                return rule
        return Rule(key, key, 0, 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (kept with a published year and in the policy data)."""
        return {"base": self.base, "rules": [asdict(r) for r in self.rules],
                "grading": self.grading,
                "bands": [[g, None if b == float("-inf") else b] for g, b in self.bands],
                "shares": [list(x) for x in self.shares], "unfit": self.unfit}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Rules:
        """Rules from stored data; defaults for what is missing; bad values are refused."""
        if not data:
            return cls()
        try:
            given = {r["key"]: Rule(str(r["key"]), str(r["label"]), _points(r["points"]),
                                    None if r.get("cap") is None else abs(_points(r["cap"])))
                     for r in data.get("rules", [])}
            rules = tuple(given.get(r.key, r) for r in DEFAULT_RULES) + tuple(
                r for k, r in given.items() if k not in {d.key for d in DEFAULT_RULES})
            bands = tuple((str(g), float("-inf") if b is None or b == float("-inf")
                           else _points(b))
                          for g, b in data.get("bands", [list(x) for x in DEFAULT_BANDS]))
            shares = tuple((str(g), _points(x)) for g, x in data.get("shares", DEFAULT_RANK_SHARES))
            grading = str(data.get("grading", "bands"))
            if grading not in ("bands", "rank"):
                raise ValueError(grading)
            return cls(base=_points(data.get("base", 100)), rules=rules, grading=grading,
                       bands=bands, shares=shares, unfit=_points(data.get("unfit", 60)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"考核细则格式不正确：{exc}") from None


def _points(raw: Any) -> float:
    """A score, points, cap, band or share: a finite number within ±MAX_POINTS."""
    value = float(raw)
    if not math.isfinite(value) or abs(value) > MAX_POINTS:
        raise ValueError(f"分值应为 ±{MAX_POINTS} 以内的数字，而不是“{raw}”")
    return value


@dataclass
class Grading:
    """Grades of a year's scores (ranked best first)."""

    rules: Rules
    scores: list[float] = field(default_factory=list)

    def grade(self, score: float, rank: int) -> str:
        """By score bands, or by rank share; below ``unfit`` always 不合格."""
        if score < self.rules.unfit:
            return "不合格"
        if self.rules.grading == "bands":
            return next(g for g, low in self.rules.bands if score >= low)
        share = rank / max(len(self.scores), 1)
        return next((g for g, top in self.rules.shares if share <= top + 1e-9), "合格")
