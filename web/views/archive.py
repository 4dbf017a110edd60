"""The archive of supervision notices (督办通知) and bulletins (通报), with PDF downloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import login_required
from sqlalchemy import Select, or_, select
from werkzeug.wrappers import Response

from engine import access
from engine.models import Blob, Policy
from engine.units import unit_names
from notifications.models import Document
from web.params import iso_date
from web.views.common import actor, db, today_date
from web.views.files import send_bytes

bp = Blueprint("archive", __name__, url_prefix="/archive")
KINDS = {"notice": "督办通知", "principal": "二次督办通知", "bulletin": "通报",
         "assessment": "考核结果通报"}
LIMIT = 500


def _visible() -> Select[Document]:
    """Documents the user may read: all for supervisors and admins; own and general for liaisons."""
    q = select(Document)
    unit = access.readable_addressee(actor())
    if unit is not None:
        q = q.where(or_(Document.unit_id == unit, Document.unit_id.is_(None)))
    return q


@dataclass(frozen=True)
class ArchiveFilters:
    """Kind, policy, unit and a date range of issue, read from the query string."""

    kind: str | None
    policy: str | None
    unit: str | None
    since: date | None
    until: date | None

    @classmethod
    def from_args(cls) -> ArchiveFilters:
        kind = request.args.get("kind") or None
        return cls(kind=kind if kind in KINDS else None,
                   policy=request.args.get("policy") or None,
                   unit=request.args.get("unit") or None,
                   since=iso_date(request.args.get("since")),
                   until=iso_date(request.args.get("until")))

    def apply(self, q: Select[Document]) -> Select[Document]:
        if self.kind:
            q = q.where(Document.kind == self.kind)
        if self.policy:
            q = q.where(Document.policy_id == self.policy)
        if self.unit:  # notices addressed to the unit (bulletins name every unit)
            q = q.where(Document.unit_id == self.unit)
        if self.since:
            q = q.where(Document.issued_on >= self.since)
        if self.until:
            q = q.where(Document.issued_on <= self.until)
        return q


@bp.route("/")
@login_required
def index() -> str:
    """Notices and bulletins, newest first, filtered by kind, policy, unit and date."""
    s, f = db(), ArchiveFilters.from_args()
    docs = list(s.scalars(f.apply(_visible()).order_by(Document.issued_on.desc(),
                                                        Document.id.desc()).limit(LIMIT)))
    policies = {p.id: p.title for p in s.scalars(select(Policy).order_by(Policy.issued_on))}
    return render_template("archive/index.html", docs=docs, kind=f.kind or "", f=f,
                           kinds=KINDS, policies=policies,
                           units=unit_names(s, today_date()), title="通知与通报")


@bp.route("/<int:doc_id>.pdf")
@login_required
def pdf(doc_id: int) -> Response:
    """A document's PDF as a download."""
    doc = db().scalar(_visible().where(Document.id == doc_id))
    if doc is None:
        abort(404)
    blob = db().get(Blob, doc.pdf_sha256)
    if blob is None:
        abort(404)
    return send_bytes(blob.data, f"{doc.number} {doc.title}.pdf", "application/pdf")
