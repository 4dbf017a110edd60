"""考核 years kept: manual items (a leader's evaluation) with their reasons, edited rules, and
publishing, which freezes a year's result and issues its numbered 考核结果通报.

A published year answers from its stored result forever; adjusting or re-scoring it is refused.
"""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, audit
from engine.access import Actor
from engine.clock import Clock, today
from engine.errors import NotFoundError, StateError, ValidationError
from engine.models import Policy, Role, Unit
from engine.text import clean_line
from notifications import assessment
from notifications.assessment_models import ALL, AssessmentItem, AssessmentYear
from notifications.assessment_rules import Rules


def _key(policy_id: str | None) -> str:
    return policy_id or ALL


def published(s: Session, year: int, policy_id: str | None) -> AssessmentYear | None:
    """The frozen year, if it was published."""
    return s.scalars(select(AssessmentYear).where(AssessmentYear.policy_key == _key(policy_id),
                                                  AssessmentYear.year == year)).first()


def assess(s: Session, year: int, day: date, policy_id: str | None = None) -> assessment.Result:
    """The year's result: frozen when published, else computed from the record now."""
    if year > day.year:  # no fact can be in it yet: a ranking of 100s would mislead
        raise ValidationError(f"{year}年度尚未开始，没有可考核的记录")
    frozen = published(s, year, policy_id)
    if frozen is not None:
        return _restored(frozen)
    return assessment.compute(s, year, day, policy_id)


def _restored(row: AssessmentYear) -> assessment.Result:
    data = row.result
    units = [assessment.UnitScore(u["unit_id"], u["unit"], u["score"], u["rank"], u["grade"],
                                  u["items"]) for u in data["units"]]
    rules = Rules.from_dict({"base": data["base"], "rules": data["rules"],
                             "grading": data.get("grading", "bands")})
    return assessment.Result(row.year, data["policy"], rules, date.fromisoformat(data["as_of"]),
                             units, data.get("not_assessed", []), published=True)


def _open_year(s: Session, year: int, policy_id: str | None) -> None:
    if published(s, year, policy_id) is not None:
        raise StateError(f"{year}年度考核结果已发布，不能再修改")


def add_item(s: Session, clock: Clock, actor: Actor, *, year: int, policy_id: str | None,
             unit_id: str, points: float, reason: str) -> AssessmentItem:
    """A supervisor's manual item (a leader's evaluation): points within the rule's cap."""
    access.require_role(actor, Role.SUPERVISOR, what="调整考核结果")
    _open_year(s, year, policy_id)
    chosen = assessment.policies_of(s, policy_id)
    rules = Rules.from_dict(chosen[0].data.get("assessment")) if len(chosen) == 1 else Rules()
    cap = rules.rule("manual").cap or 0
    if s.get(Unit, unit_id) is None:
        raise NotFoundError(f"单位 {unit_id} 不存在")
    if not math.isfinite(points) or abs(points) > cap:
        raise ValidationError(f"领导评价分值须在 ±{cap:g} 分之内")
    reason = clean_line(reason, "调整理由", 500)
    row = AssessmentItem(policy_key=_key(policy_id), year=year, unit_id=unit_id, points=points,
                         reason=reason, on=today(clock), actor=actor.username,
                         created_at=clock.now())
    s.add(row)
    s.flush()
    audit.record(s, clock, actor=actor.username, action="assessment_item",
                 object_type="assessment", object_id=f"{_key(policy_id)}:{year}",
                 after={"unit": unit_id, "points": points, "reason": reason, "item": row.id})
    return row


def set_rules(s: Session, clock: Clock, actor: Actor, policy_id: str, rules: Rules) -> None:
    """Edit a policy's 考核细则 (published years keep the rules they were scored with)."""
    access.require_role(actor, Role.SUPERVISOR, what="修改考核细则")
    policy = s.get(Policy, policy_id)
    if policy is None:
        raise ValidationError(f"政策“{policy_id}”不存在")
    before = policy.data.get("assessment")
    policy.data = {**policy.data, "assessment": rules.to_dict()}
    audit.record(s, clock, actor=actor.username, action="assessment_rules", object_type="policy",
                 object_id=policy_id, before={"rules": before}, after={"rules": rules.to_dict()})


def freeze(s: Session, clock: Clock, actor: Actor, year: int,
           policy_id: str | None) -> tuple[AssessmentYear, assessment.Result]:
    """Publish: the result as computed now becomes the year's for good."""
    access.require_role(actor, Role.SUPERVISOR, what="发布考核结果")
    _open_year(s, year, policy_id)
    if year >= today(clock).year:
        raise ValidationError(f"{year}年度尚未结束，不能发布考核结果")
    result = assessment.compute(s, year, today(clock), policy_id)
    row = AssessmentYear(policy_key=_key(policy_id), year=year, result=result.to_json(),
                         published_at=clock.now(), published_by=actor.username)
    s.add(row)
    s.flush()
    audit.record(s, clock, actor=actor.username, action="publish_assessment",
                 object_type="assessment", object_id=f"{_key(policy_id)}:{year}",
                 after={"units": len(result.units)})
    result.published = True
    return row, result
