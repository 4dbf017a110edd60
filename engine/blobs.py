"""Binary content kept in the database (document PDFs, uploaded tables), once per content."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.models import Blob


def insert_ignoring(session: Session, entity: type[Any], *unique: str) -> Any:
    """The dialect's INSERT … ON CONFLICT (``unique``) DO NOTHING."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(entity).on_conflict_do_nothing(index_elements=list(unique))
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        return sqlite_insert(entity).on_conflict_do_nothing(index_elements=list(unique))
    raise ValidationError(f"不支持的数据库：{dialect}")


def store_blob(session: Session, data: bytes) -> str:
    """Keep ``data`` as a ``Blob`` row (once per content) and return its sha256."""
    digest = hashlib.sha256(data).hexdigest()
    session.execute(insert_ignoring(session, Blob, "sha256").values(sha256=digest, data=data))
    return digest


def read_blob(session: Session, digest: str) -> bytes | None:
    """The content of a blob, or None."""
    row = session.get(Blob, digest)
    return None if row is None else row.data
