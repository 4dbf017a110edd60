"""Uploads into the engine's attachment store and safe downloads (RFC 5987 names, nosniff)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Response
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from engine.errors import ValidationError
from engine.models import Attachment
from web.views.common import clock, runtime

if TYPE_CHECKING:
    from engine.service import Actor


def store_files(s: Session, who: Actor, files: Sequence[FileStorage]) -> list[int]:
    """Store each upload through the engine (which checks size and type); their ids."""
    from engine.attachments import store_upload

    config = runtime().config
    if who.unit_id is None:
        raise ValidationError("只有单位联络员可以上传附件")
    ids = []
    for f in files:
        data = f.stream.read(config.upload_max_bytes + 1)
        att = store_upload(s, clock(), config.blob_dir, filename=f.filename or "附件",
                           data=data, declared_type=f.mimetype, unit_id=who.unit_id,
                           max_bytes=config.upload_max_bytes)
        ids.append(att.id)
    return ids


def ascii_fallback(name: str) -> str:
    """An ASCII-only file name for old clients (non-ASCII letters become underscores)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("._") or "file"
    suffix = Path(name).suffix
    if suffix.isascii() and re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix or "") and \
            not folded.endswith(suffix):
        folded += suffix
    return folded[:150]


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII name and the UTF-8 name (RFC 5987 ``filename*``)."""
    clean = re.sub(r"[\x00-\x1f\x7f\"\\/]+", "_", name).strip() or "file"
    return (f'attachment; filename="{ascii_fallback(clean)}"; '
            f"filename*=UTF-8''{quote(clean, safe='')}")


def send_bytes(data: bytes, name: str, content_type: str) -> Response:
    """Bytes as a download."""
    response = Response(data, mimetype=content_type)
    _harden(response, name)
    return response


def attachment_response(att: Attachment) -> Response:
    """The stored file of an attachment (checked against its hash) as a download."""
    from engine.attachments import open_attachment

    data = open_attachment(runtime().config.blob_dir, att)
    return send_bytes(data, att.filename, _served_type(att.content_type))


def _served_type(content_type: str) -> str:
    """Never serve a type a browser would render as a page from our origin."""
    lowered = content_type.lower()
    if "html" in lowered or "xml" in lowered or "javascript" in lowered or "svg" in lowered:
        return "application/octet-stream"
    return content_type


def _harden(response: Response, name: str) -> None:
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
