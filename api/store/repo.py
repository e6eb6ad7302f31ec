"""Repository functions: every query of the service, and nothing else. No commits here:
callers run them inside :func:`api.store.db.transaction`, one transaction per request."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, cast, func, select, update
from sqlalchemy.orm import Session

from api.store.models import (
    AuditRecord,
    CandidateRow,
    FollowUp,
    Meta,
    Placement,
    User,
    VacancyRow,
)

CANDIDATES_REVISION = "candidates_revision"
PSEUDONYM_KEY = "pseudonym_key"


def now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ meta
def meta_value(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return None if row is None else row.value


def pseudonym_key(session: Session) -> str:
    """The secret that keys pseudonyms; created once, on first use."""
    value = meta_value(session, PSEUDONYM_KEY)
    if value is None:
        value = secrets.token_hex(32)
        session.add(Meta(key=PSEUDONYM_KEY, value=value))
        session.flush()
    return value


def candidates_revision(session: Session) -> int:
    return int(meta_value(session, CANDIDATES_REVISION) or 0)


def bump_candidates_revision(session: Session) -> None:
    """Mark the candidate pool changed (in the writing transaction, so readers see both or none)."""
    done = session.execute(
        update(Meta)
        .where(Meta.key == CANDIDATES_REVISION)
        .values(value=cast(cast(Meta.value, Integer) + 1, String(256)))
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.add(Meta(key=CANDIDATES_REVISION, value="1"))
        session.flush()


# ----------------------------------------------------------------- users
def add_user(session: Session, user: User) -> User:
    session.add(user)
    session.flush()
    return user


def user_by_key_hash(session: Session, key_hash: str) -> User | None:
    return session.scalars(
        select(User).where(User.key_hash == key_hash, User.active.is_(True))
    ).first()


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.created_at)).all()


# ------------------------------------------------------------- vacancies
def get_vacancy(session: Session, vacancy_id: str) -> VacancyRow | None:
    return session.get(VacancyRow, vacancy_id)


def add_vacancy(session: Session, row: VacancyRow) -> VacancyRow:
    session.add(row)
    session.flush()
    return row


def list_vacancies(
    session: Session,
    *,
    employer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> Sequence[VacancyRow]:
    query = select(VacancyRow).order_by(VacancyRow.id).limit(limit).offset(offset)
    if employer_id is not None:
        query = query.where(VacancyRow.employer_id == employer_id)
    if status is not None:
        query = query.where(VacancyRow.status == status)
    return session.scalars(query).all()


def open_vacancies(session: Session) -> Sequence[VacancyRow]:
    return session.scalars(
        select(VacancyRow).where(VacancyRow.status == "open").order_by(VacancyRow.id)
    ).all()


def vacancies_revision(session: Session) -> tuple[int, int]:
    """(count, sum of revisions) of open vacancies: changes whenever the open set changes."""
    count, total = session.execute(
        select(func.count(VacancyRow.id), func.coalesce(func.sum(VacancyRow.revision), 0)).where(
            VacancyRow.status == "open"
        )
    ).one()
    return int(count), int(total)


# ------------------------------------------------------------ candidates
def get_candidate(session: Session, candidate_id: str) -> CandidateRow | None:
    return session.get(CandidateRow, candidate_id)


def candidates_by_ids(session: Session, ids: Iterable[str]) -> dict[str, CandidateRow]:
    ids = list(ids)
    if not ids:
        return {}
    rows = session.scalars(select(CandidateRow).where(CandidateRow.id.in_(ids))).all()
    return {r.id: r for r in rows}


def add_candidates(session: Session, rows: Sequence[CandidateRow]) -> None:
    session.add_all(rows)
    session.flush()
    bump_candidates_revision(session)


def touch_candidates(session: Session) -> None:
    session.flush()
    bump_candidates_revision(session)


def list_candidates(session: Session, *, limit: int, offset: int) -> Sequence[CandidateRow]:
    return session.scalars(
        select(CandidateRow)
        .where(CandidateRow.erased.is_(False))
        .order_by(CandidateRow.id)
        .limit(limit)
        .offset(offset)
    ).all()


def active_candidates(session: Session) -> Sequence[Any]:
    """Every candidate the engine may rank, in one query (id, profile, consent, personal data)."""
    return session.execute(
        select(
            CandidateRow.id,
            CandidateRow.profile,
            CandidateRow.consent_to_share,
            CandidateRow.name,
            CandidateRow.phone,
            CandidateRow.email,
        )
        .where(CandidateRow.erased.is_(False))
        .order_by(CandidateRow.id)
    ).all()


# ------------------------------------------------------- placements, follow-ups
def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def get_placement(session: Session, placement_id: str) -> Placement | None:
    return session.get(Placement, placement_id)


def outcome_rows(session: Session) -> Sequence[Any]:
    """Placements joined with their follow-ups (a placement without one appears once)."""
    return session.execute(
        select(Placement, FollowUp)
        .outerjoin(FollowUp, FollowUp.placement_id == Placement.id)
        .order_by(Placement.created_at, Placement.id, FollowUp.visit_date, FollowUp.id)
    ).all()


# ------------------------------------------------------------------ audit
def add_audit(session: Session, record: AuditRecord) -> None:
    session.add(record)
    session.flush()


def list_audit(
    session: Session,
    *,
    limit: int,
    offset: int,
    vacancy_id: str | None = None,
    candidate_id: str | None = None,
) -> Sequence[AuditRecord]:
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit).offset(offset)
    if vacancy_id is not None:
        query = query.where(AuditRecord.vacancy_id == vacancy_id)
    if candidate_id is not None:
        query = query.where(AuditRecord.candidate_id == candidate_id)
    return session.scalars(query).all()


def ping(session: Session) -> None:
    session.execute(select(1))
