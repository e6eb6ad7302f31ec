"""Tables. Personal data lives in its own columns of ``candidates`` so erasure can clear it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AuditRecord",
    "Base",
    "CandidateRow",
    "FollowUp",
    "Meta",
    "Placement",
    "User",
    "VacancyRow",
]


class UTCDateTime(TypeDecorator):
    """A timestamp that comes back timezone-aware (UTC) on every database, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC timestamps")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime}


class Meta(Base):
    """Key/value state of the store: the pseudonym key, the candidate revision counter."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    employer_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VacancyRow(Base):
    __tablename__ = "vacancies"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    employer_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    record: Mapped[dict] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CandidateRow(Base):
    __tablename__ = "candidates"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The profile the engine scores (skills, titles, region, ...), without personal data.
    profile: Mapped[dict] = mapped_column(JSON)
    # ESCO concepts of the skills, normalised when written: [{text, uri, label_es, ...}].
    skills_normalised: Mapped[list] = mapped_column(JSON)
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    # Personal data: cleared by erasure.
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Audit-only (fairness audit): cleared by erasure.
    gender: Mapped[str | None] = mapped_column(String(20), nullable=True)
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    erased: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The candidate revision (meta counter) of the write that last touched the row.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Placement(Base):
    __tablename__ = "placements"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), index=True)
    vacancy_id: Mapped[str] = mapped_column(ForeignKey("vacancies.id"), index=True)
    employer_id: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    monthly_wage_pen: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowUp(Base):
    __tablename__ = "followups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    placement_id: Mapped[str] = mapped_column(ForeignKey("placements.id"), index=True)
    visit_date: Mapped[date] = mapped_column(Date)
    still_employed: Mapped[bool] = mapped_column(Boolean)
    monthly_wage_pen: Mapped[float | None] = mapped_column(Float, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    economic_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    social_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    psychosocial_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRecord(Base):
    """One automated ranking: who asked, when, about what, with which model, and what came back."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[str] = mapped_column(String(36))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    vacancy_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    candidate_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    model_version: Mapped[str] = mapped_column(String(100))
    taxonomy_version: Mapped[str] = mapped_column(String(100))
    top_k: Mapped[int | None] = mapped_column(Integer, nullable=True)
    results: Mapped[list] = mapped_column(JSON)
