"""Reminders before due dates and the 催办 the day after: indexed sweeps over work items.

Each sweep reads the candidates with one query on ``ix_work_items_sweep`` (status, due date),
drops those whose in-app note (same dedupe key as the mail) already exists, then handles the
rest in batches: one transaction per batch, one savepoint (and one ``try``) per item, so one bad
item never blocks the others and a repeat run adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, sessionmaker

from engine import access, audit, lifecycle
from engine.access import Actor
from engine.clock import Clock, today
from engine.errors import ConflictError, PermissionDeniedError, StateError, ValidationError
from engine.lights import Light, light
from engine.models import (
    ACTIONABLE,
    Cycle,
    EscalationLevel,
    Instance,
    InstanceStatus,
    ItemKind,
    ItemRole,
    PolicyTask,
    WorkItem,
)
from engine.text import quoted
from engine.workdays import WorkCalendar, default_calendar
from notifications.mail import enqueue
from notifications.notes import add_note, cn_date, existing_keys, notify, run_batched, signature
from notifications.recipients import Recipients

log = logging.getLogger(__name__)

ROLE_ZH = {ItemRole.LEAD: "牵头", ItemRole.SUPPORTING: "配合"}


@dataclass(frozen=True)
class ReminderRule:
    """Reminder offsets before the due date, in calendar days or (optionally) working days."""

    offsets: tuple[int, ...] = (7, 1)
    working_days: bool = False

    def window(self, days_left: int) -> int | None:
        """The offset whose window holds ``days_left`` (the smallest offset >= it), if any."""
        if days_left < 0:
            return None
        return next((k for k in sorted(self.offsets) if days_left <= k), None)

    def label(self, k: int) -> str:
        """The offset's part of the dedupe key: ``T-7`` (or ``T-3wd`` in working days)."""
        return f"T-{k}wd" if self.working_days else f"T-{k}"


def _sweep_columns() -> Any:
    return (select(WorkItem.id, WorkItem.unit_id, WorkItem.role, WorkItem.status,
                   WorkItem.due_date, WorkItem.instance_id, WorkItem.kind,
                   WorkItem.title.label("item_title"), PolicyTask.number, PolicyTask.title,
                   PolicyTask.supervisor_unit_id, Cycle.label)
            .join(Instance, Instance.id == WorkItem.instance_id)
            .join(PolicyTask, PolicyTask.id == Instance.task_id)
            .join(Cycle, Cycle.id == Instance.cycle_id))


# ---------------------------------------------------------------- reminders
def remind(sessions: sessionmaker[Session], clock: Clock, rule: ReminderRule | None = None,
           calendar: WorkCalendar | None = None) -> int:
    """Remind each open lead/supporting item once per offset before its due date."""
    rule = rule or ReminderRule()
    cal = calendar or default_calendar()
    day = today(clock)
    span = max(rule.offsets, default=0)
    last = cal.add_working_days(day, span) if rule.working_days else day + timedelta(days=span)
    with sessions() as s:
        rows = s.execute(_sweep_columns().where(
            WorkItem.status.in_(ACTIONABLE), WorkItem.due_date >= day,
            WorkItem.due_date <= last, WorkItem.role != ItemRole.SUPERVISOR,
            WorkItem.kind != ItemKind.PLAN)).all()  # plans: no ladder (docs/plans.md)
        due: list[tuple[Row[Any], str, int]] = []
        for row in rows:
            left = (cal.working_days_between(day, row.due_date) if rule.working_days
                    else (row.due_date - day).days)
            # a 签收 is due within days of its start: one reminder, on its due day
            k = (0 if left == 0 else None) if row.kind is ItemKind.ACK else rule.window(left)
            if k is not None and light(row.status, row.due_date, day) is not Light.GREY:
                due.append((row, f"reminder:{row.id}:{rule.label(k)}", left))
        done = existing_keys(s, [key for _, key, _ in due])
        todo = [entry for entry in due if entry[1] not in done]
    return run_batched(sessions, clock, todo, _send_reminder, rule)


def _send_reminder(s: Session, clock: Clock, names: dict[str, str], to: Recipients,
                   entry: tuple[Row[Any], str, int], rule: ReminderRule) -> int:
    row, key, left = entry
    unit = names.get(row.unit_id, row.unit_id)
    # 还有7天 / 还有3个工作日 (a 个 belongs to 工作日 only: never 7个天)
    when = ("今天到期" if left == 0 else
            f"距截止还有{left}{'个工作日' if rule.working_days else '天'}")
    if row.kind in CHECKIN_WORDS:
        subject, text = checkin_reminder(row, unit, when)
        text += f"\n\n请登录督办系统办理（待办事项 #{row.id}）。\n" + signature(
            names, row.supervisor_unit_id, today(clock))
        return int(notify(s, clock, to, key=key, unit_id=row.unit_id, kind="reminder",
                          subject=subject, text=text, link=f"/items/{row.id}",
                          related=("work_item", row.id)))
    subject = (f"【到期提醒】任务{row.number}{quoted(row.title)}（{row.label}）"
               f"将于{cn_date(row.due_date)}到期")
    text = (f"{unit}：\n\n你单位{ROLE_ZH.get(row.role, '')}承担的任务{row.number}"
            f"{quoted(row.title)}（{row.label}）办理时限为{cn_date(row.due_date)}，{when}，目前尚未报送。"
            f"请抓紧办理，按时报送办理情况和佐证材料；确有困难的，请在截止日期前提出延期申请。\n\n"
            f"请登录督办系统办理（待办事项 #{row.id}）。\n"
            f"{signature(names, row.supervisor_unit_id, today(clock))}")
    return int(notify(s, clock, to, key=key, unit_id=row.unit_id, kind="reminder",
                      subject=subject, text=text, link=f"/items/{row.id}",
                      related=("work_item", row.id)))


CHECKIN_WORDS = {ItemKind.ACK: "签收", ItemKind.PROGRESS: "报送工作进展"}


def checkin_reminder(row: Row[Any], unit: str, when: str) -> tuple[str, str]:
    """The reminder of a 签收 or a progress report: subject and body."""
    task = f"任务{row.number}{quoted(row.title)}（{row.label}）"
    if row.kind is ItemKind.ACK:
        return (f"【签收提醒】{task}请于{cn_date(row.due_date)}前签收",
                f"{unit}：\n\n{task}已交办你单位{ROLE_ZH.get(row.role, '')}办理，签收时限为"
                f"{cn_date(row.due_date)}，{when}，目前尚未签收。请及时签收并抓紧落实。")
    return (f"【进展报送提醒】{task}{row.item_title}，将于{cn_date(row.due_date)}到期",
            f"{unit}：\n\n请于{cn_date(row.due_date)}前{row.item_title}（{task}），{when}。"
            f"报送内容：已做工作、目标完成情况、需协调解决的问题、下一步工作安排及相关材料。")


def checkin_urge(row: Row[Any], unit: str, days: int) -> tuple[str, str]:
    """The 催办 of a 签收 or a progress report past its due date."""
    task = f"任务{row.number}{quoted(row.title)}（{row.label}）"
    what = CHECKIN_WORDS[row.kind]
    return (f"【催办】{task}逾期未{what}，请抓紧办理",
            f"{unit}：\n\n{task}的{what}时限为{cn_date(row.due_date)}，现已逾期{days}天，"
            f"你单位尚未{what}。请立即办理；逾期情况将纳入通报和考核。")


# ---------------------------------------------------------------- 催办
def mark_overdue(sessions: sessionmaker[Session], clock: Clock) -> int:
    """The day after the due date: mark open items overdue and send each one 催办 once."""
    day = today(clock)
    with sessions() as s:
        rows = s.execute(_sweep_columns().where(
            WorkItem.status.in_(ACTIONABLE), WorkItem.due_date < day,
            WorkItem.role != ItemRole.SUPERVISOR, WorkItem.escalation == EscalationLevel.NONE,
            WorkItem.kind != ItemKind.PLAN)
            .order_by(WorkItem.due_date, WorkItem.id)).all()
    todo = [row for row in rows if light(row.status, row.due_date, day) is Light.RED]
    return run_batched(sessions, clock, todo, _send_urge)


def _send_urge(s: Session, clock: Clock, names: dict[str, str], to: Recipients,
               row: Row[Any]) -> int:
    key = f"urge:{row.id}:{row.due_date.isoformat()}"
    try:
        lifecycle.raise_level(s, clock, row.id, EscalationLevel.URGED,
                              reason=f"逾期：办理时限{row.due_date.isoformat()}",
                              ref=("message", key))
    except ConflictError:
        return 0  # another process marked it first
    unit = names.get(row.unit_id, row.unit_id)
    days = (today(clock) - row.due_date).days
    if row.kind in CHECKIN_WORDS:
        subject, body = checkin_urge(row, unit, days)
    else:
        subject = f"【催办】任务{row.number}{quoted(row.title)}（{row.label}）已逾期，请抓紧办理"
        body = (f"{unit}：\n\n你单位{ROLE_ZH.get(row.role, '')}承担的任务{row.number}"
                f"{quoted(row.title)}（{row.label}）办理时限为{cn_date(row.due_date)}，现已逾期{days}天，尚未报送办理情况。"
                f"请立即办理并报送佐证材料。逾期仍未办结的，将发出督办通知并予以通报。")
    text = (f"{body}\n\n请登录督办系统办理（待办事项 #{row.id}）。\n"
            f"{signature(names, row.supervisor_unit_id, today(clock))}")
    notify(s, clock, to, key=key, unit_id=row.unit_id,
           kind="urge", subject=subject, text=text, link=f"/items/{row.id}",
           related=("work_item", row.id))
    return 1


def manual_urge(s: Session, clock: Clock, *, actor: Actor, inst: Instance, message: str,
                link: str | None) -> list[str]:
    """A supervisor's 催办 of one running obligation: note, mail to the lead unit's liaisons,
    audit entry. Each one is its own message (numbered per obligation), never merged."""
    if not access.may_urge(actor):
        raise PermissionDeniedError("只有督查人员可以催办")
    if inst.status is not InstanceStatus.RUNNING:
        raise StateError("该事项已办结，无需催办")
    day, now = today(clock), clock.now()
    unit = inst.lead_unit
    name = unit.name_on(day)
    to = sorted({address for _, address in Recipients(s, day).unit(unit.id)})
    if not to:
        raise ValidationError(f"{name}没有登记邮箱，无法发送催办邮件")
    due = cn_date(inst.due_date) if inst.due_date else "长期"
    subject = f"【催办】任务{inst.task.number}（{inst.cycle.label}）请抓紧办理"
    text = (f"{name}：\n\n任务{inst.task.number}{quoted(inst.task.title)}（{inst.cycle.label}，"
            f"截止日期{due}）尚未办结，请抓紧办理并报送佐证材料。\n\n{message}\n")
    seq = len(audit.history(s, "instance", inst.id)) + 1
    key = f"urge:manual:{inst.id}:{seq}"
    if not add_note(s, now, key=key, unit_id=unit.id, kind="urge", title=subject, body=text,
                    link=link) or enqueue(s, clock, dedupe_key=key, kind="urge", to=to,
                                          subject=subject, text=text,
                                          related=("instance", inst.id)) is None:
        raise ConflictError("催办正在由他人发送，请刷新后重试")
    audit.record(s, clock, actor=actor.username, action="urge", object_type="instance",
                 object_id=str(inst.id), after={"to": to, "message": message, "key": key})
    return to
