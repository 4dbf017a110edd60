"""Scripted unit behaviour for the simulator: who submits when, who is late, who is returned.

Every decision is a pure function of the seed and the obligation's stable key (task number,
cycle label, unit id), so the same seed replays the same story whatever the order of events.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from engine import checkins, plans, service
from engine.clock import CHINA_TZ, Clock, today
from engine.errors import DubanError
from engine.models import (
    ACTIONABLE,
    Cycle,
    ExtensionRequest,
    ExtensionStatus,
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    PolicyTask,
    Review,
    Role,
    User,
    WorkItem,
)


class Profile(enum.StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    RETURNED_ONCE = "returned_once"
    RETURNED_TWICE = "returned_twice"
    EXTENSION = "extension"


# (profile, weight): most units are on time, some late, some returned, a few ask for more time
WEIGHTS = [(Profile.ON_TIME, 62), (Profile.LATE, 18), (Profile.RETURNED_ONCE, 10),
           (Profile.RETURNED_TWICE, 5), (Profile.EXTENSION, 5)]


@dataclass(frozen=True)
class Plan:
    """What one obligation's lead unit will do."""

    profile: Profile
    submit_on: date          # first submission
    resubmit_after: int      # days after a return
    extend_to: date | None   # requested due date (EXTENSION)
    attainment: float        # share of each numeric target reached


def _rng(seed: int, *key: object) -> random.Random:
    digest = hashlib.sha256(repr((seed, *key)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@functools.lru_cache(maxsize=8192)
def plan_for(seed: int, task: int | str, cycle: str, unit: str, opens: date,
             due: date | None) -> Plan:
    """The plan of one obligation, from the seed alone."""
    rng = _rng(seed, "lead", task, cycle, unit)
    profile = rng.choices([p for p, _ in WEIGHTS], [w for _, w in WEIGHTS])[0]
    end = due or opens + timedelta(days=180)
    span = max((end - opens).days, 1)
    submit_on = opens + timedelta(days=int(span * rng.uniform(0.4, 0.95)))
    extend_to = None
    if profile is Profile.LATE:
        submit_on = end + timedelta(days=rng.randint(3, 40))
    elif profile is Profile.EXTENSION and due is not None:
        extend_to = due + timedelta(days=rng.randint(20, 45))
        submit_on = due + timedelta(days=rng.randint(5, (extend_to - due).days - 2))
    return Plan(profile, min(submit_on, opens + timedelta(days=400)), rng.randint(3, 10),
                extend_to, rng.uniform(0.8, 1.25))


# 签收 and progress: most units on time, some late, a few silent (never: date.max)
CHECKIN_WEIGHTS = {"ack": [("on_time", 80), ("late", 12), ("silent", 8)],
                   "progress": [("on_time", 75), ("late", 15), ("silent", 10)],
                   "plan": [("on_time", 85), ("late", 10), ("silent", 5)]}


def checkin_day(seed: int, kind: str, task: int | str, cycle: str, lead: str, unit: str,
                created: date, due: date) -> date:
    """The day a unit acknowledges (kind "ack"), reports progress ("progress") or proposes its
    形象进度 plan ("plan")."""
    rng = _rng(seed, kind, task, cycle, lead, unit, due)
    way = rng.choices([w for w, _ in CHECKIN_WEIGHTS[kind]],
                      [n for _, n in CHECKIN_WEIGHTS[kind]])[0]
    if way == "silent":
        return date.max
    if way == "late":
        return due + timedelta(days=rng.randint(1, 12))
    if kind == "ack":
        return min(created + timedelta(days=rng.randint(0, 1)), due)
    return max(created, due - timedelta(days=rng.randint(0, 12)))


@functools.lru_cache(maxsize=8192)
def support_day(seed: int, task: int | str, cycle: str, unit: str, opens: date,
                due: date | None) -> date:
    """The day a supporting unit hands in its contribution."""
    rng = _rng(seed, "support", task, cycle, unit)
    due = due or opens + timedelta(days=90)
    return opens + timedelta(days=int(max((due - opens).days, 1) * rng.uniform(0.2, 1.1)))


_ACTIONABLE_ROWS = (
    select(WorkItem.id, WorkItem.role, WorkItem.kind, WorkItem.status, WorkItem.unit_id,
           WorkItem.updated_at, WorkItem.created_at, WorkItem.due_date, PolicyTask.number,
           PolicyTask.policy_id, Cycle.label, Cycle.opens_on,
           Instance.lead_unit_id, Instance.original_due_date)
    .join(Instance, Instance.id == WorkItem.instance_id)
    .join(PolicyTask, PolicyTask.id == Instance.task_id)
    .join(Cycle, Cycle.id == Instance.cycle_id)
    .where(WorkItem.status.in_(ACTIONABLE)).order_by(WorkItem.id))


def _returns_wanted(profile: Profile) -> int:
    return {Profile.RETURNED_ONCE: 1, Profile.RETURNED_TWICE: 2}.get(profile, 0)


class Behaviour:
    """Acts each simulated day for every unit and the supervisor, through the service layer."""

    def __init__(self, seed: int, main_policy: str | None = None) -> None:
        self.seed = seed
        self.main_policy = main_policy  # its stories keep their keys: the task number alone
        self._actors: dict[str, service.Actor] = {}

    def _key(self, policy_id: str, number: int) -> int | str:
        """A task's key in the story: another policy's task 1 is not the main policy's."""
        return number if policy_id == self.main_policy or self.main_policy is None \
            else f"{policy_id}:{number}"

    def act(self, s: Session, clock: Clock) -> int:
        """Everything the units and the supervisor do today; returns the number of actions."""
        day = today(clock)
        done = self._extensions(s, clock, day) + self._plans(s, clock, day)
        # a light snapshot of what is actionable decides who acts; only they are loaded
        for row in s.execute(_ACTIONABLE_ROWS).all():
            if not self._due_today(row, day):
                continue
            item = s.get(WorkItem, row.id, options=[
                joinedload(WorkItem.instance).joinedload(Instance.task),
                joinedload(WorkItem.instance).joinedload(Instance.cycle)])
            assert item is not None
            try:
                with s.begin_nested():
                    done += self._act_on(s, clock, item, day)
            except DubanError:
                continue
        return done

    def _due_today(self, row: Any, day: date) -> bool:
        """Whether the item's actor means to act today (no query)."""
        if row.kind in (ItemKind.ACK, ItemKind.PROGRESS, ItemKind.PLAN):
            return day >= checkin_day(self.seed, row.kind.value,
                                      self._key(row.policy_id, row.number), row.label,
                                      row.lead_unit_id, row.unit_id, today_of(row.created_at),
                                      row.due_date)
        if row.role is ItemRole.SUPPORTING:
            return day >= support_day(self.seed, self._key(row.policy_id, row.number), row.label,
                                      row.unit_id, row.opens_on, row.due_date)
        if row.role is ItemRole.SUPERVISOR:
            return day >= today_of(row.updated_at) + timedelta(days=2)
        if row.status is ItemStatus.OPEN:
            return day >= plan_for(self.seed, self._key(row.policy_id, row.number), row.label,
                                   row.lead_unit_id, row.opens_on, row.original_due_date).submit_on
        return True

    def _plan(self, inst: Instance) -> Plan:
        return plan_for(self.seed, self._key(inst.task.policy_id, inst.task.number),
                        inst.cycle.label, inst.lead_unit_id, inst.cycle.opens_on,
                        inst.original_due_date)

    def _act_on(self, s: Session, clock: Clock, item: WorkItem, day: date) -> int:
        inst = item.instance
        if item.kind is ItemKind.ACK:
            checkins.acknowledge(s, clock, self._liaison(s, item.unit_id), item.id)
            return 1
        if item.kind is ItemKind.PROGRESS:
            return self._report(s, clock, item, inst, day)
        if item.kind is ItemKind.PLAN:
            return self._propose(s, clock, item, inst)
        if item.role is ItemRole.SUPPORTING:
            service.submit(s, clock, self._liaison(s, item.unit_id), item.id,
                           text="已按要求配合提供相关材料和意见。")
            return 1
        plan = self._plan(inst)
        if item.role is ItemRole.SUPERVISOR:
            return self._review(s, clock, item, inst, plan, day)
        return self._submit(s, clock, item, inst, plan, day)

    def _submit(self, s: Session, clock: Clock, item: WorkItem, inst: Instance, plan: Plan,
                day: date) -> int:
        if item.status is ItemStatus.RETURNED:
            last = s.scalar(select(Review.reviewed_at).where(Review.instance_id == inst.id)
                            .order_by(Review.id.desc()))
            if last is None or day < today_of(last) + timedelta(days=plan.resubmit_after):
                return 0
        elif day < plan.submit_on:
            return 0
        numbers = {t["key"]: round(t["amount"] * plan.attainment) for t in inst.task.targets}
        service.submit(s, clock, self._liaison(s, item.unit_id), item.id, numbers=numbers,
                       text=f"{inst.cycle.label}任务已完成，现报送佐证材料。")
        return 1

    def _report(self, s: Session, clock: Clock, item: WorkItem, inst: Instance,
                day: date) -> int:
        """A progress report: the lead's numbers so far in proportion to the time passed."""
        numbers: dict[str, Any] = {}
        if item.role is ItemRole.LEAD and inst.due_date is not None:
            plan = self._plan(inst)
            span = max((inst.due_date - inst.cycle.opens_on).days, 1)
            share = min(max((day - inst.cycle.opens_on).days / span, 0.0), 1.0)
            numbers = {t["key"]: round(t["amount"] * plan.attainment * share)
                       for t in inst.task.targets}
        reached = [m.id for m in plans.approved_milestones(s, inst.id) if m.due_on <= day] \
            if item.role is ItemRole.LEAD else []
        checkins.report_progress(
            s, clock, self._liaison(s, item.unit_id), item.id, numbers=numbers, reached=reached,
            text=f"{item.title.removeprefix('报送')}：各项工作按计划推进。",
            problems="部分企业申报材料不齐，需相关部门协调。" if numbers else None,
            next_steps="继续推进，按期完成目标任务。")
        return 1

    def _propose(self, s: Session, clock: Clock, item: WorkItem, inst: Instance) -> int:
        """形象进度: half of each target by the middle of the period, all of it by the end."""
        start, end = inst.cycle.opens_on, inst.due_date
        assert end is not None  # plans are asked of obligations with a due date only
        middle = start + (end - start) / 2
        half = {t["key"]: str(round(t["amount"] / 2)) for t in inst.task.targets}
        full = {t["key"]: str(t["amount"]) for t in inst.task.targets}
        plans.propose(s, clock, self._liaison(s, item.unit_id), item.id, milestones=[
            {"name": "完成阶段性任务", "due_on": middle.isoformat(), "amounts": half},
            {"name": "全面完成任务", "due_on": end.isoformat(), "amounts": full}])
        return 1

    def _plans(self, s: Session, clock: Clock, day: date) -> int:
        """The supervisor approves each plan two days after it came in."""
        done = 0
        for item in plans.plan_items_waiting(s):
            if item.submitted_at is not None and day >= today_of(item.submitted_at) + \
                    timedelta(days=2):
                done += _attempt(s, functools.partial(
                    plans.decide, s, clock, self._supervisor(s), item.id, approve=True))
        return done

    def _review(self, s: Session, clock: Clock, item: WorkItem, inst: Instance, plan: Plan,
                day: date) -> int:
        returned = len(s.scalars(select(Review.id).where(Review.instance_id == inst.id,
                                                         Review.approved.is_(False))).all())
        approve = returned >= _returns_wanted(plan.profile)
        service.review(s, clock, self._supervisor(s), item.id, approve=approve,
                       reason=None if approve else "佐证材料不完整，请补充相关文件和数据。")
        return 1

    def _extensions(self, s: Session, clock: Clock, day: date) -> int:
        """The supervisor approves yesterday's requests; units with an EXTENSION plan ask for
        more time ten days before their due date. A refused action is skipped, not fatal."""
        done = 0
        for req in s.scalars(select(ExtensionRequest).where(
                ExtensionRequest.status == ExtensionStatus.PENDING)
                .order_by(ExtensionRequest.id)).all():
            if day >= today_of(req.created_at) + timedelta(days=1):
                done += _attempt(s, functools.partial(
                    service.decide_extension, s, clock, self._supervisor(s), req.id,
                    approve=True))
        q = (select(WorkItem).join(Instance).where(
            WorkItem.kind == ItemKind.EVIDENCE, WorkItem.status == ItemStatus.OPEN,
            Instance.due_date == day + timedelta(days=10),
            Instance.due_date == Instance.original_due_date).order_by(WorkItem.id))
        for item in s.scalars(q).all():
            extend_to = self._plan(item.instance).extend_to
            if extend_to is not None:
                done += _attempt(s, functools.partial(
                    service.request_extension, s, clock, self._liaison(s, item.unit_id),
                    item.id, new_due=extend_to, reason="涉及多部门协调，需延长办理时限。"))
        return done

    def _liaison(self, s: Session, unit_id: str) -> service.Actor:
        return self._actor(s, User.unit_id == unit_id, Role.LIAISON, unit_id)

    def _supervisor(self, s: Session) -> service.Actor:
        return self._actor(s, User.role == Role.SUPERVISOR, Role.SUPERVISOR, None)

    def _actor(self, s: Session, cond: object, role: Role, unit_id: str | None) -> service.Actor:
        key = f"{role}:{unit_id}"
        if key not in self._actors:
            user = s.scalars(select(User).where(cond, User.role == role)  # type: ignore[arg-type]
                             .order_by(User.id)).first()
            if user is None:
                raise DubanError(f"模拟需要{role.value}账号：{unit_id or ''}")
            self._actors[key] = service.Actor.of(user)
        return self._actors[key]


def _attempt(s: Session, action: Callable[[], object]) -> int:
    """Run one action in a savepoint; 1 if it went through, 0 if the service refused it."""
    try:
        with s.begin_nested():
            action()
    except DubanError:
        return 0
    return 1


def today_of(instant: datetime) -> date:
    """The China date of a stored timestamp."""
    return instant.astimezone(CHINA_TZ).date()
