"""The mail outbox: enqueue inside the caller's transaction; ``notifications.delivery`` sends.

``enqueue`` adds an ``OutboxMessage`` in the caller's transaction (so a message exists if and only
if the action that caused it committed); its unique ``dedupe_key`` makes a repeat add nothing,
even when two processes enqueue the same key at once (``INSERT … ON CONFLICT DO NOTHING``).
``build_message`` turns a row into MIME; ``deliver`` (here for its callers, the work is in
``notifications.delivery``) claims due rows under an owned lease and sends them, at least once.
See docs/mail.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from html import escape
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.blobs import insert_ignoring, store_blob
from engine.clock import CHINA_TZ, Clock
from engine.errors import ValidationError
from notifications.models import OutboxMessage, OutboxStatus
from notifications.transport import KEY_HEADER, PermanentMailError, Transport

log = logging.getLogger(__name__)

Recipient = str | tuple[str, str]  # "addr", "名称 <addr>" or (名称, addr)
AttachmentIn = tuple[str, str, bytes]  # (filename, content type, content)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a claim lasts (wall clock) and how failures are retried (business clock)."""

    retry_for: timedelta = timedelta(days=30)  # from the first attempt; then failed
    max_attempts: int | None = None            # an extra bound (tests); None: the window only
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=10)

    @classmethod
    def from_days(cls, days: int) -> RetryPolicy:
        """The default policy retrying for ``days`` (``DUBAN_MAIL_RETRY_DAYS``)."""
        return cls(retry_for=timedelta(days=days))

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: 1, 2, 4 … × first_delay, capped."""
        return min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)

    def gives_up(self, attempts: int, first_attempt_at: datetime | None, now: datetime) -> bool:
        """Whether a failure after ``attempts`` tries is the last one."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        return first_attempt_at is not None and now >= first_attempt_at + self.retry_for


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


def build_message(msg: OutboxMessage, blobs: Mapping[str, bytes], sender: str,
                  note: str | None = None) -> EmailMessage:
    """The MIME message: text + HTML alternative, attachments with RFC 2231 file names.

    ``note`` (a delayed send) opens both bodies.
    """
    email = EmailMessage()
    email["Subject"] = msg.subject
    email["From"] = sender
    email["To"] = ", ".join(msg.recipients)
    if msg.cc:
        email["Cc"] = ", ".join(msg.cc)
    email["Date"] = format_datetime(msg.created_at.astimezone(CHINA_TZ))
    email["Message-ID"] = msg.message_id
    email[KEY_HEADER] = msg.dedupe_key
    email.set_content(f"{note}\n\n{msg.body_text}" if note else msg.body_text, cte="base64")
    if msg.body_html:
        html = f"<p><strong>{escape(note)}</strong></p>\n{msg.body_html}" if note else msg.body_html
        email.add_alternative(html, subtype="html", cte="base64")
    for item in msg.attachments:
        data = blobs.get(item["sha256"])
        if data is None:
            raise PermanentMailError(f"附件内容缺失：{item['filename']}（{item['sha256']}）")
        maintype, _, subtype = item["content_type"].partition("/")
        email.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                             filename=item["filename"])
    return email


def deliver(sessions: sessionmaker[Session], clock: Clock, transport: Transport,
            **options: Any) -> int:
    """Send every message due now; how many were sent (``notifications.delivery.deliver``)."""
    from notifications.delivery import deliver_report

    return deliver_report(sessions, clock, transport, **options).sent


def requeue(session: Session, clock: Clock, msg_id: int) -> bool:
    """Give a failed message a fresh set of attempts (the admin's 重新发送); False if not failed."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=clock.now(),
                first_attempt_at=None))
    return bool(getattr(result, "rowcount", 0))


def outbox_counts(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    rows = session.execute(query)
    return {str(status): count for status, count in rows}
