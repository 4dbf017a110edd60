"""The archive of supervision notices (督办通知) and bulletins (通报), with PDF downloads."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import login_required
from sqlalchemy import Select, or_, select
from werkzeug.wrappers import Response

from engine import access
from engine.models import Blob
from engine.units import unit_names
from notifications.models import Document
from web.views.common import actor, db, today_date
from web.views.files import send_bytes

bp = Blueprint("archive", __name__, url_prefix="/archive")
KINDS = {"notice": "督办通知", "bulletin": "通报"}
LIMIT = 500


def _visible() -> Select[Document]:
    """Documents the user may read: all for supervisors and admins; own and general for liaisons."""
    q = select(Document)
    unit = access.readable_addressee(actor())
    if unit is not None:
        q = q.where(or_(Document.unit_id == unit, Document.unit_id.is_(None)))
    return q


@bp.route("/")
@login_required
def index() -> str:
    """Notices and bulletins, newest first, optionally of one kind."""
    kind = request.args.get("kind", "")
    q = _visible()
    if kind in KINDS:
        q = q.where(Document.kind == kind)
    docs = list(db().scalars(q.order_by(Document.issued_on.desc(), Document.id.desc())
                             .limit(LIMIT)))
    return render_template("archive/index.html", docs=docs, kind=kind, kinds=KINDS,
                           units=unit_names(db(), today_date()), title="通知与通报")


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
