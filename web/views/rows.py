"""Display rows: a work item with its task and cycle, read in one extra query per page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.lights import Light, light
from engine.models import Cycle, Instance, Policy, PolicyTask, WorkItem


@dataclass(frozen=True)
class ItemRow:
    """A work item as a list shows it."""

    item: WorkItem
    task_number: int
    task_title: str
    cycle_label: str
    lead_unit_id: str
    policy_title: str
    light: Light


Labels = dict[int, tuple[int, str, str, str, str]]


def instance_labels(s: Session, instance_ids: Iterable[int]) -> Labels:
    """Instance id -> (task number, task title, cycle label, lead unit id, policy title), in
    one query."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    q = (select(Instance.id, PolicyTask.number, PolicyTask.title, Cycle.label,
                Instance.lead_unit_id, Policy.title)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Policy, Policy.id == PolicyTask.policy_id)
         .join(Cycle, Cycle.id == Instance.cycle_id).where(Instance.id.in_(ids)))
    return {row[0]: (row[1], row[2], row[3], row[4], row[5]) for row in s.execute(q)}


def item_rows(s: Session, items: Sequence[WorkItem], today: date) -> list[ItemRow]:
    """Rows for a list of work items, with their lights by the engine's rule."""
    labels = instance_labels(s, (i.instance_id for i in items))
    return [ItemRow(i, *labels[i.instance_id], light=light(i.status, i.due_date, today))
            for i in items]



