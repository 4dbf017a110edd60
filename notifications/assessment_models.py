"""考核 tables: published years and manual items (notifications.assessment_store uses them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime

ALL = "*"  # the key of an assessment over every policy


class AssessmentYear(Base):
    """A published year: the rules it was scored with, the result, its 通报."""

    __tablename__ = "assessment_years"
    __table_args__ = (UniqueConstraint("policy_key", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_key: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(100))
    document_id: Mapped[int | None] = mapped_column(Integer)


class AssessmentItem(Base):
    """A manual item: a leader's evaluation, with its points and reason."""

    __tablename__ = "assessment_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_key: Mapped[str] = mapped_column(String(60), index=True)
    year: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    on: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
