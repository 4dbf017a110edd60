"""The audit log: an append-only, hash-chained record of who did what to which object when.

Each row's ``hash`` is a SHA-256 over a canonical JSON of its content and the previous row's
hash, so editing, deleting, inserting or reordering rows breaks the chain and ``verify_chain``
names the first row where it breaks. Appending takes a database write lock before reading the
chain's head, so two concurrent writers cannot both chain onto the same row. The ORM refuses to
update or delete audit rows; raw SQL can, and that is what ``verify_chain`` is for.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from engine.clock import Clock
from engine.errors import StateError
from engine.models import AuditEvent

GENESIS_HASH = "0" * 64
# Key of the PostgreSQL transaction-level advisory lock that serialises appends ("dubanAUD").
PG_LOCK_KEY = 0x647562616E415544
VERIFY_BATCH = 1000


@dataclass(frozen=True)
class ChainReport:
    """The result of ``verify_chain``: ok, rows walked, and where the chain first breaks."""

    ok: bool
    count: int
    first_bad_id: int | None = None
    reason: str | None = None
    head_hash: str | None = None  # keep it elsewhere to detect the loss of the newest rows


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dates ISO, Decimal as text, enums by value, tuples as lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v) for v in value), key=_canonical)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"audit: cannot store a {type(value).__name__} value as JSON")


def _canonical(value: Any) -> str:
    """The one JSON spelling of ``value`` that hashes are computed over."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def _utc_iso(at: datetime) -> str:
    """``at`` in UTC with microseconds: the form that survives a database round trip."""
    if at.tzinfo is None:
        raise ValueError("audit: the time of an event must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def chain_hash(prev_hash: str, at: datetime, actor: str, action: str, object_type: str,
               object_id: str, before: Any, after: Any) -> str:
    """The hash of one audit row given its predecessor's hash."""
    payload = {
        "prev_hash": prev_hash, "at": _utc_iso(at), "actor": actor, "action": action,
        "object_type": object_type, "object_id": object_id, "before": before, "after": after,
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    """Take the database's write lock for this transaction before the head is read."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    elif dialect == "sqlite" and session.info.get(_WROTE_IN) is not session.get_transaction():
        # An insert of no rows starts a write transaction: SQLite then lets no other writer in
        # until we commit, and in WAL mode it refuses if our snapshot is already stale. A
        # transaction that has already written holds that lock: no need to ask again.
        session.execute(text("INSERT INTO audit_events (id) SELECT NULL WHERE 0"))


_WROTE_IN = "duban_wrote_in"


@event.listens_for(Session, "after_flush")
def _remember_write(session: Session, _context: Any) -> None:
    """Note which transaction has written (SQLite then holds its write lock)."""
    session.info[_WROTE_IN] = session.get_transaction()


def _head_hash(session: Session) -> str:
    """The hash of the newest row, or the genesis hash for an empty log."""
    stmt = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    if session.get_bind().dialect.name not in ("postgresql", "sqlite"):
        stmt = stmt.with_for_update()
    return session.scalar(stmt) or GENESIS_HASH


def record(session: Session, clock: Clock, *, actor: str, action: str, object_type: str,
           object_id: str | int, before: Mapping[Any, Any] | None = None,
           after: Mapping[Any, Any] | None = None) -> AuditEvent:
    """Append one event to the log inside the caller's transaction (flushed, not committed)."""
    at = clock.now()
    before_json = None if before is None else to_jsonable(before)
    after_json = None if after is None else to_jsonable(after)
    _lock_chain(session)
    prev = _head_hash(session)
    row = AuditEvent(at=at, actor=actor, action=action, object_type=object_type,
                     object_id=str(object_id), before=before_json, after=after_json,
                     prev_hash=prev)
    row.hash = chain_hash(prev, at, actor, action, object_type, row.object_id,
                          before_json, after_json)
    session.add(row)
    session.flush()
    return row


def _check_row(row: Any, expected_prev: str, prev_id: int | None) -> str | None:
    """Why ``row`` breaks the chain, or None when it links and matches its hash."""
    if row.prev_hash != expected_prev:
        after = f"上一条（id={prev_id}）" if prev_id is not None else "链首"
        return (f"审计记录 id={row.id} 的前序哈希与{after}不符："
                "其间有记录被删除、插入或调换了顺序")
    actual = chain_hash(row.prev_hash, row.at, row.actor, row.action, row.object_type,
                        row.object_id, row.before, row.after)
    if actual != row.hash:
        return f"审计记录 id={row.id} 的内容与其哈希不符：该记录被修改过"
    return None


def verify_chain(session: Session, *, batch_size: int = VERIFY_BATCH) -> ChainReport:
    """Walk the whole log in id order, in batches, and report the first broken link."""
    cols = (AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
            AuditEvent.object_type, AuditEvent.object_id, AuditEvent.before, AuditEvent.after,
            AuditEvent.prev_hash, AuditEvent.hash)
    expected, prev_id, count = GENESIS_HASH, None, 0
    bad_id: int | None = None
    reason: str | None = None
    while True:
        stmt = select(*cols).order_by(AuditEvent.id).limit(batch_size)
        if prev_id is not None:
            stmt = stmt.where(AuditEvent.id > prev_id)
        rows = session.execute(stmt).all()
        for row in rows:
            count += 1
            if bad_id is None:
                reason = _check_row(row, expected, prev_id)
                bad_id = row.id if reason else None
            expected, prev_id = row.hash, row.id
        if len(rows) < batch_size:
            break
    head = None if count == 0 else expected
    return ChainReport(ok=bad_id is None, count=count, first_bad_id=bad_id, reason=reason,
                       head_hash=head)


def history(session: Session, object_type: str, object_id: str | int) -> list[AuditEvent]:
    """Every event about one object, oldest first."""
    stmt = (select(AuditEvent)
            .where(AuditEvent.object_type == object_type,
                   AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id))
    return list(session.scalars(stmt))


_REFUSED = "审计记录只能追加，不能修改或删除（audit events are append-only）"


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    """Refuse an ORM flush that would change an audit row."""
    raise StateError(f"{_REFUSED}: id={target.id}")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    """Refuse an ORM flush that would delete an audit row."""
    raise StateError(f"{_REFUSED}: id={target.id}")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    """Refuse ORM-enabled ``update(AuditEvent)`` / ``delete(AuditEvent)`` statements."""
    if (state.is_update or state.is_delete) and any(
            m.class_ is AuditEvent for m in state.all_mappers):
        raise StateError(_REFUSED)
