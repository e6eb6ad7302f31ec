"""Repository functions: every query of the service, and nothing else. No commits here:
callers run them inside :func:`api.store.db.transaction`, one transaction per request."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Row,
    String,
    bindparam,
    cast,
    func,
    insert,
    select,
    update,
)
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


def bump_candidates_revision(session: Session) -> int:
    """Mark the candidate pool changed; returns the new revision, to stamp the written rows.

    Called in the writing transaction before its rows are stamped: the counter row stays
    locked until commit, so revisions are committed in order and readers see both or none.
    """
    done = session.execute(
        update(Meta)
        .where(Meta.key == CANDIDATES_REVISION)
        .values(value=cast(cast(Meta.value, Integer) + 1, String(256)))
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.add(Meta(key=CANDIDATES_REVISION, value="1"))
        session.flush()
        return 1
    value = session.scalar(select(Meta.value).where(Meta.key == CANDIDATES_REVISION))
    return int(value or 0)


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


def list_candidates(session: Session, *, limit: int, offset: int) -> Sequence[CandidateRow]:
    return session.scalars(
        select(CandidateRow)
        .where(CandidateRow.erased.is_(False))
        .order_by(CandidateRow.id)
        .limit(limit)
        .offset(offset)
    ).all()


_POOL_COLUMNS = (
    CandidateRow.id,
    CandidateRow.profile,
    CandidateRow.consent_to_share,
    CandidateRow.name,
    CandidateRow.phone,
    CandidateRow.email,
    CandidateRow.erased,
    CandidateRow.revision,
)


def active_candidates(session: Session) -> Sequence[Any]:
    """Every candidate the engine may rank, in one query (id, profile, consent, personal data,
    erased, revision)."""
    return session.execute(
        select(*_POOL_COLUMNS).where(CandidateRow.erased.is_(False)).order_by(CandidateRow.id)
    ).all()


def candidates_written_since(session: Session, revision: int) -> Sequence[Any]:
    """The rows (columns as :func:`active_candidates`) written after ``revision``, erased
    ones included, in revision order."""
    return session.execute(
        select(*_POOL_COLUMNS)
        .where(CandidateRow.revision > revision)
        .order_by(CandidateRow.revision, CandidateRow.id)
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


# Built once: the per-request hot path (shortlist) skips the ORM and statement construction.
_SHORTLIST_STATE = select(
    VacancyRow.employer_id,
    VacancyRow.revision,
    select(Meta.value)
    .where(Meta.key == CANDIDATES_REVISION)
    .scalar_subquery()
    .label("pool_revision"),
).where(VacancyRow.id == bindparam("vacancy_id"))
_INSERT_AUDIT = insert(AuditRecord)


def shortlist_state(conn: Connection, vacancy_id: str) -> Row | None:
    """(employer_id, revision, pool_revision) of a vacancy in one query; None if it is absent.

    ``pool_revision`` is the candidate revision counter (None before the first candidate write).
    """
    return conn.execute(_SHORTLIST_STATE, {"vacancy_id": vacancy_id}).first()


# ------------------------------------------------------------------ audit
def add_audit(conn: Connection, values: dict[str, Any]) -> None:
    """One audit record (the columns of :class:`AuditRecord` but ``id``), one INSERT."""
    conn.execute(_INSERT_AUDIT, values)


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
