"""Display rows: a work item with its task and cycle, read in one extra query per page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from engine.lights import Light, light
from engine.models import WorkItem
from engine.queries import Labels, instance_labels

__all__ = ["ItemRow", "Labels", "instance_labels", "item_rows"]  # the query lives in the engine


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


def item_rows(s: Session, items: Sequence[WorkItem], today: date) -> list[ItemRow]:
    """Rows for a list of work items, with their lights by the engine's rule."""
    labels = instance_labels(s, (i.instance_id for i in items))
    return [ItemRow(i, *labels[i.instance_id], light=light(i.status, i.due_date, today))
            for i in items]
