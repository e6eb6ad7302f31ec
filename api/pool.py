"""The candidate pool a server ranks, kept in memory and brought up to date incrementally.

Every candidate write stamps the rows it touches with the store's new candidate revision
(:func:`api.store.repo.bump_candidates_revision`). A pool at revision r catches up with the
store by reading only the rows stamped after r, and a vacancy's scores computed at r are
brought up to date by scoring only those candidates again. Scores do not depend on which
other candidates are in the batch, so the result equals ranking the whole pool afresh.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matcher.engine import MatchEngine
from matcher.profiles import Candidate, SkillMention, Vacancy
from matcher.ranking import RankedMatch

__all__ = ["CandidatePool", "VacancyScores", "rank_pool", "score_candidates"]

Contact = tuple[bool, str | None, str | None, str | None]


def candidate_from_profile(cid: str, profile: dict[str, Any]) -> Candidate:
    return Candidate(
        id=cid,
        skills=tuple(SkillMention(s["text"], s.get("years")) for s in profile.get("skills", ())),
        past_job_titles=tuple(profile.get("past_job_titles", ())),
        experience_years=float(profile.get("experience_years", 0.0)),
        region=profile.get("region", ""),
        willing_to_relocate=bool(profile.get("willing_to_relocate", False)),
        certifications=tuple(profile.get("certifications", ())),
        languages=tuple(profile.get("languages", ())),
        consent_to_share=bool(profile.get("consent_to_share", False)),
    )


@dataclass(frozen=True)
class CandidatePool:
    """Candidates the engine ranks, with what the shortlist shows beside them.

    ``stamps`` holds the revision each candidate written since ``base`` (the last full
    load) was written at, erased ones included, so :meth:`written_since` can say which
    candidates changed after any revision from ``base`` on.
    """

    revision: int
    base: int
    by_id: dict[str, Candidate]
    contact: dict[str, Contact]
    stamps: dict[str, int]

    @classmethod
    def load(cls, rows: Sequence[Any], revision: int) -> CandidatePool:
        """A pool of every active row (see :func:`api.store.repo.active_candidates`).

        ``revision`` is the counter read before the rows; a row stamped later (a write that
        committed in between) raises the pool's revision to its stamp, so that two pools of
        one revision never differ in who is in them but by a later erasure.
        """
        revision = max([revision, *(r.revision for r in rows)])
        return cls(
            revision=revision,
            base=revision,
            by_id={r.id: candidate_from_profile(r.id, r.profile) for r in rows},
            contact={r.id: (r.consent_to_share, r.name, r.phone, r.email) for r in rows},
            stamps={},
        )

    def advance(self, rows: Sequence[Any], revision: int) -> CandidatePool:
        """This pool with ``rows`` (written after :attr:`revision`, erased ones too) applied."""
        by_id = dict(self.by_id)
        contact = dict(self.contact)
        stamps = dict(self.stamps)
        for r in rows:
            # A row stamped after ``revision`` (a write that committed meanwhile) raises the
            # pool's revision to its stamp, as in :meth:`load`.
            revision = max(revision, r.revision)
            stamps[r.id] = r.revision
            if r.erased:
                by_id.pop(r.id, None)
                contact.pop(r.id, None)
            else:
                by_id[r.id] = candidate_from_profile(r.id, r.profile)
                contact[r.id] = (r.consent_to_share, r.name, r.phone, r.email)
        return CandidatePool(max(revision, self.revision), self.base, by_id, contact, stamps)

    def written_since(self, revision: int) -> set[str] | None:
        """Ids written after ``revision`` (erased ones included); None if not tracked."""
        if revision < self.base:
            return None
        return {cid for cid, stamp in self.stamps.items() if stamp > revision}


@dataclass(frozen=True)
class VacancyScores:
    """The score of every eligible candidate of a pool revision for one vacancy revision."""

    revision: int
    eligible: dict[str, float]


def score_candidates(
    engine: MatchEngine, vacancy: Vacancy, candidates: Sequence[Candidate]
) -> dict[str, float]:
    """Scores of the candidates eligible for ``vacancy`` (hard constraints met)."""
    if not candidates:
        return {}
    scored = engine.score(engine.encode_candidates(candidates), engine.encode_vacancies([vacancy]))
    column, ok = scored.scores[:, 0], scored.eligible[:, 0]
    return {c.id: float(s) for c, s, keep in zip(candidates, column, ok) if keep}


def update_scores(
    engine: MatchEngine, vacancy: Vacancy, pool: CandidatePool, cached: VacancyScores | None
) -> VacancyScores:
    """``cached`` brought to ``pool``'s revision by rescoring what changed (or everything)."""
    changed = None
    if cached is not None and cached.revision <= pool.revision:
        changed = pool.written_since(cached.revision)
    if cached is None or changed is None:
        return VacancyScores(
            pool.revision, score_candidates(engine, vacancy, list(pool.by_id.values()))
        )
    if not changed:
        return VacancyScores(pool.revision, cached.eligible)
    eligible = {cid: s for cid, s in cached.eligible.items() if cid not in changed}
    live = [pool.by_id[cid] for cid in sorted(changed) if cid in pool.by_id]
    eligible.update(score_candidates(engine, vacancy, live))
    return VacancyScores(pool.revision, eligible)


def rank_pool(
    engine: MatchEngine,
    vacancy: Vacancy,
    pool: CandidatePool,
    scores: VacancyScores,
    *,
    top_k: int,
    lang: str,
) -> list[RankedMatch]:
    """The best ``top_k`` of the pool with reasons, as ``engine.rank_candidates`` on all of it.

    The top ids come from the stored scores (ties by id, as the engine breaks them); only
    those candidates are ranked again, for their explanations.
    """
    # A candidate erased just after the scores' revision may be gone from this pool only.
    best = heapq.nsmallest(
        top_k,
        ((-score, cid) for cid, score in scores.eligible.items() if cid in pool.by_id),
    )
    chosen = [pool.by_id[cid] for _, cid in best]
    return engine.rank_candidates(vacancy, chosen, top_k=top_k, lang=lang)
