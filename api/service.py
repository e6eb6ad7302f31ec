"""Use cases: who may do what, domain checks, and the engine over the store.

Routers call one method each; every write is one transaction. The candidate pool the
engine ranks is read in one query and kept in memory; a candidate write bumps the store's
revision counter and stamps its rows, so every server process reads only what changed and
rescores only those candidates (:mod:`api.pool`).

A shortlist is rendered once (JSON bytes) per vacancy revision, candidate revision, ``top_k``,
language and view (staff, or the vacancy's employer). Serving a rendered one is a single
write transaction: one query reads both revisions, one INSERT writes the audit record.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth import ROLES, Principal, hash_key, new_key, require_role
from api.exceptions import Conflict, NotFound, Unauthenticated, Unavailable
from api.pool import CandidatePool, VacancyScores, candidate_from_profile, rank_pool, update_scores
from api.schemas import ShortlistOut
from api.settings import Settings
from api.store import repo
from api.store.db import nowait_writer, session_factory, transaction, writer_lock
from api.store.models import CandidateRow, FollowUp, Placement, User, VacancyRow
from matcher.engine import MatchEngine
from matcher.exceptions import ConfigError, FieldProblem, ValidationError
from matcher.profiles import (
    OUTCOME_COLUMNS,
    Candidate,
    Vacancy,
    parse_candidates,
    parse_vacancies,
)

if TYPE_CHECKING:
    from matcher.normalise import Kind, Lang

__all__ = ["Service"]

log = logging.getLogger("api.service")

AUTH_CACHE_SECONDS = 5.0
#: Vacancies whose scores over the whole pool are kept, to rescore only what changes.
SCORED_VACANCIES = 64
PERSONAL = ("name", "phone", "email", "gender", "birth_year")
EXPORT_COLUMNS = list(OUTCOME_COLUMNS)


@dataclass(frozen=True)
class _Rendered:
    """A shortlist as served: the response body, and the results its audit record names."""

    body: bytes
    results: list[dict[str, Any]]


def _profile_of(candidate: Candidate) -> dict[str, Any]:
    data = asdict(candidate)
    for key in ("id", *PERSONAL):
        data.pop(key)
    return data


class Service:
    """The service's operations over one matching engine and one database."""

    def __init__(self, settings: Settings, engine: MatchEngine, db: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.db = db
        self._read = session_factory(db)
        self._write = session_factory(db, write=True)
        self._write_bind = db.execution_options(write=True)
        self._write_lock = writer_lock(db)
        self._nowait_bind = nowait_writer(db)
        self._engine_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._pool: CandidatePool | None = None
        self._scores: OrderedDict[tuple[str, int], VacancyScores] = OrderedDict()
        self._vacancy_pool: tuple[tuple[int, int], list[Vacancy]] | None = None
        self._results: OrderedDict[tuple, list] = OrderedDict()
        self._rendered_lock = threading.Lock()
        self._rendered: OrderedDict[tuple, _Rendered] = OrderedDict()
        self._principals: dict[str, tuple[float, Principal]] = {}
        with self.writing() as session:
            self._pseudonym_key = repo.pseudonym_key(session).encode("ascii")

    # ------------------------------------------------------------- plumbing
    @contextmanager
    def reading(self) -> Iterator[Session]:
        with transaction(self._read) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        try:
            with self._write_lock, transaction(self._write) as session:
                yield session
        except IntegrityError:
            raise Conflict(
                "the write clashes with a stored record (an id already in use?)"
            ) from None

    @contextmanager
    def _writing_rows(self) -> Iterator[Connection]:
        """A write transaction on a bare connection: no ORM session, for the hot paths."""
        with self._write_lock, self._write_bind.begin() as conn:
            yield conn

    def pseudonym(self, candidate_id: str) -> str:
        """A stable pseudonym: keyed hash of the id, the same in every response."""
        digest = hmac.new(self._pseudonym_key, candidate_id.encode("utf-8"), hashlib.sha256)
        return "P-" + digest.hexdigest()[:10].upper()

    def ready(self) -> None:
        try:
            with self.reading() as session:
                repo.ping(session)
        except SQLAlchemyError:
            raise Unavailable("the database does not answer") from None

    # ---------------------------------------------------------------- users
    def known_principal(self, key: str | None) -> Principal | None:
        """The caller of a key authenticated in the last AUTH_CACHE_SECONDS, else None (no I/O)."""
        if not key:
            return None
        hit = self._principals.get(hash_key(key))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def authenticate(self, key: str | None) -> Principal:
        if not key:
            raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._principals.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.reading() as session:
            user = repo.user_by_key_hash(session, digest)
            if user is None:
                raise Unauthenticated("the API key is not valid or has been revoked")
            principal = Principal(user.id, user.name, user.role, user.employer_id)
        # A revoked key stops working within AUTH_CACHE_SECONDS.
        if len(self._principals) > 10_000:
            self._principals.clear()
        self._principals[digest] = (now + AUTH_CACHE_SECONDS, principal)
        return principal

    def create_user(self, *, name: str, role: str, employer_id: str | None) -> tuple[str, str]:
        """Create a user; returns (user id, API key). The key is not stored and not shown again."""
        problems = []
        if role not in ROLES:
            problems.append(FieldProblem("user", "role", f"expected one of {ROLES}, got {role!r}"))
        if role == "employer" and not employer_id:
            problems.append(FieldProblem("user", "employer_id", "is required for role employer"))
        if role != "employer" and employer_id:
            problems.append(FieldProblem("user", "employer_id", "only employers have one"))
        if not name.strip():
            problems.append(FieldProblem("user", "name", "is required and empty"))
        if problems:
            raise ValidationError(problems, source="user")
        key = new_key()
        user = User(
            id=str(uuid.uuid4()),
            name=name.strip(),
            role=role,
            employer_id=employer_id,
            key_hash=hash_key(key),
            key_prefix=key[:8],
            active=True,
            created_at=repo.now(),
        )
        with self.writing() as session:
            repo.add_user(session, user)
        return user.id, key

    # ------------------------------------------------------------ vacancies
    def _check_vacancy(self, record: dict[str, Any]) -> Vacancy:
        vacancy = parse_vacancies([record], source="vacancy")[0]
        wage = vacancy.monthly_wage_pen
        floor = self.settings.minimum_wage_pen
        if wage is None or wage < floor:
            raise ValidationError(
                [
                    FieldProblem(
                        vacancy.id,
                        "monthly_wage_pen",
                        f"must be at least the legal minimum monthly wage S/ {floor:,.2f}, "
                        f"got {wage!r}",
                    )
                ],
                source="vacancy",
            )
        return vacancy

    def _visible_vacancy(self, session: Session, user: Principal, vacancy_id: str) -> VacancyRow:
        row = repo.get_vacancy(session, vacancy_id)
        # Another employer's vacancy is reported as absent: its existence is not disclosed.
        if row is None or (user.role == "employer" and row.employer_id != user.employer_id):
            raise NotFound("vacancy", vacancy_id)
        return row

    def _own_employer(self, user: Principal, employer_id: str) -> None:
        require_role(user, "admin", "caseworker", "employer")
        if user.role == "employer" and employer_id != user.employer_id:
            raise ValidationError(
                [
                    FieldProblem(
                        "vacancy",
                        "employer_id",
                        f"an employer key may only write vacancies of {user.employer_id!r}",
                    )
                ],
                source="vacancy",
            )

    @staticmethod
    def _vacancy_out(row: VacancyRow) -> dict[str, Any]:
        return {
            **row.record,
            "status": row.status,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    def create_vacancy(self, user: Principal, record: dict[str, Any]) -> dict[str, Any]:
        self._own_employer(user, record["employer_id"])
        vacancy = self._check_vacancy(record)
        now = repo.now()
        with self.writing() as session:
            if repo.get_vacancy(session, vacancy.id) is not None:
                raise Conflict(f"a vacancy with id {vacancy.id!r} already exists")
            row = repo.add_vacancy(
                session,
                VacancyRow(
                    id=vacancy.id,
                    employer_id=vacancy.employer_id,
                    status="open",
                    record=record,
                    revision=1,
                    created_at=now,
                    updated_at=now,
                ),
            )
            return self._vacancy_out(row)

    def list_vacancies(
        self, user: Principal, *, status: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        employer = user.employer_id if user.role == "employer" else None
        with self.reading() as session:
            rows = repo.list_vacancies(
                session, employer_id=employer, status=status, limit=limit, offset=offset
            )
            return [self._vacancy_out(r) for r in rows]

    def get_vacancy(self, user: Principal, vacancy_id: str) -> dict[str, Any]:
        with self.reading() as session:
            return self._vacancy_out(self._visible_vacancy(session, user, vacancy_id))

    def update_vacancy(
        self, user: Principal, vacancy_id: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        record = {"id": vacancy_id, **record}
        with self.writing() as session:
            row = self._visible_vacancy(session, user, vacancy_id)
            self._own_employer(user, record["employer_id"])
            vacancy = self._check_vacancy(record)
            if row.status == "closed":
                raise Conflict(f"vacancy {vacancy_id!r} is closed; closed vacancies are read-only")
            row.record = record
            row.employer_id = vacancy.employer_id
            row.revision += 1
            row.updated_at = repo.now()
            session.flush()
            return self._vacancy_out(row)

    def close_vacancy(self, user: Principal, vacancy_id: str) -> dict[str, Any]:
        with self.writing() as session:
            row = self._visible_vacancy(session, user, vacancy_id)
            if row.status != "closed":
                row.status = "closed"
                row.revision += 1
                row.updated_at = repo.now()
                session.flush()
            return self._vacancy_out(row)

    # ----------------------------------------------------------- candidates
    def _normalised(self, candidates: Sequence[Candidate]) -> list[list[dict[str, Any]]]:
        """Each candidate's skills as ESCO concepts, computed once when written."""
        texts = [s.text for c in candidates for s in c.skills]
        if not texts:
            return [[] for _ in candidates]
        with self._engine_lock:
            table = self.engine.normaliser.normalise(texts, kind="skill", top_k=1)
        table = table.drop_duplicates("mention")
        by_text = {
            r.mention: {
                "text": r.mention,
                "uri": r.uri,
                "label_es": r.label_es,
                "label_en": r.label_en,
                "score": float(r.score),
                "matched": bool(r.matched),
            }
            for r in table.itertuples()
        }
        return [[by_text[s.text] for s in c.skills if s.text in by_text] for c in candidates]

    def _candidate_out(self, row: CandidateRow) -> dict[str, Any]:
        profile = dict(row.profile)
        return {
            "id": row.id,
            **profile,
            "consent_to_share": row.consent_to_share,
            **{k: getattr(row, k) for k in PERSONAL},
            "pseudonym": self.pseudonym(row.id),
            "skills_normalised": row.skills_normalised,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    def _write_candidates(
        self, session: Session, candidates: Sequence[Candidate], *, replace: bool
    ) -> tuple[int, int]:
        normalised = self._normalised(candidates)
        existing = repo.candidates_by_ids(session, [c.id for c in candidates])
        now = repo.now()
        revision = repo.bump_candidates_revision(session)
        created = updated = 0
        new_rows = []
        for cand, concepts in zip(candidates, normalised):
            row = existing.get(cand.id)
            if row is not None and row.erased:
                raise Conflict(f"candidate {cand.id!r} was erased; its id cannot be reused")
            if row is not None and not replace:
                raise Conflict(f"a candidate with id {cand.id!r} already exists")
            if row is None:
                row = CandidateRow(id=cand.id, erased=False, created_at=now)
                new_rows.append(row)
                created += 1
            else:
                updated += 1
            row.profile = _profile_of(cand)
            row.skills_normalised = concepts
            row.consent_to_share = cand.consent_to_share
            for key in PERSONAL:
                setattr(row, key, getattr(cand, key))
            row.updated_at = now
            row.revision = revision
        repo.add_candidates(session, new_rows)
        return created, updated

    def create_candidate(self, user: Principal, record: dict[str, Any]) -> dict[str, Any]:
        require_role(user, "admin", "caseworker")
        cand = parse_candidates([record], source="candidate")[0]
        with self.writing() as session:
            self._write_candidates(session, [cand], replace=False)
            row = repo.get_candidate(session, cand.id)
            assert row is not None
            return self._candidate_out(row)

    def import_candidates(self, user: Principal, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Create or replace candidates by id, all in one transaction (idempotent on re-run)."""
        require_role(user, "admin", "caseworker")
        cands = parse_candidates(records, source="candidates")
        with self.writing() as session:
            created, updated = self._write_candidates(session, cands, replace=True)
        log.info("imported candidates: %d created, %d updated", created, updated)
        return {"created": created, "updated": updated, "ids": [c.id for c in cands]}

    def list_candidates(self, user: Principal, *, limit: int, offset: int) -> list[dict[str, Any]]:
        require_role(user, "admin", "caseworker")
        with self.reading() as session:
            return [
                self._candidate_out(r)
                for r in repo.list_candidates(session, limit=limit, offset=offset)
            ]

    def _live_candidate(self, session: Session, candidate_id: str) -> CandidateRow:
        row = repo.get_candidate(session, candidate_id)
        if row is None or row.erased:
            raise NotFound("candidate", candidate_id)
        return row

    def get_candidate(self, user: Principal, candidate_id: str) -> dict[str, Any]:
        require_role(user, "admin", "caseworker")
        with self.reading() as session:
            return self._candidate_out(self._live_candidate(session, candidate_id))

    def update_candidate(
        self, user: Principal, candidate_id: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        require_role(user, "admin", "caseworker")
        cand = parse_candidates([{"id": candidate_id, **record}], source="candidate")[0]
        with self.writing() as session:
            self._live_candidate(session, candidate_id)
            self._write_candidates(session, [cand], replace=True)
            return self._candidate_out(self._live_candidate(session, candidate_id))

    def erase_candidate(self, user: Principal, candidate_id: str) -> dict[str, Any]:
        """Remove the person's data; the id stays only in anonymised audit and outcome records."""
        require_role(user, "admin", "caseworker")
        with self.writing() as session:
            row = self._live_candidate(session, candidate_id)
            for key in PERSONAL:
                setattr(row, key, None)
            row.profile = {}
            row.skills_normalised = []
            row.consent_to_share = False
            row.erased = True
            row.erased_at = row.updated_at = repo.now()
            row.revision = repo.bump_candidates_revision(session)
            session.flush()
            log.info("erased candidate %s", candidate_id)
            return {"id": row.id, "erased": True, "erased_at": row.erased_at}

    # ------------------------------------------------------------- ranking
    def _candidate_pool(self, session: Session) -> CandidatePool:
        """The pool at the store's candidate revision: rows written since the pool in memory
        are read and applied; the first time (or after many changes) everything is read."""
        revision = repo.candidates_revision(session)  # read first: a racing write only re-loads
        with self._pool_lock:
            pool = self._pool
        if pool is not None and pool.revision >= revision:
            return pool  # (a racing request may have read a newer pool)
        rows = None
        if pool is not None and pool.revision < revision:
            rows = repo.candidates_written_since(session, pool.revision)
        if pool is None or rows is None or len(rows) > max(1000, len(pool.by_id) // 2):
            pool = CandidatePool.load(repo.active_candidates(session), revision)
        else:
            pool = pool.advance(rows, revision)
        with self._pool_lock:
            if self._pool is None or self._pool.revision <= pool.revision:
                self._pool = pool
        return pool

    def _open_vacancies(self, session: Session) -> list[Vacancy]:
        revision = repo.vacancies_revision(session)
        cached = self._vacancy_pool
        if cached is not None and cached[0] == revision:
            return cached[1]
        rows = repo.open_vacancies(session)
        vacancies = parse_vacancies([r.record for r in rows], source="stored vacancies")
        self._vacancy_pool = (revision, vacancies)
        return vacancies

    def _cached(self, key: tuple, compute) -> list:
        with self._engine_lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
                return hit
            # The engine's caches are not thread-safe: one ranking at a time per process.
            value = compute()
            if self.settings.shortlist_cache_size:
                self._results[key] = value
                while len(self._results) > self.settings.shortlist_cache_size:
                    self._results.popitem(last=False)
            return value

    def _rank_pool(
        self, vacancy: Vacancy, revision: int, pool: CandidatePool, *, top_k: int, lang: str
    ):
        """Rank the pool for a vacancy revision, rescoring only the candidates written since
        the vacancy's scores were last brought up to date (called under the engine lock)."""
        key = (vacancy.id, revision)
        scores = update_scores(self.engine, vacancy, pool, self._scores.get(key))
        self._scores[key] = scores
        self._scores.move_to_end(key)
        while len(self._scores) > SCORED_VACANCIES:
            self._scores.popitem(last=False)
        return rank_pool(self.engine, vacancy, pool, scores, top_k=top_k, lang=lang)

    def _check_top_k(self, top_k: int) -> None:
        if not 1 <= top_k <= self.settings.max_top_k:
            raise ConfigError(f"top_k must be between 1 and {self.settings.max_top_k}, got {top_k}")

    def _audit_values(
        self, user: Principal, action: str, results: list[dict[str, Any]], *, top_k: int, **about
    ) -> dict[str, Any]:
        return {
            "at": repo.now(),
            "user_id": user.id,
            "role": user.role,
            "action": action,
            "vacancy_id": about.get("vacancy_id"),
            "candidate_id": about.get("candidate_id"),
            "model_version": self.engine.model_version,
            "taxonomy_version": self.engine.taxonomy_version,
            "top_k": top_k,
            "results": results,
        }

    @staticmethod
    def _audit_results(ranked) -> list[dict[str, Any]]:
        return [
            {"id": rid, "rank": rank, "score": round(float(score), 6)}
            for rid, rank, score in ranked
        ]

    def _audit(self, user: Principal, action: str, ranked, *, top_k: int, **about: str) -> None:
        values = self._audit_values(user, action, self._audit_results(ranked), top_k=top_k, **about)
        with self._writing_rows() as conn:
            repo.add_audit(conn, values)

    def _rendered_get(self, key: tuple) -> _Rendered | None:
        with self._rendered_lock:
            hit = self._rendered.get(key)
            if hit is not None:
                self._rendered.move_to_end(key)
            return hit

    def _rendered_put(self, key: tuple, value: _Rendered) -> None:
        size = self.settings.shortlist_cache_size
        if not size:
            return
        with self._rendered_lock:
            self._rendered[key] = value
            while len(self._rendered) > 2 * size:  # two views per ranking
                self._rendered.popitem(last=False)

    async def shortlist(self, user: Principal, vacancy_id: str, *, top_k: int, lang: str) -> bytes:
        """Ranked candidates for a vacancy, as the JSON body of :class:`ShortlistOut`.

        Employers see pseudonyms unless the person consented. Every call writes one audit
        record, in the same transaction that reads the revisions the served ranking is of.
        A shortlist already rendered is served on the event loop when that cannot block (a
        SQLite file whose write lock is free); anything else runs on a worker thread.
        """
        require_role(user, "admin", "caseworker", "employer")
        self._check_top_k(top_k)
        view = "staff" if user.is_staff else "employer"
        body = self._serve_without_waiting(user, vacancy_id, top_k=top_k, lang=lang, view=view)
        if body is None:
            body = await run_in_threadpool(
                self._serve_shortlist, user, vacancy_id, top_k=top_k, lang=lang, view=view
            )
        return body

    def _serve_rendered(
        self,
        conn: Connection,
        user: Principal,
        vacancy_id: str,
        *,
        top_k: int,
        lang: str,
        view: str,
        fallback: _Rendered | None = None,
    ) -> bytes | None:
        """In a write transaction: audit and return the rendered shortlist of the stored
        revisions (else ``fallback``); None if there is none."""
        state = repo.shortlist_state(conn, vacancy_id)
        # Another employer's vacancy is reported as absent: its existence is not disclosed.
        if state is None or (user.role == "employer" and state.employer_id != user.employer_id):
            raise NotFound("vacancy", vacancy_id)
        key = (vacancy_id, state.revision, int(state.pool_revision or 0), top_k, lang, view)
        served = self._rendered_get(key) or fallback
        if served is None:
            return None
        values = self._audit_values(
            user, "shortlist", served.results, top_k=top_k, vacancy_id=vacancy_id
        )
        repo.add_audit(conn, values)
        return served.body

    def _serve_without_waiting(
        self, user: Principal, vacancy_id: str, *, top_k: int, lang: str, view: str
    ) -> bytes | None:
        """The rendered shortlist if serving it needs no wait for a lock; else None."""
        if self._nowait_bind is None or not self._write_lock.acquire(blocking=False):
            return None
        try:
            with self._nowait_bind.begin() as conn:
                return self._serve_rendered(
                    conn, user, vacancy_id, top_k=top_k, lang=lang, view=view
                )
        except OperationalError:  # another process holds SQLite's write lock
            return None
        finally:
            self._write_lock.release()

    def _serve_shortlist(
        self, user: Principal, vacancy_id: str, *, top_k: int, lang: str, view: str
    ) -> bytes:
        computed: _Rendered | None = None
        for attempt in range(3):
            with self._writing_rows() as conn:
                body = self._serve_rendered(
                    conn,
                    user,
                    vacancy_id,
                    top_k=top_k,
                    lang=lang,
                    view=view,
                    # Writes keep racing this request (or nothing is cached): serve the
                    # ranking just computed.
                    fallback=computed
                    if attempt == 2 or not self.settings.shortlist_cache_size
                    else None,
                )
                if body is not None:
                    return body
            computed = self._render_shortlist(user, vacancy_id, top_k=top_k, lang=lang, view=view)
        raise AssertionError("unreachable")  # pragma: no cover

    def _render_shortlist(
        self, user: Principal, vacancy_id: str, *, top_k: int, lang: str, view: str
    ) -> _Rendered:
        """Rank (or reuse the ranking), render the body once, and cache it by revision."""
        with self.reading() as session:
            row = self._visible_vacancy(session, user, vacancy_id)
            vacancy = parse_vacancies([row.record], source="stored vacancy")[0]
            pool = self._candidate_pool(session)
            revision = row.revision
        key = ("shortlist", vacancy_id, revision, pool.revision, top_k, lang)
        ranked = self._cached(
            key, lambda: self._rank_pool(vacancy, revision, pool, top_k=top_k, lang=lang)
        )
        items = []
        for m in ranked:
            consent, name, phone, email = pool.contact.get(
                m.candidate_id, (False, None, None, None)
            )
            show = view == "staff" or consent
            items.append(
                {
                    "rank": m.rank,
                    "score": m.score,
                    "pseudonym": self.pseudonym(m.candidate_id),
                    "candidate_id": m.candidate_id if show else None,
                    "name": name if show else None,
                    "phone": phone if show else None,
                    "email": email if show else None,
                    "consent_to_share": consent,
                    "skills": [s.text for s in pool.by_id[m.candidate_id].skills],
                    "matched": [asdict(s) for s in m.matched],
                    "missing": [asdict(g) for g in m.missing],
                    "explanation": m.explanation.get(lang, ""),
                }
            )
        body = ShortlistOut(
            vacancy_id=vacancy_id,
            lang=lang,
            model_version=self.engine.model_version,
            taxonomy_version=self.engine.taxonomy_version,
            candidates_considered=len(pool.by_id),
            items=items,  # type: ignore[arg-type]
        ).model_dump_json()
        rendered = _Rendered(
            body.encode("utf-8"),
            self._audit_results((m.candidate_id, m.rank, m.score) for m in ranked),
        )
        self._rendered_put((vacancy_id, revision, pool.revision, top_k, lang, view), rendered)
        return rendered

    def matches(
        self, user: Principal, candidate_id: str, *, top_k: int, lang: str
    ) -> dict[str, Any]:
        """Ranked open vacancies for a candidate (staff only)."""
        require_role(user, "admin", "caseworker")
        self._check_top_k(top_k)
        with self.reading() as session:
            row = self._live_candidate(session, candidate_id)
            candidate = candidate_from_profile(row.id, row.profile)
            vacancies = self._open_vacancies(session)
            revision = repo.vacancies_revision(session)
        key = ("matches", candidate_id, row.updated_at.isoformat(), revision, top_k)
        ranked = self._cached(
            key, lambda: self.engine.rank_vacancies(candidate, vacancies, top_k=top_k)
        )
        by_id = {v.id: v for v in vacancies}
        items = [
            {
                "rank": m.rank,
                "score": m.score,
                "vacancy_id": m.vacancy_id,
                "employer_id": by_id[m.vacancy_id].employer_id,
                "title": by_id[m.vacancy_id].title,
                "matched": [asdict(s) for s in m.matched],
                "missing": [asdict(g) for g in m.missing],
                "explanation": m.explanation.get(lang, ""),
            }
            for m in ranked
        ]
        self._audit(
            user,
            "matches",
            [(m.vacancy_id, m.rank, m.score) for m in ranked],
            top_k=top_k,
            candidate_id=candidate_id,
        )
        return {
            "candidate_id": candidate_id,
            "lang": lang,
            "model_version": self.engine.model_version,
            "taxonomy_version": self.engine.taxonomy_version,
            "items": items,
        }

    # --------------------------------------------------------------- skills
    def normalise_skills(
        self, user: Principal, mentions: list[str], *, kind: Kind, lang: Lang, top_k: int
    ) -> list[dict[str, Any]]:
        with self._engine_lock:
            table = self.engine.normaliser.normalise(mentions, kind=kind, lang=lang, top_k=top_k)
        return table.to_dict(orient="records")

    def extract_skills(
        self, user: Principal, texts: list[str], *, lang: Lang, top_k: int
    ) -> list[dict[str, Any]]:
        from matcher.extract import extract_frame

        with self._engine_lock:
            table = extract_frame(texts, self.engine.normaliser, lang=lang, top_k=top_k)
        return table.to_dict(orient="records")

    # ------------------------------------------------- placements, follow-ups
    def create_placement(self, user: Principal, record: dict[str, Any]) -> dict[str, Any]:
        require_role(user, "admin", "caseworker")
        with self.writing() as session:
            cand = repo.get_candidate(session, record["candidate_id"])
            if cand is None or cand.erased:
                raise NotFound("candidate", record["candidate_id"])
            vac = repo.get_vacancy(session, record["vacancy_id"])
            if vac is None:
                raise NotFound("vacancy", record["vacancy_id"])
            if record["monthly_wage_pen"] < self.settings.minimum_wage_pen:
                raise ValidationError(
                    [
                        FieldProblem(
                            "placement",
                            "monthly_wage_pen",
                            f"must be at least the legal minimum monthly wage "
                            f"S/ {self.settings.minimum_wage_pen:,.2f}, "
                            f"got {record['monthly_wage_pen']!r}",
                        )
                    ],
                    source="placement",
                )
            row = repo.add(
                session,
                Placement(
                    id=str(uuid.uuid4()),
                    employer_id=vac.employer_id,
                    created_by=user.id,
                    created_at=repo.now(),
                    **record,
                ),
            )
            return {
                **record,
                "id": row.id,
                "employer_id": row.employer_id,
                "created_at": row.created_at,
            }

    def add_followup(
        self, user: Principal, placement_id: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        require_role(user, "admin", "caseworker")
        with self.writing() as session:
            placement = repo.get_placement(session, placement_id)
            if placement is None:
                raise NotFound("placement", placement_id)
            if record["visit_date"] < placement.start_date:
                raise ValidationError(
                    [
                        FieldProblem(
                            placement_id,
                            "visit_date",
                            f"must not be before the placement's start {placement.start_date}",
                        )
                    ],
                    source="follow-up",
                )
            row = repo.add(
                session,
                FollowUp(
                    id=str(uuid.uuid4()),
                    placement_id=placement_id,
                    created_by=user.id,
                    created_at=repo.now(),
                    **record,
                ),
            )
            return {
                **record,
                "id": row.id,
                "placement_id": placement_id,
                "created_at": row.created_at,
            }

    def export_outcomes(self, user: Principal) -> str:
        """Placements and follow-ups as CSV for training: ids and outcomes, no personal data."""
        require_role(user, "admin", "caseworker")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        with self.reading() as session:
            for placement, follow in repo.outcome_rows(session):
                head = [
                    placement.id,
                    placement.candidate_id,
                    placement.vacancy_id,
                    placement.employer_id,
                    placement.start_date.isoformat(),
                    placement.monthly_wage_pen,
                ]
                if follow is None:
                    writer.writerow([*head, *[""] * 8])
                    continue
                writer.writerow(
                    [
                        *head,
                        follow.id,
                        follow.visit_date.isoformat(),
                        int(follow.still_employed),
                        *(
                            "" if v is None else v
                            for v in (
                                follow.monthly_wage_pen,
                                follow.satisfaction,
                                follow.economic_score,
                                follow.social_score,
                                follow.psychosocial_score,
                            )
                        ),
                    ]
                )
        return buffer.getvalue()

    # ---------------------------------------------------------------- audit
    def list_audit(
        self,
        user: Principal,
        *,
        limit: int,
        offset: int,
        vacancy_id: str | None,
        candidate_id: str | None,
    ) -> list[dict[str, Any]]:
        require_role(user, "admin")
        with self.reading() as session:
            rows = repo.list_audit(
                session,
                limit=limit,
                offset=offset,
                vacancy_id=vacancy_id,
                candidate_id=candidate_id,
            )
            return [
                {
                    "id": r.id,
                    "at": r.at,
                    "user_id": r.user_id,
                    "role": r.role,
                    "action": r.action,
                    "vacancy_id": r.vacancy_id,
                    "candidate_id": r.candidate_id,
                    "model_version": r.model_version,
                    "taxonomy_version": r.taxonomy_version,
                    "top_k": r.top_k,
                    "results": r.results,
                }
                for r in rows
            ]
