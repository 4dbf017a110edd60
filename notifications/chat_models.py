"""Group-chat robots (企业微信 / 钉钉) per unit, and the durable queue of their messages."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from engine.models import _enum


class ChatKind(enum.StrEnum):
    """The robot's kind decides the message format (and DingTalk's signature)."""

    WECOM = "wecom"        # 企业微信群机器人
    DINGTALK = "dingtalk"  # 钉钉自定义机器人

    @property
    def label(self) -> str:
        """The kind in Chinese."""
        return "企业微信群机器人" if self is ChatKind.WECOM else "钉钉自定义机器人"


class ChatStatus(enum.StrEnum):
    """pending -> sending (claimed under a lease) -> sent; or back to pending, finally failed."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class ChatHook(Base):
    """A unit's group-chat robot: its webhook address and, for DingTalk, the signing secret."""

    __tablename__ = "chat_hooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[ChatKind] = mapped_column(_enum(ChatKind))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatMessage(Base):
    """One message for one robot; the unique ``dedupe_key`` (note key @ hook) makes it once."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hook_id: Mapped[int] = mapped_column(ForeignKey("chat_hooks.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(250), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[ChatStatus] = mapped_column(_enum(ChatStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)    # business clock
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # wall clock
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
