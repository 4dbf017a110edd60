"""考核: every unit's yearly score from the record, each point traced to the fact it came from.

A unit takes part in a year when it leads an obligation whose period is due that year (the
cycle's due date); its score is ``base + sum(items)``, each rule's total capped. Facts are read
to the end of the year's last day (or of yesterday, for the running year): an obligation due on
Dec 31 and not reported by then counts as not done. The same record gives the same result
every time; a published year is frozen (notifications.assessment_store).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import Session

from engine.checkins import late_checkins
from engine.clock import CHINA_TZ, overdue_from, start_of_day
from engine.models import (
    AuditEvent,
    Cycle,
    EscalationLevel,
    Evidence,
    Instance,
    ItemKind,
    ItemRole,
    Policy,
    PolicyTask,
    Review,
    Transition,
    Unit,
    WorkItem,
)
from engine.units import unit_names
from notifications.assessment_models import ALL, AssessmentItem
from notifications.assessment_rules import EARLY_DAYS, Grading, Rules
from notifications.models import Document, DocumentKind


@dataclass(frozen=True)
class Fact:
    """One thing a unit did or failed to do, with the record it comes from."""

    unit_id: str
    kind: str            # a rule key
    day: date
    reason: str
    ref_type: str
    ref_id: int | str
    count: float = 1     # how many times the rule's points (a manual item: its points)


@dataclass
class UnitScore:
    """A unit's result: score, rank, grade and every item."""

    unit_id: str
    unit: str
    score: float
    rank: int = 0
    grade: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Result:
    """One year's assessment of one policy (or of all)."""

    year: int
    policy: str | None
    rules: Rules
    as_of: date
    units: list[UnitScore]
    not_assessed: list[str]
    published: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``duban assess --json`` object (DESIGN.md contract)."""
        return {"year": self.year, "policy": self.policy, "base": num(self.rules.base),
                "as_of": self.as_of.isoformat(), "published": self.published,
                "rules": self.rules.to_dict()["rules"], "grading": self.rules.grading,
                "units": [{"unit_id": u.unit_id, "unit": u.unit, "score": u.score,
                           "rank": u.rank, "grade": u.grade, "items": u.items}
                          for u in self.units],
                "not_assessed": self.not_assessed}


def num(value: float) -> float | int:
    """A score or points as JSON shows them: whole numbers without a fraction."""
    value = round(value, 2)
    return int(value) if float(value).is_integer() else value


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _local(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


def _window(year: int) -> tuple[datetime, datetime]:
    return start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))


# ------------------------------------------------------------------ facts
def obligation_facts(s: Session, policies: list[str], year: int, as_of: date) -> list[Fact]:
    """On time, early, late and no-action facts of the lead obligations due in ``year``."""
    end = overdue_from(as_of)
    submitted = (select(Evidence.instance_id, func.min(Evidence.submitted_at).label("first"))
                 .join(WorkItem, WorkItem.id == Evidence.work_item_id)
                 .where(WorkItem.role == ItemRole.LEAD).group_by(Evidence.instance_id)
                 .subquery())
    q = (select(Instance.id, Instance.lead_unit_id, Instance.due_date, Instance.closed_at,
                PolicyTask.number, Cycle.label, Cycle.due_date.label("period_due"),
                submitted.c.first)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .outerjoin(submitted, submitted.c.instance_id == Instance.id)
         .where(PolicyTask.policy_id.in_(policies), Cycle.due_date >= date(year, 1, 1),
                Cycle.due_date <= date(year, 12, 31))
         .order_by(Instance.id))
    out = []
    for row in s.execute(q):
        due = row.due_date or row.period_due
        what = f"任务{row.number}（{row.label}）"
        if row.closed_at is not None and row.closed_at < end:
            closed = _local(row.closed_at)
            late = (closed - due).days
            if row.closed_at >= overdue_from(due):
                out.append(Fact(row.lead_unit_id, "late", closed,
                                f"{what}逾期办结：截止{_cn(due)}，{_cn(closed)}办结，逾期{late}天",
                                "instance", row.id))
                continue
            out.append(Fact(row.lead_unit_id, "on_time", closed,
                            f"{what}按时办结：截止{_cn(due)}，{_cn(closed)}办结",
                            "instance", row.id))
            if -late >= EARLY_DAYS:
                out.append(Fact(row.lead_unit_id, "early", closed,
                                f"{what}提前{-late}天办结", "instance", row.id))
        elif due <= as_of:
            if row.first is None or row.first >= end:
                out.append(Fact(row.lead_unit_id, "no_action", due + timedelta(days=1),
                                f"{what}截止{_cn(due)}，至{_cn(as_of)}仍未报送",
                                "instance", row.id))
            else:
                out.append(Fact(row.lead_unit_id, "late", as_of,
                                f"{what}截止{_cn(due)}，至{_cn(as_of)}仍未办结",
                                "instance", row.id))
    return out


def review_facts(s: Session, policies: list[str], year: int, as_of: date) -> list[Fact]:
    """Each return of a unit's evidence in the year."""
    start, stop = _window(year)
    stop = min(stop, overdue_from(as_of))
    q = (select(Review.id, Review.reviewed_at, Review.reason, Instance.lead_unit_id,
                PolicyTask.number, Cycle.label)
         .join(Instance, Instance.id == Review.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .where(PolicyTask.policy_id.in_(policies), Review.approved.is_(False),
                Review.reviewed_at >= start, Review.reviewed_at < stop).order_by(Review.id))
    return [Fact(r.lead_unit_id, "returned", _local(r.reviewed_at),
                 f"任务{r.number}（{r.label}）材料被退回：{(r.reason or '')[:60]}", "review", r.id)
            for r in s.execute(q)]


def urge_facts(s: Session, policies: list[str], year: int, as_of: date) -> list[Fact]:
    """Each 催办: the automatic one the day after a due date, and a supervisor's by hand."""
    start, stop = _window(year)
    stop = min(stop, overdue_from(as_of))
    q = (select(WorkItem.id, WorkItem.unit_id, WorkItem.overdue_marked_at, PolicyTask.number,
                Cycle.label)
         .join(Instance, Instance.id == WorkItem.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .where(PolicyTask.policy_id.in_(policies), WorkItem.overdue_marked_at >= start,
                WorkItem.overdue_marked_at < stop,  # a late 签收 / report: checkin_facts
                WorkItem.kind.in_((ItemKind.EVIDENCE, ItemKind.CONTRIBUTION)))
         .order_by(WorkItem.id))
    out = [Fact(r.unit_id, "urge", _local(r.overdue_marked_at),
                f"任务{r.number}（{r.label}）逾期被催办", "work_item", r.id) for r in s.execute(q)]
    manual = (select(AuditEvent.id, AuditEvent.at, Instance.lead_unit_id, PolicyTask.number,
                     Cycle.label)
              .join(Instance, and_(AuditEvent.object_type == "instance",
                                   AuditEvent.object_id == cast(Instance.id, String)))
              .join(PolicyTask, PolicyTask.id == Instance.task_id)
              .join(Cycle, Cycle.id == Instance.cycle_id)
              .where(AuditEvent.action == "urge", PolicyTask.policy_id.in_(policies),
                     AuditEvent.at >= start, AuditEvent.at < stop).order_by(AuditEvent.id))
    out += [Fact(r.lead_unit_id, "urge", _local(r.at), f"任务{r.number}（{r.label}）被人工催办",
                 "audit", r.id) for r in s.execute(manual)]
    return out


def notice_facts(s: Session, policies: list[str], year: int, as_of: date) -> list[Fact]:
    """Each 督办通知 and each 二次督办通知 (to the principal) addressed to the unit in the year."""
    q = (select(Document.id, Document.kind, Document.unit_id, Document.issued_on,
                Document.number)
         .where(Document.kind.in_((DocumentKind.NOTICE, DocumentKind.PRINCIPAL)),
                Document.policy_id.in_(policies),
                Document.unit_id.is_not(None), Document.issued_on >= date(year, 1, 1),
                Document.issued_on <= min(date(year, 12, 31), as_of)).order_by(Document.id))
    return [Fact(str(r.unit_id), "notice", r.issued_on, f"收到督办通知 {r.number}",
                 "document", r.id) if r.kind is DocumentKind.NOTICE else
            Fact(str(r.unit_id), "principal", r.issued_on,
                 f"收到二次督办通知（致主要负责同志）{r.number}", "document", r.id)
            for r in s.execute(q)]


def criticized_facts(s: Session, policies: list[str], year: int, as_of: date) -> list[Fact]:
    """Each item named for 通报批评 in a bulletin, and each 约谈, in the year: the ladder's
    levels past the 二次督办通知 as engine.lifecycle recorded them, each with its fact (the
    bulletin; the interview record)."""
    start, stop = _window(year)
    stop = min(stop, overdue_from(as_of))
    q = (select(Transition.id, Transition.to_state, Transition.at, Transition.ref_type,
                Transition.ref_id, WorkItem.unit_id, PolicyTask.number, Cycle.label)
         .join(WorkItem, and_(Transition.object_type == "work_item",
                              Transition.object_id == WorkItem.id))
         .join(Instance, Instance.id == WorkItem.instance_id)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .where(Transition.field == "escalation",
                Transition.to_state.in_((EscalationLevel.CRITICIZED.value,
                                         EscalationLevel.INTERVIEWED.value)),
                PolicyTask.policy_id.in_(policies), Transition.at >= start,
                Transition.at < stop).order_by(Transition.id))
    rows = s.execute(q).all()
    docs = dict(s.execute(select(Document.id, Document.number).where(Document.id.in_(
        [int(r.ref_id) for r in rows if r.ref_type == "document" and r.ref_id]))).all())
    out = []
    for r in rows:
        what = f"任务{r.number}（{r.label}）"
        if r.to_state == EscalationLevel.CRITICIZED.value:
            number = docs.get(int(r.ref_id)) if r.ref_type == "document" and r.ref_id else None
            out.append(Fact(r.unit_id, "criticized", _local(r.at),
                            f"{what}被{number or '通报'}通报批评",
                            "document" if number else "transition",
                            int(r.ref_id) if number else r.id))
        else:
            ref = ("interview", int(r.ref_id)) if r.ref_type == "interview" and r.ref_id \
                else ("transition", r.id)
            out.append(Fact(r.unit_id, "interviewed", _local(r.at), f"{what}被约谈", *ref))
    return out


def target_facts(s: Session, policies: list[str], year: int, as_of: date) -> list[Fact]:
    """Each numeric target an obligation of the year exceeded in its approved evidence."""
    end = overdue_from(as_of)
    q = (select(Instance.id, Instance.lead_unit_id, PolicyTask.number, PolicyTask.targets,
                Cycle.label, Evidence.numbers, Review.reviewed_at)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .join(Review, and_(Review.instance_id == Instance.id, Review.approved.is_(True)))
         .join(Evidence, Evidence.id == Review.evidence_id)
         .where(PolicyTask.policy_id.in_(policies), Cycle.due_date >= date(year, 1, 1),
                Cycle.due_date <= date(year, 12, 31), Review.reviewed_at < end)
         .order_by(Instance.id, Review.id))
    out = []
    for row in s.execute(q):
        for target in row.targets or []:
            value = (row.numbers or {}).get(target["key"])
            if isinstance(value, int | float) and value > target["amount"]:
                out.append(Fact(row.lead_unit_id, "target_exceeded", _local(row.reviewed_at),
                                f"任务{row.number}（{row.label}）{target['label']}完成{value:g}"
                                f"{target['unit']}，超过目标{target['amount']}{target['unit']}",
                                "instance", row.id))
    return out


def manual_facts(s: Session, key: str, year: int) -> list[Fact]:
    """The year's manual items (a leader's evaluation) of this assessment."""
    rows = s.scalars(select(AssessmentItem).where(AssessmentItem.policy_key == key,
                                                  AssessmentItem.year == year)
                     .order_by(AssessmentItem.id))
    return [Fact(r.unit_id, "manual", r.on, f"{r.reason}（{r.actor}）", "adjustment", r.id,
                 count=r.points) for r in rows]


def checkin_facts(s: Session, policies: list[str], year: int, as_of: date) -> list[Fact]:
    """Late or missing 签收 and progress reports due in the year (engine.checkins)."""
    out = []
    for kind, rule, what in ((ItemKind.ACK, "ack_late", "签收"),
                             (ItemKind.PROGRESS, "progress_late", "进展报送")):
        for r in late_checkins(s, as_of + timedelta(days=1), kind, policies=policies,
                               start=date(year, 1, 1), end=date(year, 12, 31)):
            done = "签收" if kind is ItemKind.ACK else "报送"
            when = f"{_cn(r.reported_on)}{done}" if r.reported_on else f"至今未{done}"
            out.append(Fact(r.unit_id, rule, r.reported_on or r.due_date + timedelta(days=1),
                            f"任务{r.task_number}·{r.title}：{what}时限{_cn(r.due_date)}，"
                            f"{when}", "work_item", r.item_id))
    return out



FactReader = Callable[[Session, list[str], int, date], list[Fact]]
# Manual items are added by compute().
READERS: list[FactReader] = [obligation_facts, review_facts, urge_facts, notice_facts,
                             criticized_facts, target_facts, checkin_facts]


# ------------------------------------------------------------------ scoring
def score(rules: Rules, facts: Iterable[Fact], names: dict[str, str],
          units: Iterable[str]) -> list[UnitScore]:
    """Each unit's items (rule points, capped per rule), score, rank and grade."""
    by_unit: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_unit[fact.unit_id].append(fact)
    results = []
    for unit_id in units:
        items: list[dict[str, Any]] = []
        for rule in rules.rules:
            mine = sorted((f for f in by_unit.get(unit_id, []) if f.kind == rule.key),
                          key=lambda f: (f.day, f.ref_type, str(f.ref_id)))
            left = rule.cap
            for fact in mine:
                points = rule.points * fact.count if rule.key != "manual" else fact.count
                if left is not None:
                    points = max(-left, min(left, points)) if points else 0.0
                    left = max(0.0, left - abs(points))
                if points == 0 and rule.key != "manual":
                    continue
                items.append({"rule": rule.key, "label": rule.label, "points": num(points),
                              "reason": fact.reason, "date": fact.day.isoformat(),
                              "ref": {"type": fact.ref_type, "id": fact.ref_id}})
        total = num(rules.base + sum(i["points"] for i in items))
        results.append(UnitScore(unit_id, names.get(unit_id, unit_id), total, items=items))
    _rank(results, rules)
    return results


def _rank(results: list[UnitScore], rules: Rules) -> None:
    """Best first; equal scores share a rank (1, 1, 3); grades by the rules."""
    results.sort(key=lambda u: -u.score)
    grading = Grading(rules, [u.score for u in results])
    for n, unit in enumerate(results, start=1):
        same = n > 1 and unit.score == results[n - 2].score
        unit.rank = results[n - 2].rank if same else n
        unit.grade = grading.grade(unit.score, unit.rank)


# ------------------------------------------------------------------ one year
def policies_of(s: Session, policy_id: str | None) -> list[Policy]:
    """The policy assessed, or all of them."""
    q = select(Policy).order_by(Policy.issued_on, Policy.id)
    if policy_id:
        q = q.where(Policy.id == policy_id)
    return list(s.scalars(q))


def compute(s: Session, year: int, today: date, policy_id: str | None = None) -> Result:
    """A year's assessment from the record (published or not)."""
    chosen = policies_of(s, policy_id)
    ids = [p.id for p in chosen]
    rules = Rules.from_dict(chosen[0].data.get("assessment")) if len(chosen) == 1 else Rules()
    as_of = min(date(year, 12, 31), today - timedelta(days=1))  # whole days of record only
    facts = [f for reader in READERS for f in reader(s, ids, year, as_of)]
    facts += manual_facts(s, policy_id or ALL, year)
    leading = set(s.scalars(select(Instance.lead_unit_id).join(
        PolicyTask, PolicyTask.id == Instance.task_id).join(
        Cycle, Cycle.id == Instance.cycle_id).where(
        PolicyTask.policy_id.in_(ids), Cycle.due_date >= date(year, 1, 1),
        Cycle.due_date <= date(year, 12, 31))))
    order = list(s.scalars(select(Unit.id).order_by(Unit.sort_order, Unit.id)))
    names = unit_names(s, as_of)
    units = [u for u in order if u in leading]
    return Result(year, policy_id, rules, as_of, score(rules, facts, names, units),
                  [names[u] for u in order if u not in leading])

