"""The supervisors' view of the progress reports: obligations behind schedule and the
problems units asked to have coordinated (需协调解决的问题), filtered by policy and unit."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.models import Policy, Role
from engine.reporting import behind_schedule, coordination_problems
from engine.units import unit_names
from web.auth import role_required
from web.views.common import db, today_date
from web.views.export import _cell, _text
from web.views.files import send_bytes
from web.views.nav import cn_date

bp = Blueprint("progress", __name__, url_prefix="/board")
PROBLEMS_TITLE = "需协调解决的问题"
PROBLEMS_HEADER = ("报送日期", "单位", "任务编号", "任务", "周期", "报送期", "问题", "事项编号")


def _filters() -> tuple[str | None, str | None, dict[str, str]]:
    """policy and unit from the query string (unknown values narrow to nothing shown)."""
    policy = request.args.get("policy") or None
    unit = request.args.get("unit") or None
    return policy, unit, {k: v for k, v in (("policy", policy), ("unit", unit)) if v}


def _choices() -> dict[str, object]:
    s, today = db(), today_date()
    policies = [(p.id, p.title) for p in s.scalars(select(Policy).order_by(
        Policy.status, Policy.issued_on.desc()))]
    names = unit_names(s, today)
    return {"policies": policies, "units": names,
            "policy_titles": dict(policies)}


@bp.route("/behind")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def behind() -> str:
    """Obligations whose latest progress report is missing or came in late."""
    policy, unit, args = _filters()
    rows = behind_schedule(db(), today_date(), policy=policy, unit=unit)
    return render_template("board/behind.html", rows=rows, policy=policy, unit=unit, args=args,
                           missing=sum(r.missing for r in rows), title="进度滞后事项",
                           **_choices())


@bp.route("/problems")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def problems() -> str:
    """The problems units asked to have coordinated, the newest first."""
    policy, unit, args = _filters()
    rows = coordination_problems(db(), policy=policy, unit=unit)
    return render_template("board/problems.html", rows=rows, policy=policy, unit=unit,
                           args=args, title=PROBLEMS_TITLE, **_choices())


@bp.route("/problems.csv")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def problems_csv() -> Response:
    """The same list as CSV (UTF-8 with BOM for Excel)."""
    policy, unit, _ = _filters()
    names = unit_names(db(), today_date())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(PROBLEMS_HEADER)
    for r in coordination_problems(db(), policy=policy, unit=unit, limit=100_000):
        writer.writerow([_text(_cell(v)) for v in (
            cn_date(r.submitted_at), names.get(r.unit_id, r.unit_id), r.task_number,
            r.task_title, r.cycle_label, r.report_due, r.problems, r.item_id)])
    data = ("\ufeff" + buf.getvalue()).encode("utf-8")
    return send_bytes(data, f"{PROBLEMS_TITLE}-{today_date().isoformat()}.csv",
                      "text/csv; charset=utf-8")
