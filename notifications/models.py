"""Notification tables: the mail outbox, numbered notices and bulletins, in-app notes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from engine.models import Role, _enum


class OutboxStatus(enum.StrEnum):
    """pending -> sending (claimed under a lease) -> sent; or back to pending, finally failed.

    skipped: not sent because it had become pointless (a reminder after its due date).
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class DocumentKind(enum.StrEnum):
    NOTICE = "notice"      # 督办通知
    PRINCIPAL = "principal"  # 二次督办通知, to the unit's principal (主要负责同志)
    BULLETIN = "bulletin"  # 通报
    ASSESSMENT = "assessment"  # 考核结果通报


class OutboxMessage(Base):
    """One mail to send; the unique ``dedupe_key`` makes enqueueing idempotent."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_related", "related_type", "related_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)  # "名称 <addr>" or "addr"
    cc: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # [{"filename", "content_type", "sha256"}], the content in engine.models.Blob
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # counted when claimed
    last_error: Mapped[str | None] = mapped_column(Text)
    # business clock (simulated days in a replay): backoff and the retry window
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # wall clock: the lease of the process that claimed it ("host:pid")
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)  # why skipped, or that it went out late
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[str] = mapped_column(String(250))
    related_type: Mapped[str | None] = mapped_column(String(40))
    related_id: Mapped[str | None] = mapped_column(String(60))


class Document(Base):
    """A numbered supervision notice or bulletin (皖经信督〔2018〕3号) with its PDF."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("kind", "office", "year", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind), index=True)
    policy_id: Mapped[str | None] = mapped_column(String(60), index=True)  # None: several
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    office: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """An in-app note for a user, a unit or a role; unread while ``read_at`` is empty."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
        Index("ix_notifications_unit_unread", "unit_id", "read_at", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    role: Mapped[Role | None] = mapped_column(_enum(Role))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


from notifications import assessment_models, chat_models  # noqa: E402,F401  (tables on Base)
