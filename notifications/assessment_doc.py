"""Publishing a 考核 year: the numbered 考核结果通报 (PDF like the other documents), its place
in the archive, its mail to every unit and the office."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor
from engine.clock import Clock, today
from engine.models import Policy, Unit, UnitKind
from engine.text import quoted
from engine.units import short_names, unit_names
from notifications import documents, map_svg
from notifications.assessment import Result
from notifications.assessment_store import freeze
from notifications.mail import enqueue
from notifications.models import Document, DocumentKind
from notifications.notes import add_note, signature
from notifications.notices import Draft, issue_document
from notifications.recipients import Recipients

TITLE = "关于{year}年度任务落实情况考核结果的通报"


@dataclass(frozen=True)
class Row:
    """One unit in the results table."""

    rank_text: str
    unit: str
    score: float
    grade: str
    delta: str
    notes: str


@dataclass(frozen=True)
class AssessmentDoc:
    """What the 考核结果通报 shows."""

    number: str
    title: str
    year: int
    office: str
    policy_title: str
    base: float
    rows: Sequence[Row]
    by_grade: Sequence[tuple[str, list[str]]]
    not_assessed: Sequence[str]
    issued_on: date
    map_svg: Markup | None = None
    addressee: str = "各市人民政府，省直有关单位"
    contact: documents.Contact | None = None
    cc: Sequence[str] = ()


def _rows(result: Result, short: dict[str, str]) -> list[Row]:
    ranks = [u.rank for u in result.units]
    rows = []
    for u in result.units:
        tied = ranks.count(u.rank) > 1
        plus = sum(i["points"] for i in u.items if i["points"] > 0)
        minus = sum(i["points"] for i in u.items if i["points"] < 0)
        worst = sorted({i["label"] for i in u.items if i["points"] < 0})
        notes = (f"加{plus:g}分" if plus else "") + ("，" if plus and minus else "") + \
            (f"减{-minus:g}分（{'、'.join(worst)}）" if minus else "")
        rows.append(Row(f"{'并列' if tied else ''}{u.rank}", short.get(u.unit_id, u.unit), u.score,
                        u.grade, f"+{plus:g} / {minus:g}", notes))
    return rows


def city_scores(s: Session, result: Result) -> dict[str, float | None]:
    """City name on the map (短称 such as 合肥市) -> score."""
    cities = {u.id for u in s.scalars(select(Unit).where(Unit.kind == UnitKind.CITY))}
    short = short_names(s, result.as_of)
    scores = {u.unit_id: u.score for u in result.units}
    return {short.get(uid, uid): scores.get(uid) for uid in cities}


def render(s: Session, result: Result, number: str, day: date,
           title: str | None = None) -> AssessmentDoc:
    """The document for a year's result."""
    every = list(s.scalars(select(Policy).order_by(Policy.issued_on)))
    policy = s.get(Policy, result.policy) if result.policy else (
        every[0] if len(every) == 1 else None)
    office_id = policy.supervisor_unit_id if policy else s.scalars(
        select(Policy.supervisor_unit_id)).first()
    office = unit_names(s, day).get(office_id or "", "")
    short = short_names(s, result.as_of)
    grades: dict[str, list[str]] = {}
    for u in result.units:
        grades.setdefault(u.grade, []).append(short.get(u.unit_id, u.unit))
    drawing = map_svg.svg(city_scores(s, result), title=f"{result.year}年度各市考核得分",
                          unit="分")
    return AssessmentDoc(number=number, title=title or TITLE.format(year=result.year),
                         year=result.year, office=office,
                         policy_title=policy.title if policy else "、".join(p.title for p in every),
                         base=result.rules.base,
                         rows=_rows(result, short), by_grade=list(grades.items()),
                         not_assessed=result.not_assessed, issued_on=day,
                         map_svg=Markup(drawing) if drawing else None)


def pdf(doc: AssessmentDoc) -> bytes:
    """The 考核结果通报 as PDF bytes."""
    html = documents.render_html("assessment.html", doc, title=doc.title, signed_on=doc.issued_on,
                                 masthead=f"{doc.office}督查通报", annexes=[
                                     {"title": f"{doc.year}年度考核得分和名次"}] + (
                                     [{"title": f"{doc.year}年度各市考核得分分布"}]
                                     if doc.map_svg else []))
    return documents.render_pdf(html)


def publish(s: Session, clock: Clock, actor: Actor, year: int,
            policy_id: str | None) -> Document:
    """Freeze the year, issue its numbered 考核结果通报 and mail it (one transaction)."""
    row, result = freeze(s, clock, actor, year, policy_id)
    day = today(clock)
    policy = s.get(Policy, policy_id) if policy_id else s.scalars(select(Policy)).first()
    assert policy is not None

    def build(number: str, _issue: int) -> Draft:
        doc = render(s, result, number, day)
        return Draft(doc.title, pdf(doc), {"year": year, "units": len(result.units)})

    doc = issue_document(s, clock, kind=DocumentKind.ASSESSMENT, office=policy.data["doc_office"],
                         office_unit_id=policy.supervisor_unit_id, issued_on=day,
                         dedupe_key=f"assessment:{policy_id or '*'}:{year}", unit_id=None,
                         build=build, policy_id=policy_id)
    assert doc is not None  # freeze refused a second publication already
    row.document_id = doc.id
    _send(s, clock, doc, policy.supervisor_unit_id)
    return doc


def _send(s: Session, clock: Clock, doc: Document, office_unit_id: str) -> None:
    """The 通报 to every unit's liaisons and the office, with an in-app note per unit."""
    to = Recipients(s, doc.issued_on)
    subject = f"【考核结果通报】{doc.number} {doc.title}"
    text = (f"各有关单位：\n\n现将{quoted(doc.title)}（{doc.number}）印发给你们，请查阅附件。\n"
            f"{signature(unit_names(s, doc.issued_on), office_unit_id, doc.issued_on)}")
    stored = [{"filename": f"考核结果通报（{doc.number}）.pdf", "content_type": "application/pdf",
               "sha256": doc.pdf_sha256}]
    sent: set[str] = set()
    for unit_id in [*s.scalars(select(Unit.id).order_by(Unit.sort_order, Unit.id)), "office"]:
        addresses = to.office(office_unit_id) if unit_id == "office" else to.unit(unit_id)
        addresses = [a for a in addresses if a[1].lower() not in sent]
        key = f"assessment:{doc.id}:{unit_id}"
        if unit_id != "office":
            add_note(s, clock.now(), key=key, unit_id=unit_id, kind="assessment", title=subject,
                     body=text, link=f"/archive/{doc.id}.pdf")
        if addresses:
            with s.begin_nested():
                enqueue(s, clock, dedupe_key=key, kind="assessment", to=addresses,
                        subject=subject, text=text, related=("document", doc.id), stored=stored)
            sent.update(a[1].lower() for a in addresses)

