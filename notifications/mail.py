"""The mail outbox: enqueue inside the caller's transaction, deliver later under a lease.

``enqueue`` adds an ``OutboxMessage`` in the caller's transaction (so a message exists if and only
if the action that caused it committed); its unique ``dedupe_key`` makes a repeat add nothing,
even when two processes enqueue the same key at once (``INSERT … ON CONFLICT DO NOTHING``).

``deliver`` claims due rows with one conditional ``UPDATE`` (status ``sending``, a random claim
token, ``claimed_until = now + lease``; on PostgreSQL the candidate rows are picked with
``FOR UPDATE SKIP LOCKED``), so two processes never claim the same row. Each message is then
sent outside any database transaction and the outcome recorded in its own short transaction:
``sent``, or back to ``pending`` with exponential backoff (1, 2, 4 … minutes, capped), or
``failed`` after ``RetryPolicy.max_attempts`` tries or a permanent (5xx) refusal. Each row is
handled in its own ``try``: one bad row does not block the rest.

Crash between send and record: if the process dies (or the database is unreachable) after the
SMTP server accepted a message but before ``sent`` is written, the row stays ``sending`` until
its lease expires; the next ``deliver`` after that claims it again and sends it once more.
Delivery is therefore at-least-once: a duplicate needs a crash in that window, happens at most
once per lease expiry, and the attempt count still bounds the total. Every copy carries the same
``Message-ID`` (derived from the dedupe key), so receivers and mail clients can drop the repeat.
See docs/mail.md.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.blobs import insert_ignoring, store_blob
from engine.clock import CHINA_TZ, Clock
from engine.db import transaction
from engine.errors import ValidationError
from engine.models import Blob
from notifications.models import OutboxMessage, OutboxStatus
from notifications.transport import KEY_HEADER, PermanentMailError, Transport

log = logging.getLogger(__name__)

Recipient = str | tuple[str, str]  # "addr", "名称 <addr>" or (名称, addr)
AttachmentIn = tuple[str, str, bytes]  # (filename, content type, content)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a claim lasts and how failures are retried."""

    max_attempts: int = 8
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=10)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: 1, 2, 4 … × first_delay, capped."""
        return min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)


def message_id_for(dedupe_key: str) -> str:
    """A stable Message-ID for a dedupe key, so every re-send is recognisable as the same mail."""
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]}@duban.outbox>"


def _address(value: Recipient) -> str:
    """Normalise one recipient to ``名称 <addr>`` (or ``addr``); raise on a malformed one."""
    name, addr = value if isinstance(value, tuple) else parseaddr(value)
    try:
        if "@" not in addr:
            raise ValueError(addr)
        return str(Address(display_name=name or "", addr_spec=addr))
    except (ValueError, IndexError) as exc:
        raise ValidationError(f"邮件地址无效：{value!r}") from exc


def enqueue(session: Session, clock: Clock, *, dedupe_key: str, kind: str,
            to: Sequence[Recipient], cc: Sequence[Recipient] = (), subject: str, text: str,
            html: str | None = None, attachments: Sequence[AttachmentIn] = (),
            stored: Sequence[Mapping[str, str]] = (),
            related: tuple[str, str | int] | None = None) -> OutboxMessage | None:
    """Queue one mail in the caller's transaction; ``None`` (adding nothing) if the key exists.

    ``attachments`` are new bytes (stored as blobs here); ``stored`` refers to blobs that are
    already there ({"filename", "content_type", "sha256"}), such as a document's PDF.
    """
    if not to:
        raise ValidationError(f"邮件没有收件人：{dedupe_key}")
    files = [{"filename": name, "content_type": ctype, "sha256": store_blob(session, data)}
             for name, ctype, data in attachments]
    files += [{"filename": f["filename"], "content_type": f["content_type"],
               "sha256": f["sha256"]} for f in stored]
    now = clock.now()
    values = dict(
        dedupe_key=dedupe_key, kind=kind, recipients=[_address(r) for r in to],
        cc=[_address(r) for r in cc], subject=subject, body_text=text, body_html=html,
        attachments=files, status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
        created_at=now, message_id=message_id_for(dedupe_key),
        related_type=related[0] if related else None,
        related_id=str(related[1]) if related else None)
    stmt = insert_ignoring(session, OutboxMessage, "dedupe_key").values(**values)
    stmt = stmt.returning(OutboxMessage.id)
    new_id = session.execute(stmt).scalar_one_or_none()
    return None if new_id is None else session.get(OutboxMessage, new_id)


def build_message(msg: OutboxMessage, blobs: Mapping[str, bytes], sender: str) -> EmailMessage:
    """The MIME message: text + HTML alternative, attachments with RFC 2231 file names."""
    email = EmailMessage()
    email["Subject"] = msg.subject
    email["From"] = sender
    email["To"] = ", ".join(msg.recipients)
    if msg.cc:
        email["Cc"] = ", ".join(msg.cc)
    email["Date"] = format_datetime(msg.created_at.astimezone(CHINA_TZ))
    email["Message-ID"] = msg.message_id
    email[KEY_HEADER] = msg.dedupe_key
    email.set_content(msg.body_text, cte="base64")
    if msg.body_html:
        email.add_alternative(msg.body_html, subtype="html", cte="base64")
    for item in msg.attachments:
        data = blobs.get(item["sha256"])
        if data is None:
            raise PermanentMailError(f"附件内容缺失：{item['filename']}（{item['sha256']}）")
        maintype, _, subtype = item["content_type"].partition("/")
        email.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                             filename=item["filename"])
    return email


def deliver(sessions: sessionmaker[Session], clock: Clock, transport: Transport, *,
            batch: int = 50, policy: RetryPolicy | None = None) -> int:
    """Send every message due now, ``batch`` claimed at a time; return how many were sent."""
    policy = policy or RetryPolicy()
    started = clock.now()
    sent = 0
    while claimed := _claim(sessions, clock, started, batch, policy.lease):
        token, ids = claimed
        for msg_id in ids:
            try:
                sent += _deliver_one(sessions, clock, transport, msg_id, token, policy)
            except Exception:  # one broken row must not block the rest; the lease frees it
                log.exception("outbox message %s: delivery step failed", msg_id)
    return sent


def _due(started: datetime) -> Any:
    """Pending and due at the start of this run, or claimed under a lease that has expired."""
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING,
             OutboxMessage.next_attempt_at <= started),
        and_(OutboxMessage.status == OutboxStatus.SENDING,
             OutboxMessage.claimed_until < started))


def _claim(sessions: sessionmaker[Session], clock: Clock, started: datetime, batch: int,
           lease: timedelta) -> tuple[str, list[int]] | None:
    """Atomically mark up to ``batch`` due rows as ours; ``None`` when nothing is due.

    PostgreSQL: lock the candidates with ``FOR UPDATE SKIP LOCKED`` first, then update them (a
    locking sub-select inside the UPDATE may be re-run by the planner and overshoot the limit).
    SQLite: one UPDATE, which takes the write lock before it reads, so claims are serialised.
    """
    token = secrets.token_hex(16)
    pick = (select(OutboxMessage.id).where(_due(started))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(batch))
    with transaction(sessions) as s:
        if s.get_bind().dialect.name == "postgresql":
            chosen: Any = list(s.scalars(pick.with_for_update(skip_locked=True)))
        else:
            chosen = pick.scalar_subquery()
        stmt = (update(OutboxMessage)
                .where(OutboxMessage.id.in_(chosen), _due(started))
                .values(status=OutboxStatus.SENDING, claim_token=token,
                        claimed_until=clock.now() + lease)
                .returning(OutboxMessage.id))
        ids = sorted(s.scalars(stmt).all())
    return (token, ids) if ids else None


def _deliver_one(sessions: sessionmaker[Session], clock: Clock, transport: Transport,
                 msg_id: int, token: str, policy: RetryPolicy) -> int:
    """Build, send and record one claimed message; 1 if it was sent."""
    loaded = _load_claimed(sessions, clock, msg_id, token)
    if loaded is None:
        return 0
    msg, blobs = loaded
    try:
        transport.send(build_message(msg, blobs, transport.sender))
    except Exception as exc:
        _record_failure(sessions, clock, msg_id, token, msg.attempts, exc, policy)
        return 0
    _record_sent(sessions, clock, msg_id, msg.attempts)
    return 1


def _load_claimed(sessions: sessionmaker[Session], clock: Clock, msg_id: int,
                  token: str) -> tuple[OutboxMessage, dict[str, bytes]] | None:
    """The row and its attachment contents, if our claim on it still holds."""
    with sessions() as s:
        msg = s.get(OutboxMessage, msg_id)
        if msg is None or msg.claim_token != token or msg.claimed_until is None:
            return None  # someone else owns it now
        if clock.now() >= msg.claimed_until:
            return None  # the lease lapsed while earlier rows were sent: leave it to the next run
        return msg, _blobs(s, msg)


def _blobs(session: Session, msg: OutboxMessage) -> dict[str, bytes]:
    """The attachment contents of ``msg`` by sha256."""
    wanted = {a["sha256"] for a in msg.attachments}
    if not wanted:
        return {}
    return {b.sha256: b.data for b in session.scalars(select(Blob).where(Blob.sha256.in_(wanted)))}


def _record_sent(sessions: sessionmaker[Session], clock: Clock, msg_id: int, attempts: int) -> None:
    """Mark sent (whoever holds the claim now: the mail did leave)."""
    with transaction(sessions) as s:
        s.execute(update(OutboxMessage)
                  .where(OutboxMessage.id == msg_id, OutboxMessage.status != OutboxStatus.SENT)
                  .values(status=OutboxStatus.SENT, sent_at=clock.now(), attempts=attempts + 1,
                          claimed_until=None, claim_token=None))


def _record_failure(sessions: sessionmaker[Session], clock: Clock, msg_id: int, token: str,
                    attempts: int, exc: Exception, policy: RetryPolicy) -> None:
    """Back to pending with backoff, or failed for good; only while the claim is still ours."""
    attempts += 1
    final = isinstance(exc, PermanentMailError) or attempts >= policy.max_attempts
    now = clock.now()
    log.warning("outbox message %s: attempt %d failed: %s", msg_id, attempts, exc)
    with transaction(sessions) as s:
        s.execute(update(OutboxMessage)
                  .where(OutboxMessage.id == msg_id, OutboxMessage.claim_token == token)
                  .values(status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
                          attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:2000],
                          next_attempt_at=now + policy.delay(attempts),
                          claimed_until=None, claim_token=None))


def requeue(session: Session, clock: Clock, msg_id: int) -> bool:
    """Give a failed message a fresh set of attempts (the admin's 重新发送); False if not failed."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=clock.now()))
    return bool(getattr(result, "rowcount", 0))


def outbox_counts(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    rows = session.execute(query)
    return {str(status): count for status, count in rows}
