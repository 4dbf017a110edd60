"""The supervisors' board as one page: filtered, lit, ordered, counted and cut in SQL.

``engine.lights.light`` is the one rule; ``light_sql`` states the same rule as a SQL ``CASE``
(with the behind-schedule rank of ``engine.plans.behind_sql``, a grouped subquery joined once)
so that a board over hundreds of thousands of obligations never loads them into Python
(``tests/test_board_sql.py`` checks the two agree on every combination). Only the rows of the
page become ``BoardRow``s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from engine.lights import DUE_SOON_DAYS, Light
from engine.models import Cycle, Instance, ItemKind, ItemStatus, PolicyTask, WorkItem
from engine.plans import behind_sql, reason_of
from engine.reporting import with_reports
from engine.units import unit_names

MAX_PER_PAGE = 1000
_RANK = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.GREY: 3}


@dataclass(frozen=True)
class BoardFilter:
    """What the board is narrowed to (None: everything)."""

    policy: str | None = None
    task: int | None = None
    unit: str | None = None
    cycle: str | None = None
    status: str | None = None   # "overdue", a status value or a light value


@dataclass(frozen=True)
class BoardPage:
    """One page of the board, with the counts of the whole filtered board."""

    rows: list[Any]             # engine.queries.BoardRow
    total: int
    page: int
    per_page: int
    lights: Mapping[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the filtered board has (at least one)."""
        return max(1, -(-self.total // self.per_page))


def light_sql(today: date, due_soon_days: int = DUE_SOON_DAYS,
              behind: ColumnElement[Any] | None = None) -> ColumnElement[str]:
    """``engine.lights.light`` of the lead's evidence item as SQL (a missing one counts as open);
    ``behind``: the obligation's behind-schedule rank (``engine.plans.behind_sql``) or NULL."""
    status, due = WorkItem.status, Instance.due_date
    waiting = and_(status.is_not(None), status == ItemStatus.SUBMITTED)
    late = and_(behind.is_not(None), ~waiting) if behind is not None else literal(False)
    return case(
        (status.in_((ItemStatus.CLOSED, ItemStatus.CANCELLED)), literal(Light.GREY.value)),
        (and_(due.is_(None), late), literal(Light.YELLOW.value)),
        (due.is_(None), literal(Light.GREEN.value)),
        (and_(due < today, waiting), literal(Light.YELLOW.value)),
        (due < today, literal(Light.RED.value)),
        (and_(due <= today + timedelta(days=due_soon_days), ~waiting),
         literal(Light.YELLOW.value)),
        (late, literal(Light.YELLOW.value)),
        else_=literal(Light.GREEN.value))


def _rank(lit: ColumnElement[str]) -> ColumnElement[int]:
    return case(*((lit == light.value, rank) for light, rank in _RANK.items()), else_=9)


def _base(columns: tuple[Any, ...], f: BoardFilter, lit: ColumnElement[str],
          late: Subquery) -> Select[Any]:
    q = (select(*columns)
         .select_from(Instance)
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .join(Cycle, Cycle.id == Instance.cycle_id)
         .outerjoin(WorkItem, and_(WorkItem.instance_id == Instance.id,
                                   WorkItem.kind == ItemKind.EVIDENCE))
         .outerjoin(late, late.c.instance_id == Instance.id))
    if f.policy:
        q = q.where(PolicyTask.policy_id == f.policy)
    if f.task is not None:
        q = q.where(PolicyTask.number == f.task)
    if f.unit:
        q = q.where(Instance.lead_unit_id == f.unit)
    if f.cycle:
        q = q.where(Cycle.label == f.cycle)
    if f.status == "overdue":
        q = q.where(lit == Light.RED.value)
    elif f.status:
        q = q.where(or_(lit == f.status, func.coalesce(WorkItem.status, ItemStatus.OPEN.value)
                        == f.status))
    return q


def board_page(s: Session, today: date, f: BoardFilter = BoardFilter(), *, page: int = 1,
               per_page: int = 100) -> BoardPage:
    """Page ``page`` of the board: overdue first (most days first), then due soon, on track,
    closed; ties by due date, task number, unit and instance. Two queries: counts, rows."""
    from engine.queries import board_columns, board_row, with_acks  # (queries imports us)

    per_page = max(1, min(per_page, MAX_PER_PAGE))
    late = behind_sql(today)
    lit = light_sql(today, behind=late.c.rank)
    counts = {str(k): int(n) for k, n in s.execute(
        _base((lit, func.count()), f, lit, late).group_by(lit))}
    total = sum(counts.values())
    page = max(1, min(page, max(1, -(-total // per_page))))
    q = (_base((*board_columns(), late.c.rank), f, lit, late)
         .order_by(_rank(lit), Instance.due_date.is_(None), Instance.due_date,
                   PolicyTask.number, Instance.lead_unit_id, Instance.id)
         .limit(per_page).offset((page - 1) * per_page))
    names = unit_names(s, today)
    rows = with_reports(s, with_acks(s, [board_row(r[:-1], names, today, reason_of(r[-1]))
                                         for r in s.execute(q)]))
    return BoardPage(rows, total, page, per_page, counts)
