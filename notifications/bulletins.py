"""Bulletins (通报) on a configurable calendar: monthly, and yearly on every city.

A monthly bulletin covers the previous month as of its last day and is issued on the n-th
working day (default the first) of the next month; the yearly one covers the previous year as of
Dec 31 and is issued on the n-th working day of a configured month (default January), as the
policy asks (每年通报各市培育和发展情况). A tick issues the latest period that is due and not yet
issued, so a missed day is caught up once; older periods are not back-filled.

Everything is computed as of the period's last day from timestamps (closed, submitted,
reviewed, extension decided), so a bulletin issued a few days late still shows that day.

No bulletin with nothing to say: a first month with fewer than ``MIN_FIRST_DAYS`` days after
the policy's issue joins the next month (the 2018-05-30 policy's first bulletin covers
2018年5—6月), and a monthly period in which no obligation had fallen due and none was closed is
skipped (its figures would all be "in progress"; the next bulletin is cumulative anyway).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from engine.attainment import year_figures
from engine.clock import Clock, overdue_from, start_of_day, today
from engine.errors import ValidationError
from engine.lights import Light, light
from engine.models import (
    Evidence,
    ExtensionRequest,
    ExtensionStatus,
    Instance,
    ItemRole,
    ItemStatus,
    Policy,
    PolicyTask,
    Review,
    Unit,
    UnitKind,
    WorkItem,
)
from engine.reporting import report_counts
from engine.units import short_names, unit_names
from engine.workdays import WorkCalendar, default_calendar
from notifications import criticism, documents
from notifications.mail import enqueue
from notifications.models import Document, DocumentKind
from notifications.notes import add_note, signature
from notifications.notices import Draft, issue_document, pdf_name
from notifications.recipients import Recipients

log = logging.getLogger(__name__)

REQUIREMENTS = ("各地、各有关单位要对照任务分解表，逐项明确责任人和完成时限，确保按期办结。",)
OVERDUE_REQUIREMENT = "逾期未办结的单位要查明原因、限期整改，并及时报送办理情况和佐证材料。"
MIN_FIRST_DAYS = 15  # a first month shorter than this after the issue joins the next month


@dataclass(frozen=True)
class BulletinCalendar:
    """When bulletins are issued: the n-th working day after each period."""

    monthly: bool = True
    monthly_working_day: int = 1
    yearly: bool = True
    yearly_month: int = 1
    yearly_working_day: int = 1


@dataclass(frozen=True)
class Period:
    """One period a bulletin covers."""

    key: str          # monthly:2018-08 / yearly:2018
    label: str        # 2018年8月 / 2018年度
    start: date
    end: date         # the bulletin is "as of" this day
    issue_on: date
    yearly: bool


def nth_working_day(year: int, month: int, n: int, cal: WorkCalendar) -> date:
    """The n-th working day of a month."""
    return cal.add_working_days(date(year, month, 1) - timedelta(days=1), n)


def _month(year: int, month: int, when: BulletinCalendar, cal: WorkCalendar) -> Period:
    start = date(year, month, 1)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return Period(f"monthly:{year}-{month:02d}", f"{year}年{month}月", start,
                  nxt - timedelta(days=1),
                  nth_working_day(nxt.year, nxt.month, when.monthly_working_day, cal), False)


def _year(year: int, when: BulletinCalendar, cal: WorkCalendar) -> Period:
    return Period(f"yearly:{year}", f"{year}年度", date(year, 1, 1), date(year, 12, 31),
                  nth_working_day(year + 1, when.yearly_month, when.yearly_working_day, cal),
                  True)


def due_periods(day: date, issued_on: date, horizon_year: int, when: BulletinCalendar,
                cal: WorkCalendar) -> list[Period]:
    """The latest monthly and yearly periods whose issue day has come (within the policy)."""
    found: list[Period] = []
    if when.monthly:
        prev = day.replace(day=1) - timedelta(days=1)
        period = _month(prev.year, prev.month, when, cal)
        if day < period.issue_on:
            before = period.start - timedelta(days=1)
            period = _month(before.year, before.month, when, cal)
        first = _from_issue(period, issued_on)
        found += [first] if first else []
    if when.yearly:
        period = _year(day.year - 1, when, cal)
        if day < period.issue_on:
            period = _year(day.year - 2, when, cal)
        found.append(period)
    return [p for p in found if p.end >= issued_on and p.start.year <= horizon_year]


def _from_issue(period: Period, issued_on: date) -> Period | None:
    """A monthly period as the policy sees it: none before the issue, a short issue month
    joined to the next month (which then starts on the issue day)."""
    if period.end < issued_on:
        return period  # dropped by the caller
    if period.start <= issued_on:
        if (period.end - issued_on).days + 1 < MIN_FIRST_DAYS:
            return None
        return replace(period, start=issued_on)
    before = period.start - timedelta(days=1)
    if issued_on.replace(day=1) != before.replace(day=1) or \
            (before - issued_on).days + 1 >= MIN_FIRST_DAYS:
        return period
    same_year = issued_on.year == period.end.year
    label = (f"{issued_on.year}年{issued_on.month}—{period.end.month}月" if same_year else
             f"{issued_on.year}年{issued_on.month}月—{period.end.year}年{period.end.month}月")
    return replace(period, start=issued_on, label=label)


def has_news(s: Session, policy_id: str, period: Period) -> bool:
    """Whether a monthly bulletin has anything to say: an obligation fell due by the period's
    end, or one was closed in it."""
    end = overdue_from(period.end)
    due = or_(Instance.due_date <= period.end, Instance.original_due_date <= period.end)
    closed = and_(Instance.closed_at >= start_of_day(period.start), Instance.closed_at < end)
    found = s.scalar(select(Instance.id).join(PolicyTask, PolicyTask.id == Instance.task_id)
                     .where(PolicyTask.policy_id == policy_id, Instance.started_at < end,
                            or_(due, closed)).limit(1))
    return found is not None


def bulletins(sessions: sessionmaker[Session], clock: Clock,
              when: BulletinCalendar | None = None, calendar: WorkCalendar | None = None,
              contact: documents.Contact | None = None) -> int:
    """Issue, store and mail every bulletin that is due today and not yet issued."""
    when, cal, day = when or BulletinCalendar(), calendar or default_calendar(), today(clock)
    with sessions() as s:
        policies = list(s.execute(select(Policy.id, Policy.issued_on, Policy.data)))
        done = set(s.scalars(select(Document.dedupe_key).where(
            Document.kind == DocumentKind.BULLETIN)))
    issued = 0
    for policy_id, issued_on, data in policies:
        for period in due_periods(day, issued_on, int(data.get("horizon_year", day.year)),
                                  when, cal):
            if f"bulletin:{policy_id}:{period.key}" in done:
                continue
            try:
                with sessions() as s, s.begin():
                    if period.yearly or has_news(s, policy_id, period):
                        issued += _issue(s, clock, policy_id, period, contact)
            except Exception:  # noqa: BLE001 - one failed bulletin must not block the rest
                log.exception("bulletin %s %s failed", policy_id, period.key)
    return issued


def _issue(s: Session, clock: Clock, policy_id: str, period: Period,
           contact: documents.Contact | None) -> int:
    policy = s.get(Policy, policy_id)
    assert policy is not None
    day = today(clock)
    office = unit_names(s, day)[policy.supervisor_unit_id]
    facts = collect(s, policy, period)
    ranking, drawing = _yearly_extras(s, policy_id, period, day, facts) if period.yearly \
        else ((), None)
    names = unit_names(s, period.end)
    named, critic = criticism.criticized(s, policy_id, period.end, names)
    met = criticism.interviews(s, policy_id, period.start, period.end, names)

    def build(number: str, issue: int) -> Draft:
        doc = documents.BulletinDoc(
            issue=f"{day.year}年第{issue}期", number=number, title=_title(period),
            period_label=period.label, as_of=period.end, office=office,
            policy_title=policy.title, totals=facts.totals, units=facts.units,
            targets=facts.targets, overdue=facts.overdue,
            requirements=REQUIREMENTS + ((OVERDUE_REQUIREMENT,) if facts.overdue else ()),
            yearly=period.yearly, contact=contact, issued_on=day, ranking=ranking,
            map_svg=drawing, criticized=critic, interviews=met, reporting=facts.reporting)
        return Draft(doc.title, documents.bulletin_pdf(doc),
                     {**facts.summary(period), "criticized": named})

    doc = issue_document(s, clock, kind=DocumentKind.BULLETIN, policy_id=policy_id,
                         office=policy.data["doc_office"],
                         office_unit_id=policy.supervisor_unit_id, issued_on=day,
                         dedupe_key=f"bulletin:{policy_id}:{period.key}", unit_id=None,
                         build=build)
    if doc is None:
        return 0
    criticism.mark(s, clock, named, doc)
    _send(s, clock, doc, policy.supervisor_unit_id)
    return 1


def _yearly_extras(s: Session, policy_id: str, period: Period, day: date,
                   facts: Facts) -> tuple[list[tuple[str, str, float, str]], str | None]:
    """The year's 考核 ranking (as scored on the issue day) and the on-time map of the cities."""
    from notifications import map_svg
    from notifications.assessment_store import assess

    result = assess(s, period.end.year, day, policy_id)
    short = short_names(s, period.end)
    ranks = [u.rank for u in result.units]
    ranking = [(f"{'并列' if ranks.count(u.rank) > 1 else ''}{u.rank}",
                short.get(u.unit_id, u.unit), u.score, u.grade) for u in result.units]
    rates = {row.label: (None if row.on_time_rate is None else float(row.on_time_rate))
             for row in facts.units if row.is_city}
    drawing = map_svg.svg({k: None if v is None else round(v, 1) for k, v in rates.items()},
                          title=f"{period.label}各市按时办结率", unit="%",
                          scale_range=(0, 100)) if rates else ""
    return ranking, drawing or None


def _title(period: Period) -> str:
    if period.yearly:
        return f"关于{period.label}各市培育和发展情况的通报"
    return f"关于{period.label}重点任务落实情况的通报"


@dataclass
class Facts:
    """What a bulletin shows, computed from the database."""

    totals: documents.Totals
    units: list[documents.UnitRow]
    targets: list[documents.TargetRow]
    overdue: list[documents.OverdueRow]
    reporting: list[documents.ReportingRow] = field(default_factory=list)

    def summary(self, period: Period) -> dict[str, Any]:
        """The figures kept with the document (JSON)."""
        t = self.totals
        return {"period": period.key, "as_of": period.end.isoformat(),
                "totals": {"assigned": t.assigned, "closed": t.closed,
                           "in_progress": t.in_progress, "overdue": t.overdue},
                "overdue_units": sorted({r.unit for r in self.overdue}),
                "progress": {"due": sum(r.due for r in self.reporting),
                             "on_time": sum(r.on_time for r in self.reporting),
                             "late": sum(r.late for r in self.reporting),
                             "missing": sum(r.missing for r in self.reporting),
                             "behind_units": [r.unit for r in self.reporting if r.behind]}}


def collect(s: Session, policy: Policy, period: Period) -> Facts:
    """Totals, the per-unit table, targets and overdue items as of ``period.end``."""
    end = overdue_from(period.end)
    names, shorts = unit_names(s, period.end), short_names(s, period.end)
    units = {u.id: u for u in s.scalars(select(Unit).order_by(Unit.sort_order, Unit.id))}
    per_unit: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    overdue: list[documents.OverdueRow] = []
    for row in _obligations(s, policy.id, end):
        status = _status_as_of(row, end)
        due = row.old_due or row.due_date
        counts = per_unit[row.lead_unit_id]
        counts[0] += 1
        if status is ItemStatus.CLOSED:
            counts[1] += 1
            counts[2] += bool(row.closed_on_time)
        elif light(status, due, period.end) is Light.RED:
            counts[3] += 1
            overdue.append(documents.OverdueRow(row.number, row.title, names[row.lead_unit_id],
                                                due, (period.end - due).days,
                                                shorts[row.lead_unit_id]))
    rows = [documents.UnitRow(names[uid], *_four(per_unit[uid]), is_city=u.kind is UnitKind.CITY,
                              short_name=shorts[uid])
            for uid, u in units.items() if uid in per_unit]
    assigned = sum(r.assigned for r in rows)
    closed = sum(r.closed for r in rows)
    late = sum(r.overdue for r in rows)
    overdue.sort(key=lambda r: (r.task_number, -r.days_overdue, r.unit))
    return Facts(documents.Totals(assigned, closed, assigned - closed - late, late), rows,
                 _targets(s, policy.id, period), overdue,
                 _reporting(s, policy.id, period, list(units), names, shorts))


def _reporting(s: Session, policy_id: str, period: Period, order: list[str],
               names: dict[str, str], shorts: dict[str, str]) -> list[documents.ReportingRow]:
    """Per unit (in the units' order): progress reports due in the period, on time, late,
    missing as of its last day (engine.reporting)."""
    counts = report_counts(s, policy_id, period.start, period.end)
    return [documents.ReportingRow(names[u], c.due, c.on_time, c.late, c.missing, shorts[u])
            for u in order if (c := counts.get(u)) is not None and c.due]


def _four(counts: list[int]) -> tuple[int, int, int, int]:
    """assigned, closed, closed on time, overdue."""
    return counts[0], counts[1], counts[2], counts[3]


def _obligations(s: Session, policy_id: str, end: datetime) -> list[Any]:
    """Every obligation started before ``end`` with the timestamps its status is built from."""
    submitted = (select(Evidence.instance_id, func.max(Evidence.submitted_at).label("t"))
                 .join(WorkItem, WorkItem.id == Evidence.work_item_id)
                 .where(WorkItem.role == ItemRole.LEAD, Evidence.submitted_at < end)
                 .group_by(Evidence.instance_id).subquery())
    reviewed = (select(Review.instance_id, func.max(Review.reviewed_at).label("t"))
                .where(Review.reviewed_at < end).group_by(Review.instance_id).subquery())
    extended = (select(ExtensionRequest.instance_id,
                       func.min(ExtensionRequest.old_due_date).label("old"))
                .where(ExtensionRequest.status == ExtensionStatus.APPROVED,
                       ExtensionRequest.decided_at >= end)
                .group_by(ExtensionRequest.instance_id).subquery())
    q = (select(Instance.id, Instance.lead_unit_id, Instance.due_date, Instance.closed_at,
                Instance.closed_on_time, PolicyTask.number, PolicyTask.title,
                submitted.c.t.label("submitted"), reviewed.c.t.label("reviewed"),
                extended.c.old.label("old_due"))
         .join(PolicyTask, PolicyTask.id == Instance.task_id)
         .outerjoin(submitted, submitted.c.instance_id == Instance.id)
         .outerjoin(reviewed, reviewed.c.instance_id == Instance.id)
         .outerjoin(extended, extended.c.instance_id == Instance.id)
         .where(PolicyTask.policy_id == policy_id, Instance.started_at < end)
         .order_by(PolicyTask.number, Instance.id))
    return list(s.execute(q))


def _status_as_of(row: Any, end: datetime) -> ItemStatus:
    """The lead's status at ``end``: closed, waiting for review, or the unit's move."""
    if row.closed_at is not None and row.closed_at < end:
        return ItemStatus.CLOSED
    if row.submitted is not None and (row.reviewed is None or row.submitted > row.reviewed):
        return ItemStatus.SUBMITTED
    return ItemStatus.OPEN


def _targets(s: Session, policy_id: str, period: Period) -> list[documents.TargetRow]:
    """Each target over the cycles of the period's year, as engine.attainment counts it."""
    tasks = s.scalars(select(PolicyTask).where(PolicyTask.policy_id == policy_id)
                      .order_by(PolicyTask.number))
    return [documents.TargetRow(f.task_number, f.label, f.goal, f.achieved, f.unit, f.due_date,
                                f.settled)
            for f in year_figures(s, tasks, period.end.year, period.end)]


def _send(s: Session, clock: Clock, doc: Document, office_unit_id: str) -> None:
    """Mail the bulletin to every unit's liaisons and the supervising office; notes per unit."""
    to = Recipients(s, doc.issued_on)
    t = doc.data["totals"]
    subject = f"【通报】{doc.issued_on.year}年第{doc.data['issue']}期 {doc.title}"
    text = (f"各有关单位：\n\n现将《{doc.title}》（{doc.number}）印发给你们，请查阅附件。截至"
            f"{documents.cn_date(date.fromisoformat(doc.data['as_of']))}，共交办任务"
            f"{t['assigned']}项，已办结{t['closed']}项，正在推进{t['in_progress']}项，"
            f"逾期未办结{t['overdue']}项。\n"
            f"{signature(unit_names(s, doc.issued_on), office_unit_id, doc.issued_on)}")
    # the PDF is already a Blob: reference it instead of sending its bytes once per unit
    attachment = [{"filename": pdf_name(DocumentKind.BULLETIN, doc.number),
                   "content_type": "application/pdf", "sha256": doc.pdf_sha256}]
    sent: set[str] = set()
    unit_ids = list(s.scalars(select(Unit.id).order_by(Unit.sort_order, Unit.id)))
    for unit_id in [*unit_ids, "office"]:
        addresses = to.office(office_unit_id) if unit_id == "office" else to.unit(unit_id)
        addresses = [a for a in addresses if a[1].lower() not in sent]
        key = f"bulletin:{doc.id}:{unit_id}"
        if unit_id != "office":
            add_note(s, clock.now(), key=key, unit_id=unit_id, kind="bulletin", title=subject,
                     body=text, link=f"/archive/{doc.id}.pdf")
        if not addresses:
            continue
        try:  # one unit's bad address must not stop the others' mail
            with s.begin_nested():
                enqueue(s, clock, dedupe_key=key, kind="bulletin", to=addresses,
                        subject=subject, text=text, related=("document", doc.id),
                        stored=attachment)
            sent.update(a[1].lower() for a in addresses)
        except ValidationError:
            log.exception("bulletin %s: mail to %s not queued", doc.number, unit_id)
