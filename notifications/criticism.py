"""通报批评 and 约谈 in bulletins, read "as of" the period's end from the recorded transitions.

An item is named for 通报批评 in the first bulletin whose period ends on or after the day it
reached the 二次督办 level (engine.lifecycle), if it is still there when the bulletin is issued
(a new due date takes it back to none; a 约谈 held before the bulletin takes it past). Issuing
the bulletin moves each named item principal -> criticized with the bulletin as its fact, so no
later bulletin names it again. The 约谈 held in the period are listed beside them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import lifecycle
from engine.clock import Clock
from engine.models import (
    EscalationLevel,
    Instance,
    Interview,
    PolicyTask,
    WorkItem,
)
from notifications import documents
from notifications.models import Document

PRINCIPAL = EscalationLevel.PRINCIPAL


def criticized(s: Session, policy_id: str, end: date, names: dict[str, str]
               ) -> tuple[list[int], list[documents.CriticizedRow]]:
    """The items a bulletin as of ``end`` names for 通报批评, and their rows."""
    reached = {int(t.object_id): t for t in lifecycle.reached(s, PRINCIPAL, end)}
    if not reached:
        return [], []
    as_of = lifecycle.levels_on(s, reached, end)
    rows = s.execute(select(WorkItem.id, WorkItem.unit_id, WorkItem.escalation,
                            PolicyTask.number, PolicyTask.title)
                     .join(Instance, Instance.id == WorkItem.instance_id)
                     .join(PolicyTask, PolicyTask.id == Instance.task_id)
                     .where(WorkItem.id.in_(list(reached)), PolicyTask.policy_id == policy_id)
                     .order_by(PolicyTask.number, WorkItem.id)).all()
    picked = [r for r in rows if r.escalation is PRINCIPAL and as_of[r.id] is PRINCIPAL]
    docs = dict(s.execute(select(Document.id, Document.number).where(Document.id.in_(
        [int(reached[r.id].ref_id or 0) for r in picked]))).all())
    return ([r.id for r in picked],
            [documents.CriticizedRow(r.number, r.title, names.get(r.unit_id, r.unit_id),
                                     docs.get(int(reached[r.id].ref_id or 0), ""))
             for r in picked])


def interviews(s: Session, policy_id: str, start: date, end: date, names: dict[str, str]
               ) -> list[documents.InterviewRow]:
    """The 约谈 held from ``start`` to ``end``."""
    rows = s.execute(select(Interview.unit_id, Interview.held_on, Interview.interviewee,
                            PolicyTask.number)
                     .join(WorkItem, WorkItem.id == Interview.work_item_id)
                     .join(Instance, Instance.id == WorkItem.instance_id)
                     .join(PolicyTask, PolicyTask.id == Instance.task_id)
                     .where(PolicyTask.policy_id == policy_id, Interview.held_on >= start,
                            Interview.held_on <= end)
                     .order_by(Interview.held_on, Interview.id)).all()
    return [documents.InterviewRow(r.number, names.get(r.unit_id, r.unit_id), r.held_on,
                                   r.interviewee) for r in rows]


def mark(s: Session, clock: Clock, item_ids: list[int], doc: Document) -> None:
    """Each named item: principal -> criticized, the bulletin as its fact."""
    for item_id in item_ids:
        lifecycle.raise_level(s, clock, item_id, EscalationLevel.CRITICIZED,
                              reason=f"{doc.number}通报批评", ref=("document", doc.id))
