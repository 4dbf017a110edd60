"""考核: a year's ranking, a unit's items down to the facts, the trend, adjusting, the rules,
publishing; and the cockpit (驾驶舱) for supervisors and leaders."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.errors import ValidationError
from engine.models import Policy, Role, Unit
from notifications import assessment_store
from notifications.assessment_rules import Rules
from web.auth import role_required
from web.forms import ConfirmForm
from web.params import small_int
from web.views.common import act, actor, clock, db, today_date
from web.views.files import send_bytes

bp = Blueprint("assessment", __name__, url_prefix="/assessment")
STAFF = (Role.SUPERVISOR, Role.ADMIN)
TREND_YEARS = 6


def _scope() -> tuple[int, str | None]:
    """The year (default: last year) and policy (default: all) of the request."""
    year = small_int(request.values.get("year"), maximum=2100) or today_date().year - 1
    return year, request.values.get("policy") or None


def _policies() -> dict[str, str]:
    return {p.id: p.title for p in db().scalars(select(Policy).order_by(Policy.issued_on))}


@bp.route("/")
@role_required(*STAFF)
def index() -> str:
    """The ranking of a year, with what can be done to it."""
    year, policy = _scope()
    result = assessment_store.assess(db(), year, today_date(), policy)
    return render_template("assessment/index.html", r=result, year=year, policy=policy,
                           policies=_policies(), confirm=ConfirmForm(),
                           years=range(today_date().year, today_date().year - TREND_YEARS, -1),
                           can_publish=not result.published and year < today_date().year,
                           title=f"{year}年度考核")


@bp.route("/units/<unit_id>")
@role_required(*STAFF)
def unit(unit_id: str) -> str:
    """A unit's items down to their facts, and its score over the years."""
    year, policy = _scope()
    s, day = db(), today_date()
    result = assessment_store.assess(s, year, day, policy)
    mine = next((u for u in result.units if u.unit_id == unit_id), None)
    if s.get(Unit, unit_id) is None:
        abort(404)
    trend = []
    for y in range(year - TREND_YEARS + 1, year + 1):
        past = assessment_store.assess(s, y, day, policy) if y <= day.year else None
        found = next((u for u in past.units if u.unit_id == unit_id), None) if past else None
        trend.append((y, found.score if found else None, found.rank if found else None))
    return render_template("assessment/unit.html", r=result, u=mine, unit_id=unit_id, year=year,
                           policy=policy, trend=trend, confirm=ConfirmForm(),
                           title=f"{mine.unit if mine else unit_id} · {year}年度考核")


@bp.route("/adjust", methods=["POST"])
@role_required(Role.SUPERVISOR)
def adjust() -> Response:
    """A leader's evaluation or another manual item, with its reason (audited)."""
    if not ConfirmForm().validate():
        abort(400)
    year, policy = _scope()
    unit_id = request.form.get("unit_id", "")
    try:
        points = float(request.form.get("points", ""))
    except ValueError:
        flash("分值应为数字。", "error")
        return redirect(url_for(".unit", unit_id=unit_id, year=year, policy=policy))
    act(lambda: assessment_store.add_item(db(), clock(), actor(), year=year, policy_id=policy,
                                          unit_id=unit_id, points=points,
                                          reason=request.form.get("reason", "")),
        "已记入考核调整。")
    return redirect(url_for(".unit", unit_id=unit_id, year=year, policy=policy))


@bp.route("/publish", methods=["POST"])
@role_required(Role.SUPERVISOR)
def publish() -> Response:
    """Freeze the year and issue its numbered 考核结果通报 (archived and mailed)."""
    from notifications.assessment_doc import publish as issue

    if not ConfirmForm().validate():
        abort(400)
    year, policy = _scope()
    doc = act(lambda: issue(db(), clock(), actor(), year, policy))
    if doc is not None:
        flash(f"{year}年度考核结果已发布：{doc.number}，已存档并发送各单位。", "success")
    return redirect(url_for(".index", year=year, policy=policy))


@bp.route("/export.xlsx")
@role_required(*STAFF)
def export() -> Response:
    """The year's ranking and items as a workbook."""
    from notifications.assessment_xlsx import XLSX_TYPE, workbook

    year, policy = _scope()
    result = assessment_store.assess(db(), year, today_date(), policy)
    data = workbook(result, _policies().get(policy or "", "全部政策"))
    return send_bytes(data, f"考核结果-{year}.xlsx", XLSX_TYPE)


@bp.route("/rules", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def rules() -> str | Response:
    """A policy's 考核细则: points and caps per rule, grading; frozen years keep theirs."""
    from engine.policies import get

    policy_id = request.values.get("policy") or next(iter(_policies()), "")
    row = get(db(), policy_id)
    current = Rules.from_dict(row.data.get("assessment"))
    if request.method == "POST":
        if not ConfirmForm().validate():
            abort(400)
        edited = _edited(current)
        if edited is not None:
            act(lambda: assessment_store.set_rules(db(), clock(), actor(), policy_id, edited),
                "考核细则已保存。")
            return redirect(url_for(".rules", policy=policy_id))
    return render_template("assessment/rules.html", rules=current, policy=row,
                           confirm=ConfirmForm(), title="考核细则")


def _edited(current: Rules) -> Rules | None:
    """The rules as the form submitted them; a flash and None when a value is not a number."""
    try:
        data = current.to_dict()
        data["base"] = float(request.form.get("base", data["base"]))
        data["grading"] = request.form.get("grading", data["grading"])
        for rule in data["rules"]:
            rule["points"] = float(request.form.get(f"points_{rule['key']}", rule["points"]))
            cap = request.form.get(f"cap_{rule['key']}")
            if cap is not None:  # a field left out keeps its cap; an emptied one has none
                rule["cap"] = float(cap) if cap.strip() else None
        return Rules.from_dict(data)
    except ValueError:
        flash("分值和上限应为数字。", "error")
        return None
    except ValidationError as exc:
        flash(str(exc), "error")
        return None



@bp.route("/cockpit")
@role_required(*STAFF)
def cockpit() -> str:
    """The province at a glance: a map, overdue month by month, who is furthest behind."""
    from notifications import cockpit as figures

    _, policy = _scope()
    s, day = db(), today_date()
    year = small_int(request.args.get("year"), maximum=2100) or day.year  # the running year
    result = assessment_store.assess(s, year, day, policy)
    cities = figures.cities(s, day, result, policy)
    months = figures.overdue_by_month(s, day, policy)
    tasks, units = figures.furthest_behind(s, day, policy)
    data = {"cities": [{"name": c.name, "rate": c.rate, "score": c.score} for c in cities],
            "months": months, "year": year}
    ranked = sorted(cities, key=lambda c: (c.rate is not None, c.rate or 0), reverse=True)
    return render_template("assessment/cockpit.html", cities=cities, ranked=ranked, months=months,
                           tasks=tasks, units=units, r=result, year=year, policy=policy,
                           policies=_policies(), data=data, title="驾驶舱")


@bp.route("/map.json")
@role_required(*STAFF)
def map_json() -> Response:
    """The province's city boundaries as plain GeoJSON (served by the app, no outside map)."""
    from flask import jsonify

    from notifications.map_svg import geojson

    response = jsonify(geojson())
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
