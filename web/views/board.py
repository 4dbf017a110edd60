"""The supervisors' board: task x unit x cycle with lights, filters, exports, unit/task pages."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.board import BoardFilter, board_page
from engine.models import Cycle, Policy, PolicyTask, Role, Unit
from engine.queries import BoardRow, unit_names
from engine.queries import board as board_rows
from web.auth import role_required
from web.params import small_int
from web.views.attainment import attainment
from web.views.common import db, today_date
from web.views.export import board_csv, board_xlsx

bp = Blueprint("board", __name__, url_prefix="/board")
PER_PAGE = 100
STATUS_CHOICES = (("", "全部状态"), ("overdue", "逾期"), ("yellow", "临期"), ("open", "待办理"),
                  ("returned", "已退回"), ("submitted", "待审核"), ("closed", "已办结"))


@dataclass(frozen=True)
class Filters:
    """The board's filters as read from the query string."""

    policy: str | None
    task: int | None
    unit: str | None
    cycle: str | None
    status: str | None

    @classmethod
    def from_args(cls, default_policy: str | None = None) -> Filters:
        """Parse the query string; unknown values are ignored. A task number means a task of
        the chosen policy (numbers repeat across policies)."""
        status = request.args.get("status") or None
        policy = request.args.get("policy", default_policy or "") or None
        return cls(policy=policy, task=small_int(request.args.get("task")) if policy else None,
                   unit=request.args.get("unit") or None, cycle=request.args.get("cycle") or None,
                   status=status if status in dict(STATUS_CHOICES) else None)

    def board_filter(self) -> BoardFilter:
        """The same filters for the engine's board page."""
        return BoardFilter(policy=self.policy, task=self.task, unit=self.unit, cycle=self.cycle,
                           status=self.status)

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for export links)."""
        return {k: str(v) for k, v in (("policy", self.policy), ("task", self.task),
                                       ("unit", self.unit), ("cycle", self.cycle),
                                       ("status", self.status)) if v}


def _policies() -> list[Policy]:
    return list(db().scalars(select(Policy).order_by(Policy.status, Policy.issued_on.desc())))


def _default_policy(rows: list[Policy]) -> str | None:
    """With a single policy there is nothing to choose."""
    return rows[0].id if len(rows) == 1 else None


def _rows(f: Filters) -> list[BoardRow]:
    return board_rows(db(), today_date(), policy=f.policy, task=f.task, unit=f.unit,
                      cycle=f.cycle, status=f.status)


@bp.route("/")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def index() -> str:
    """Every obligation with its light, overdue first, filtered, a page at a time."""
    s, known = db(), _policies()
    f = Filters.from_args(_default_policy(known))
    page = board_page(s, today_date(), f.board_filter(),
                      page=small_int(request.args.get("page")) or 1, per_page=PER_PAGE)
    tasks = list(s.scalars(select(PolicyTask).where(PolicyTask.policy_id == f.policy)
                           .order_by(PolicyTask.number))) if f.policy else []
    cycles = sorted(s.scalars(select(Cycle.label).distinct().where(Cycle.opened_at.is_not(None))))
    return render_template("board/index.html", rows=page.rows, page=page, f=f,
                           policies=known, policy_titles={p.id: p.title for p in known},
                           lights=page.lights, tasks=tasks, cycles=cycles, title="督办总览",
                           units=unit_names(s, today_date()), statuses=STATUS_CHOICES)


@bp.route("/export.<fmt>")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def export(fmt: str) -> Response:
    """The current board view as CSV (UTF-8 with BOM) or XLSX."""
    rows = _rows(Filters.from_args(_default_policy(_policies())))
    if fmt == "csv":
        return board_csv(rows, today_date())
    if fmt == "xlsx":
        return board_xlsx(rows, today_date())
    abort(404)


@bp.route("/units/<unit_id>")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def unit(unit_id: str) -> str:
    """One unit: its obligations and the attainment of the tasks it leads."""
    s, today = db(), today_date()
    row = s.get(Unit, unit_id)
    if row is None:
        abort(404)
    rows = board_rows(s, today, unit=unit_id)
    tasks = [t for t in s.scalars(select(PolicyTask).order_by(PolicyTask.number))
             if unit_id in t.lead_unit_ids]
    charts = [(t, attainment(s, t, today, unit_id)) for t in tasks if t.targets]
    return render_template("board/unit.html", unit=row, unit_name=row.name_on(today), rows=rows,
                           charts=charts, lights=Counter(r.light.value for r in rows),
                           title=row.name_on(today))


@bp.route("/tasks/<int:number>")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def task(number: int) -> str:
    """One task: its text, its obligations and target attainment over the years."""
    s, today = db(), today_date()
    policy = request.args.get("policy") or _default_policy(_policies())
    row = s.scalar(select(PolicyTask).where(PolicyTask.policy_id == policy,
                                            PolicyTask.number == number))
    if row is None:
        abort(404)
    rows = board_rows(s, today, policy=policy, task=number)
    names = unit_names(s, today)
    return render_template("board/task.html", task=row, rows=rows, charts=attainment(s, row, today),
                           lights=Counter(r.light.value for r in rows), units=names,
                           title=f"任务{number}")
