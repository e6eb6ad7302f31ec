"""Pair features, column-wise over every candidate x vacancy pair of a batch.

Profiles are encoded once into sparse matrices over ESCO concept positions:

* a candidate's *skills* (confidence of each recognised concept, from the
  normaliser's score) and its *expanded* skills, where a concept the candidate
  lacks earns partial credit from a close relative (co-occurrence in ESCO
  occupation profiles), applied once as a sparse product;
* a vacancy's *required*, *optional* and *profile* skills (the essential skills
  of the ESCO occupation its title names).

Coverage features are then sparse-dense products; the other features are
outer operations on small vectors. Nothing here loops over pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, pairwise
from typing import cast

import numpy as np
from scipy import sparse

from matcher.certifications import certification_key, holds_certification
from matcher.config import FEATURES, MatchConfig
from matcher.gcpause import collector_paused
from matcher.normalise import SkillNormaliser
from matcher.profiles import Candidate, Vacancy
from matcher.regions import Regions
from matcher.taxonomy import ESSENTIAL, SkillTaxonomy

__all__ = [
    "FILTER_CERTIFICATION",
    "FILTER_LANGUAGE",
    "FILTER_LOCATION",
    "CandidateBatch",
    "PairFeatures",
    "SkillSpace",
    "VacancyBatch",
    "VacancySkills",
    "encode_candidates",
    "encode_vacancies",
    "pair_features",
    "pair_features_at",
    "skill_sums",
]

#: Bits of :attr:`PairFeatures.filtered`: why a pair is removed from shortlists.
FILTER_CERTIFICATION = 1
FILTER_LANGUAGE = 2
FILTER_LOCATION = 4

#: Working language assumed for a candidate who declares none.
DEFAULT_LANGUAGE = "es"


@dataclass(frozen=True, eq=False)
class SkillSpace:
    """Concept-level structures shared by every batch."""

    taxonomy: SkillTaxonomy
    related: sparse.csr_matrix  # K x K, credit for having row when column is asked (no diagonal)
    occupation_similarity: sparse.csr_matrix  # K x K over occupations, from ISCO codes
    profiles: sparse.csr_matrix  # K x K, occupation row -> its essential skills (1)

    @cached_property
    def relatives(self) -> dict[int, dict[int, float]]:
        """Asked concept -> {held concept: credit} (``related``'s columns), for explanations:
        a gap looks up its few relatives, not every skill the candidate holds."""
        csc = self.related.tocsc()
        out: dict[int, dict[int, float]] = {}
        for asked in np.flatnonzero(np.diff(csc.indptr)).tolist():
            lo, hi = csc.indptr[asked], csc.indptr[asked + 1]
            out[asked] = dict(zip(csc.indices[lo:hi].tolist(), csc.data[lo:hi].tolist()))
        return out

    @classmethod
    def from_taxonomy(cls, taxonomy: SkillTaxonomy, config: MatchConfig) -> SkillSpace:
        rel = taxonomy.relations
        n = rel.shape[0]
        occ_by_skill = (rel > 0).astype(np.float64).T.tocsr()  # skill x occupation
        co = (occ_by_skill @ occ_by_skill.T).tocoo()  # skills sharing occupations
        counts = np.asarray(occ_by_skill.sum(axis=1)).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = co.data / np.sqrt(counts[co.row] * counts[co.col])
        keep = (co.row != co.col) & (cos >= config.related_min_similarity)
        rows, cols, vals = co.row[keep], co.col[keep], cos[keep]
        related = _top_n_per_row(rows, cols, vals, n, config.related_top_n)
        related.data *= config.related_credit

        groups = taxonomy.concepts["isco_group"].astype(str).to_numpy()
        occ = np.flatnonzero(taxonomy.is_occupation)
        sim_rows, sim_cols, sim_vals = [], [], []
        for i in occ:
            for j in occ:
                s = _isco_similarity(groups[i], groups[j]) if i != j else 1.0
                if s > 0:
                    sim_rows.append(i)
                    sim_cols.append(j)
                    sim_vals.append(s)
        occupation_similarity = sparse.csr_matrix((sim_vals, (sim_rows, sim_cols)), shape=(n, n))
        profiles = (rel >= ESSENTIAL).astype(np.float64).tocsr()
        return cls(taxonomy, related, occupation_similarity, profiles)


def _isco_similarity(a: str, b: str) -> float:
    """Same ISCO unit group 0.6, minor group 0.3, sub-major group 0.1."""
    if not a or not b:
        return 0.0
    if a[:4] == b[:4]:
        return 0.6
    if a[:3] == b[:3]:
        return 0.3
    if a[:2] == b[:2]:
        return 0.1
    return 0.0


def _top_n_per_row(rows, cols, vals, n: int, top_n: int) -> sparse.csr_matrix:
    if top_n == 0 or len(vals) == 0:
        return sparse.csr_matrix((n, n))
    order = np.lexsort((-vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, rows, side="left")
    rank = np.arange(len(rows)) - starts
    keep = rank < top_n
    return sparse.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))


@dataclass(frozen=True)
class Mention:
    """A skill as written, and the concept it was recognised as (-1: none)."""

    text: str
    concept: int
    score: float
    years: float | None = None


@dataclass(frozen=True, eq=False)
class CandidateBatch:
    ids: tuple[str, ...]
    skills: sparse.csr_matrix  # n x K confidence in [0, 1]
    expanded: sparse.csr_matrix  # n x K, skills plus related credit, capped at 1
    years: sparse.csr_matrix  # n x K years of practice where the candidate gave them
    titles: sparse.csr_matrix  # n x K occupation fit of past titles (ISCO-spread, capped at 1)
    experience: np.ndarray
    region: np.ndarray  # code of a known region, or a negative id of an unknown name
    region_name: tuple[str, ...]
    relocate: np.ndarray
    languages: tuple[frozenset[str], ...]
    certifications: tuple[tuple[frozenset[str], ...], ...]
    mentions: tuple[tuple[Mention, ...], ...]
    title_mentions: tuple[tuple[Mention, ...], ...]

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, index: slice) -> CandidateBatch:
        """The candidates of ``index`` (a slice), as a batch of their own."""
        return self.take(np.arange(len(self))[index])

    def take(self, index: np.ndarray) -> CandidateBatch:
        """The candidates at integer positions ``index``, in that order."""
        index = np.asarray(index, dtype=np.intp)
        obj = self._objects
        return CandidateBatch(
            ids=tuple(obj["ids"][index]),
            skills=self.skills[index],
            expanded=self.expanded[index],
            years=self.years[index],
            titles=self.titles[index],
            experience=self.experience[index],
            region=self.region[index],
            region_name=tuple(obj["region_name"][index]),
            relocate=self.relocate[index],
            languages=tuple(obj["languages"][index]),
            certifications=tuple(obj["certifications"][index]),
            mentions=tuple(obj["mentions"][index]),
            title_mentions=tuple(obj["title_mentions"][index]),
        )

    @classmethod
    def concat(cls, batches: Sequence[CandidateBatch]) -> CandidateBatch:
        """One batch of the candidates of ``batches``, in order."""
        if len(batches) == 1:
            return batches[0]
        return cls(
            ids=tuple(chain.from_iterable(b.ids for b in batches)),
            skills=sparse.vstack([b.skills for b in batches], format="csr"),
            expanded=sparse.vstack([b.expanded for b in batches], format="csr"),
            years=sparse.vstack([b.years for b in batches], format="csr"),
            titles=sparse.vstack([b.titles for b in batches], format="csr"),
            experience=np.concatenate([b.experience for b in batches]),
            region=np.concatenate([b.region for b in batches]),
            region_name=tuple(chain.from_iterable(b.region_name for b in batches)),
            relocate=np.concatenate([b.relocate for b in batches]),
            languages=tuple(chain.from_iterable(b.languages for b in batches)),
            certifications=tuple(chain.from_iterable(b.certifications for b in batches)),
            mentions=tuple(chain.from_iterable(b.mentions for b in batches)),
            title_mentions=tuple(chain.from_iterable(b.title_mentions for b in batches)),
        )

    @cached_property
    def _objects(self) -> dict[str, np.ndarray]:
        # Per-candidate Python objects as object arrays, so that ``take`` gathers in C.
        names = ("ids", "region_name", "languages", "certifications", "mentions")
        return {
            name: np.fromiter(getattr(self, name), dtype=object, count=len(self))
            for name in (*names, "title_mentions")
        }


@dataclass(frozen=True, eq=False)
class VacancyBatch:
    ids: tuple[str, ...]
    employer_ids: tuple[str, ...]
    required: sparse.csr_matrix  # m x K, 1 per recognised required skill
    required_years: tuple[tuple[int, int, float], ...]  # (row, concept, min_years)
    optional: sparse.csr_matrix  # m x K weights of optional skills (description ones lighter)
    profile: sparse.csr_matrix  # m x K essential skills of the title's occupation
    occupation: np.ndarray  # concept position of the title, or -1
    occupation_confidence: np.ndarray
    min_experience: np.ndarray
    region: np.ndarray
    region_name: tuple[str, ...]
    remote: np.ndarray
    languages: tuple[frozenset[str], ...]
    certifications: tuple[tuple[frozenset[str], ...], ...]
    certification_text: tuple[tuple[str, ...], ...]
    required_mentions: tuple[tuple[Mention, ...], ...]
    optional_mentions: tuple[tuple[Mention, ...], ...]
    title_mention: tuple[Mention, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> VacancyBatch:
        """The vacancies at integer positions ``index``, in that order."""
        index = np.asarray(index, dtype=np.intp)
        pick = index.tolist()
        new_row = {old: new for new, old in enumerate(pick)}
        return VacancyBatch(
            ids=tuple(self.ids[j] for j in pick),
            employer_ids=tuple(self.employer_ids[j] for j in pick),
            required=self.required[index],
            required_years=tuple(
                (new_row[j], c, y) for j, c, y in self.required_years if j in new_row
            ),
            optional=self.optional[index],
            profile=self.profile[index],
            occupation=self.occupation[index],
            occupation_confidence=self.occupation_confidence[index],
            min_experience=self.min_experience[index],
            region=self.region[index],
            region_name=tuple(self.region_name[j] for j in pick),
            remote=self.remote[index],
            languages=tuple(self.languages[j] for j in pick),
            certifications=tuple(self.certifications[j] for j in pick),
            certification_text=tuple(self.certification_text[j] for j in pick),
            required_mentions=tuple(self.required_mentions[j] for j in pick),
            optional_mentions=tuple(self.optional_mentions[j] for j in pick),
            title_mention=tuple(self.title_mention[j] for j in pick),
        )

    @cached_property
    def n_required(self) -> np.ndarray:
        return np.asarray(self.required.sum(axis=1)).ravel()

    @cached_property
    def n_optional(self) -> np.ndarray:
        return np.asarray(self.optional.sum(axis=1)).ravel()

    @cached_property
    def n_profile(self) -> np.ndarray:
        return np.asarray(self.profile.sum(axis=1)).ravel()


@dataclass
class _RegionCoder:
    regions: Regions
    unknown: dict[str, int] = field(default_factory=dict)

    def code(self, name: str) -> int:
        code = self.regions.code(name)
        if code >= 0 or not name:
            return code if name else -1
        key = self.regions.canonical(name)
        return self.unknown.setdefault(key, -2 - _stable_id(key))


def _stable_id(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode("utf-8")) & 0x7FFFFFFF


class MentionMemo:
    """Each text's best concept and score, by kind, as an engine first normalised it.

    A batch run normalises its finalists' mentions a second time to explain them,
    long after the normaliser's own LRU cache (sized for a server) has moved on.
    This keeps only two numbers a text, so it can hold every distinct mention of
    a national register; past ``limit`` texts it starts afresh, which bounds its
    memory (about 150 bytes a text) on any input.
    """

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self._answers: dict[tuple[str, str], tuple[int, float]] = {}

    def __len__(self) -> int:
        return len(self._answers)

    def lookup(
        self, normaliser: SkillNormaliser, texts: list[str], kind: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Concepts (-1: none) and raw 0-100 scores of distinct ``texts``."""
        answers = self._answers
        known = [answers.get((kind, t)) for t in texts]
        todo = [t for t, a in zip(texts, known) if a is None]
        if todo:
            found = normaliser.match(todo, kind=kind, top_k=1)  # type: ignore[arg-type]
            fresh = [(m[0].concept, m[0].score) if m else (-1, 0.0) for m in found]
            if len(answers) + len(todo) > self.limit:
                answers.clear()
            # Local answers only from here: another thread may clear the dict meanwhile.
            answers.update(zip([(kind, t) for t in todo], fresh))
            pending = iter(fresh)
            known = [next(pending) if a is None else a for a in known]
        done = cast("list[tuple[int, float]]", known)
        concept = np.fromiter((a[0] for a in done), dtype=np.int64, count=len(texts))
        score = np.fromiter((a[1] for a in done), dtype=np.float64, count=len(texts))
        return concept, score


def _normalise_mentions(
    normaliser: SkillNormaliser,
    texts: Sequence[str],
    kind: str,
    cutoff: float,
    memo: MentionMemo | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Concept (-1: none at ``cutoff`` or over) and confidence in [0, 1] of every text."""
    # A population repeats its mentions (two million of them hold about 200,000 distinct
    # texts): each distinct text is normalised once, and answers are shared by text.
    position: dict[str, int] = {}
    at = np.fromiter(
        (position.setdefault(t, len(position)) for t in texts), dtype=np.int64, count=len(texts)
    )
    concept, raw = (memo if memo is not None else MentionMemo()).lookup(
        normaliser, list(position), kind
    )
    concept[raw < cutoff] = -1
    return concept[at], raw[at] / 100.0


def encode_candidates(
    candidates: Sequence[Candidate],
    normaliser: SkillNormaliser,
    space: SkillSpace,
    regions: Regions,
    config: MatchConfig,
    *,
    mentions: bool = True,
    memo: MentionMemo | None = None,
) -> CandidateBatch:
    """Normalise every candidate's skills and titles (one batch call each) into matrices.

    ``mentions=False`` leaves out the written mentions (the ``mentions`` and
    ``title_mentions`` of the batch stay empty), which only explanations read:
    what a search needs, in much less time and memory.
    """
    with collector_paused():
        return _encode_candidates(candidates, normaliser, space, regions, config, mentions, memo)


def _owner_rows(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _split_mentions(
    written: Sequence[str],
    concept: np.ndarray,
    score: np.ndarray,
    years: Sequence[float | None],
    counts: np.ndarray,
) -> tuple[tuple[Mention, ...], ...]:
    flat = list(map(Mention, written, concept.tolist(), score.tolist(), years))
    bounds = np.r_[0, np.cumsum(counts)].tolist()
    return tuple(tuple(flat[lo:hi]) for lo, hi in pairwise(bounds))


def _encode_candidates(
    candidates: Sequence[Candidate],
    normaliser: SkillNormaliser,
    space: SkillSpace,
    regions: Regions,
    config: MatchConfig,
    keep_mentions: bool,
    memo: MentionMemo | None,
) -> CandidateBatch:
    n, k = len(candidates), len(space.taxonomy)
    cutoff = config.min_mention_score
    counts = np.fromiter((len(c.skills) for c in candidates), dtype=np.int64, count=n)
    texts = [s.text for c in candidates for s in c.skills]
    years_of = [s.years for c in candidates for s in c.skills]
    concept, score = _normalise_mentions(normaliser, texts, "skill", cutoff, memo)
    rows = _owner_rows(counts)
    held = concept >= 0
    skills = _max_matrix(rows[held], concept[held], score[held], (n, k))
    years = np.array([np.nan if y is None else y for y in years_of], dtype=np.float64)
    dated = held & ~np.isnan(years)
    years_matrix = _max_matrix(rows[dated], concept[dated], years[dated], (n, k))
    expanded = _expand(skills, space.related)

    t_counts = np.fromiter((len(c.past_job_titles) for c in candidates), np.int64, count=n)
    titles = [t for c in candidates for t in c.past_job_titles]
    t_concept, t_score = _normalise_mentions(normaliser, titles, "occupation", cutoff, memo)
    t_rows = _owner_rows(t_counts)
    t_held = t_concept >= 0
    title_direct = _max_matrix(t_rows[t_held], t_concept[t_held], t_score[t_held], (n, k))
    spread = title_direct @ space.occupation_similarity
    spread = spread.maximum(title_direct)
    spread.data = np.minimum(spread.data, 1.0)

    if keep_mentions:
        mentions = _split_mentions(texts, concept, score, years_of, counts)
        title_mentions = _split_mentions(titles, t_concept, t_score, [None] * len(titles), t_counts)
    else:
        mentions = title_mentions = ((),) * n
    coder = _RegionCoder(regions)
    return CandidateBatch(
        ids=tuple(c.id for c in candidates),
        skills=skills,
        expanded=expanded,
        years=years_matrix,
        titles=spread.tocsr(),
        experience=np.array([c.experience_years for c in candidates], dtype=np.float64),
        region=np.array([coder.code(c.region) for c in candidates], dtype=np.int64),
        region_name=tuple(regions.canonical(c.region) if c.region else "" for c in candidates),
        relocate=np.array([c.willing_to_relocate for c in candidates], dtype=bool),
        languages=tuple(frozenset(c.languages or (DEFAULT_LANGUAGE,)) for c in candidates),
        certifications=tuple(
            tuple(certification_key(t) for t in c.certifications) for c in candidates
        ),
        mentions=mentions,
        title_mentions=title_mentions,
    )


def _max_matrix(rows, cols, vals, shape) -> sparse.csr_matrix:
    """Sparse matrix keeping the largest value per cell (duplicates are not summed).

    One sort of ``row * n_cols + col`` keys and a segmented max: about eight
    times faster than sorting on (row, col, -value) for the tens of millions of
    entries a related-skill expansion produces.
    """
    n, k = shape
    if len(vals) == 0:
        return sparse.csr_matrix(shape, dtype=np.float64)
    key = np.asarray(rows, dtype=np.int64) * k + np.asarray(cols, dtype=np.int64)
    v = np.asarray(vals, dtype=np.float64)
    # Stable sort (timsort) is quickest here: callers' rows come already in order.
    order = np.argsort(key, kind="stable")
    key, v = key[order], v[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    best = np.maximum.reduceat(v, starts)
    cell = key[starts]
    indptr = np.searchsorted(cell, np.arange(n + 1, dtype=np.int64) * k)
    return sparse.csr_matrix((best, (cell % k).astype(np.int32), indptr), shape=shape)


def _expand(skills: sparse.csr_matrix, related: sparse.csr_matrix) -> sparse.csr_matrix:
    """Skills plus the best related credit for concepts not held, capped at 1."""
    if related.nnz == 0 or skills.nnz == 0:
        return skills.copy()
    # Related credit from the strongest single relative (max, not sum: five weak relatives
    # are not a skill). Rows a block at a time: each block's sort stays in cache (a whole
    # 50,000-row batch sorted at once took twice as long).
    blocks = []
    for lo in range(0, skills.shape[0], _EXPAND_ROWS):
        part = skills[lo : lo + _EXPAND_ROWS]
        out = part.maximum(_max_product(part, related)).tocsr()
        out.data = np.minimum(out.data, 1.0)
        blocks.append(out)
    return blocks[0] if len(blocks) == 1 else sparse.vstack(blocks, format="csr")


#: Candidates whose related-skill credit is expanded at once (see :func:`_expand`).
_EXPAND_ROWS = 2_048


def _max_product(a: sparse.csr_matrix, b: sparse.csr_matrix) -> sparse.csr_matrix:
    """``out[i, j] = max_k a[i, k] * b[k, j]`` for non-negative sparse ``a`` and ``b``."""
    a = a.tocoo()
    b = b.tocsr()
    lengths = np.diff(b.indptr)[a.col]
    rows = np.repeat(a.row, lengths)
    starts = b.indptr[a.col]
    idx = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())
    cols = b.indices[idx]
    vals = np.repeat(a.data, lengths) * b.data[idx]
    return _max_matrix(rows, cols, vals, (a.shape[0], b.shape[1]))


def encode_vacancies(
    vacancies: Sequence[Vacancy],
    normaliser: SkillNormaliser,
    space: SkillSpace,
    regions: Regions,
    config: MatchConfig,
    *,
    description_skills: Sequence[Sequence[int]] | None = None,
    memo: MentionMemo | None = None,
) -> VacancyBatch:
    """Normalise every vacancy's skills and title into matrices.

    ``description_skills`` are concepts extracted from each description; those
    not already asked for are added as optional skills with
    ``config.description_weight``.
    """
    m, k = len(vacancies), len(space.taxonomy)
    req_texts = [s.text for v in vacancies for s in v.required_skills]
    opt_texts = [s.text for v in vacancies for s in v.optional_skills]
    cutoff = config.min_mention_score

    def found(texts: list[str], kind: str) -> list[tuple[int, float]]:
        concept, score = _normalise_mentions(normaliser, texts, kind, cutoff, memo)
        return list(zip(concept.tolist(), score.tolist()))

    req_found = found(req_texts, "skill")
    opt_found = found(opt_texts, "skill")
    title_found = found([v.title for v in vacancies], "occupation")

    req_rows, req_cols, req_years = [], [], []
    opt_rows, opt_cols, opt_vals = [], [], []
    req_mentions, opt_mentions = [], []
    rc = oc = 0
    for j, vac in enumerate(vacancies):
        asked: set[int] = set()
        own = []
        for s in vac.required_skills:
            concept, score = req_found[rc]
            rc += 1
            own.append(Mention(s.text, concept, score, s.years))
            if concept >= 0 and concept not in asked:
                asked.add(concept)
                req_rows.append(j)
                req_cols.append(concept)
                if s.years:
                    req_years.append((j, concept, float(s.years)))
        req_mentions.append(tuple(own))
        own = []
        for s in vac.optional_skills:
            concept, score = opt_found[oc]
            oc += 1
            own.append(Mention(s.text, concept, score, s.years))
            if concept >= 0 and concept not in asked:
                asked.add(concept)
                opt_rows.append(j)
                opt_cols.append(concept)
                opt_vals.append(1.0)
        if description_skills is not None:
            for concept in description_skills[j]:
                if concept not in asked:
                    asked.add(concept)
                    opt_rows.append(j)
                    opt_cols.append(concept)
                    opt_vals.append(config.description_weight)
        opt_mentions.append(tuple(own))

    required = sparse.csr_matrix(
        (np.ones(len(req_rows)), (req_rows, req_cols)), shape=(m, k), dtype=np.float64
    )
    optional = sparse.csr_matrix((opt_vals, (opt_rows, opt_cols)), shape=(m, k), dtype=np.float64)
    occupation = np.array([c for c, _ in title_found], dtype=np.int64)
    occ_conf = np.array([s if c >= 0 else 0.0 for c, s in title_found], dtype=np.float64)
    safe = np.where(occupation >= 0, occupation, 0)
    profile = space.profiles[safe].multiply((occupation >= 0)[:, None]).tocsr()
    coder = _RegionCoder(regions)
    return VacancyBatch(
        ids=tuple(v.id for v in vacancies),
        employer_ids=tuple(v.employer_id for v in vacancies),
        required=required,
        required_years=tuple(req_years),
        optional=optional,
        profile=profile,
        occupation=occupation,
        occupation_confidence=occ_conf,
        min_experience=np.array([v.min_experience_years for v in vacancies], dtype=np.float64),
        region=np.array([coder.code(v.region) for v in vacancies], dtype=np.int64),
        region_name=tuple(regions.canonical(v.region) if v.region else "" for v in vacancies),
        remote=np.array([v.remote for v in vacancies], dtype=bool),
        languages=tuple(frozenset(v.languages) for v in vacancies),
        certifications=tuple(
            tuple(certification_key(t) for t in v.required_certifications) for v in vacancies
        ),
        certification_text=tuple(tuple(v.required_certifications) for v in vacancies),
        required_mentions=tuple(req_mentions),
        optional_mentions=tuple(opt_mentions),
        title_mention=tuple(Mention(v.title, c, s) for v, (c, s) in zip(vacancies, title_found)),
    )


@dataclass(frozen=True, eq=False)
class PairFeatures:
    """Features of every pair of a candidate batch (rows) and a vacancy batch (columns).

    ``columns`` maps each name of :data:`~matcher.config.FEATURES` to an array
    that broadcasts to ``(n, m)``: per-candidate features are ``(n, 1)``,
    per-vacancy ones ``(1, m)``, so they cost no pair-sized memory.
    """

    columns: dict[str, np.ndarray]
    filtered: np.ndarray  # (n, m) int8 bit mask of FILTER_* reasons; 0 = eligible

    @property
    def shape(self) -> tuple[int, int]:
        return self.filtered.shape

    def pair(self, i: int, j: int) -> np.ndarray:
        """The feature vector of one pair, in :data:`~matcher.config.FEATURES` order."""
        return np.array(
            [np.broadcast_to(self.columns[name], self.shape)[i, j] for name in FEATURES]
        )

    def matrix(self) -> np.ndarray:
        """Feature rows, one per pair (row-major over candidates then vacancies)."""
        n, m = self.shape
        return np.column_stack(
            [np.broadcast_to(self.columns[name], (n, m)).ravel() for name in FEATURES]
        )


def pair_features(
    cands: CandidateBatch, vacs: VacancyBatch, regions: Regions, config: MatchConfig
) -> PairFeatures:
    """All :data:`~matcher.config.FEATURES` for every pair, with hard-constraint filters."""
    n, m = len(cands), len(vacs)
    req, opt, prof, fit = _skill_sums(cands, vacs, np.arange(n), np.arange(m))
    lacks = _missing_languages(cands, vacs), _missing_certifications(cands, vacs)
    features = _assemble(
        cands,
        vacs,
        slice(None),
        slice(None),
        (req, opt, prof, fit),
        lacks,
        regions,
        config,
        grid=True,
    )
    return PairFeatures(features.columns, np.broadcast_to(features.filtered, (n, m)).copy())


def pair_features_at(
    cands: CandidateBatch,
    vacs: VacancyBatch,
    rows: np.ndarray,
    cols: np.ndarray,
    regions: Regions,
    config: MatchConfig,
    *,
    sums: tuple[np.ndarray, ...] | None = None,
) -> PairFeatures:
    """The features of the pairs ``(rows[p], cols[p])`` only: 1-D columns, one per pair.

    The same arithmetic as :func:`pair_features`, so the same values to the last bit.
    ``sums`` are the pairs' skill sums (:func:`skill_sums`) when the caller has them;
    otherwise they are taken on the distinct rows x distinct columns involved.
    """
    rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
    u_rows, ri = np.unique(rows, return_inverse=True)
    u_cols, ci = np.unique(cols, return_inverse=True)
    sub_c = cands._objects
    lang = _missing(
        tuple(sub_c["languages"][u_rows]),
        tuple(vacs.languages[j] for j in u_cols.tolist()),
        lambda need, held: need in held,
    )
    cert = _missing(
        tuple(sub_c["certifications"][u_rows]),
        tuple(vacs.certifications[j] for j in u_cols.tolist()),
        holds_certification,
    )
    if sums is None:
        sums = tuple(a[ri, ci] for a in _skill_sums(cands, vacs, u_rows, u_cols))
    return _assemble(
        cands,
        vacs,
        rows,
        cols,
        sums,
        (lang[ri, ci], cert[ri, ci]),
        regions,
        config,
        grid=False,
    )


@dataclass(frozen=True, eq=False)
class VacancySkills:
    """The skill side of some vacancies (``cols``), ready for one product per row block."""

    cols: np.ndarray
    stacked: sparse.csr_matrix  # K x 3m: required | optional | profile columns
    occupation: np.ndarray
    confidence: np.ndarray
    years: tuple[tuple[int, int, float], ...]  # (position in cols, concept, min_years)

    @classmethod
    def of(cls, vacs: VacancyBatch, cols: np.ndarray) -> VacancySkills:
        cols = np.asarray(cols, dtype=np.intp)
        whole = len(cols) == len(vacs) and bool((cols == np.arange(len(vacs))).all())
        pick = (lambda a: a) if whole else (lambda a: a[cols])
        stacked = sparse.vstack(
            [pick(vacs.required), pick(vacs.optional), pick(vacs.profile)], format="csr"
        ).T.tocsr()
        where = {j: p for p, j in enumerate(cols.tolist())}
        years = tuple((where[j], c, y) for j, c, y in vacs.required_years if j in where)
        return cls(cols, stacked, vacs.occupation[cols], vacs.occupation_confidence[cols], years)

    def asked_table(self) -> AskedColumns:
        """What these vacancies read of the candidates' ``[expanded | titles]`` columns.

        A group of similar vacancies reads a hundred columns of thousands, and its
        vacancies share a few occupations (so a few profiles): a search gathers only
        those entries of the candidates it sweeps and sums each profile once.
        """
        m, k = len(self.cols), self.stacked.shape[0]
        occupations, first, slot = np.unique(
            self.occupation, return_index=True, return_inverse=True
        )
        known = occupations >= 0
        occupations, first = occupations[known], first[known]
        slot = np.where(self.occupation >= 0, slot - int((~known).sum()), -1)
        u = len(occupations)
        # Required and optional columns as they are, one profile column per occupation,
        # then a title column per occupation (under the title half of the columns).
        keep = np.full(3 * m, -1)
        keep[: 2 * m] = np.arange(2 * m)
        keep[2 * m + first] = 2 * m + np.arange(u)
        asked_of = self.stacked.tocoo()
        new_col = keep[asked_of.col]
        sel = new_col >= 0
        table = sparse.csr_matrix(
            (
                np.r_[asked_of.data[sel], np.ones(u)],
                (
                    np.r_[asked_of.row[sel], k + occupations],
                    np.r_[new_col[sel], 2 * m + u + np.arange(u)],
                ),
            ),
            shape=(2 * k, 2 * (m + u)),
        )
        asked = np.flatnonzero(np.diff(table.indptr))
        return AskedColumns(asked, table[asked], slot)

    def sums_from(
        self,
        cands: CandidateBatch,
        rows: np.ndarray,
        entries: sparse.csr_matrix,
        cols: AskedColumns,
    ):
        """:func:`skill_sums` of ``rows`` from ``entries``, their values in the
        ``cols.asked`` columns of ``[expanded | titles]`` (indices sorted).

        Equal to the last bit: each sum adds the same products in the same order (a
        row's entries by column), vacancies with one occupation have one profile,
        and a title fit is one product ``fit * confidence`` either way.
        """
        m = len(self.cols)
        sums = _dense(entries @ cols.table)
        req, opt = sums[:, :m], sums[:, m : 2 * m]
        prof, fit = cols.per_vacancy(sums[:, 2 * m :])
        fit = fit * self.confidence[None, :]
        if self.years:
            at = np.searchsorted(cols.asked, [c for _, c, _ in self.years])
            credit = _dense(entries[:, at])
            req = _years_discount(
                req, self.years, credit, cands.years[rows], cands.experience[rows]
            )
        return req, opt, prof, fit


@dataclass(frozen=True, eq=False)
class AskedColumns:
    """The columns of ``[expanded | titles]`` some vacancies read (``asked``), and the
    rows of ``table`` that turn a candidate's values in them into the vacancies'
    required and optional sums (``m`` columns each), then the sums of each distinct
    occupation's profile and its title fit (``u`` each). ``slot`` gives each
    vacancy's occupation among the ``u`` (-1 without one)."""

    asked: np.ndarray
    table: sparse.csr_matrix
    slot: np.ndarray

    def per_vacancy(self, by_occupation: np.ndarray, axis: int = 1):
        """Profile sums and title fits per vacancy from the ``2u`` per-occupation
        columns (rows, with ``axis=0``) of a 2-D ``by_occupation``."""
        u = by_occupation.shape[axis] // 2
        at = np.maximum(self.slot, 0)
        if u == 0:
            shape = list(by_occupation.shape)
            shape[axis] = len(self.slot)
            return np.zeros(shape), np.zeros(shape)
        profile = np.take(by_occupation, at, axis=axis)
        fit = np.take(by_occupation, at + u, axis=axis)
        if (self.slot < 0).any():  # vacancies without an occupation read zeros
            known = np.expand_dims(self.slot >= 0, axis=1 - axis)
            profile *= known
            fit *= known
        return profile, fit


def _skill_sums(
    cands: CandidateBatch,
    vacs: VacancyBatch,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    skills: VacancySkills | None = None,
):
    """Required, optional and profile sums and title fit of ``rows`` x ``cols`` (dense)."""
    skills = skills if skills is not None else VacancySkills.of(vacs, cols)
    m = len(skills.cols)
    whole_c = len(rows) == len(cands) and bool((rows == np.arange(len(cands))).all())
    expanded = cands.expanded if whole_c else cands.expanded[rows]
    # One product for the three kinds of asked skills (the sum over a candidate's skills
    # runs in the same order whichever columns sit beside it).
    sums = _dense(expanded @ skills.stacked)
    req, opt, prof = sums[:, :m], sums[:, m : 2 * m], sums[:, 2 * m :]
    if skills.years:
        concepts = [c for _, c, _ in skills.years]
        years = cands.years if whole_c else cands.years[rows]
        credit = _dense(expanded[:, concepts])
        req = _years_discount(req, skills.years, credit, years, cands.experience[rows])

    has_occ = skills.occupation >= 0
    fit = np.zeros((len(rows), m))
    if has_occ.any():
        titles = cands.titles if whole_c else cands.titles[rows]
        fit[:, has_occ] = _dense(titles[:, skills.occupation[has_occ]])
        fit *= skills.confidence[None, :]
    return req, opt, prof, fit


skill_sums = _skill_sums


def _years_discount(req, asked_years, credit, years, experience) -> np.ndarray:
    """Required sums less the credit of skills held for fewer years than asked.

    ``asked_years`` lists ``(column of req, concept, min_years)``; ``credit[:, t]`` is
    the rows' credit for the ``t``-th of them and ``years`` their years per concept.
    The credit shrinks with the years held (the skill's own years, else the
    candidate's overall experience).
    """
    req = req.copy()
    for t, (p, concept, min_years) in enumerate(asked_years):
        held = _dense(years[:, concept]).ravel()
        held = np.where(held > 0, held, experience)
        req[:, p] -= credit[:, t] * (1.0 - np.minimum(1.0, held / min_years))
    return req


def _assemble(cands, vacs, rows, cols, sums, lacks, regions, config, *, grid: bool):
    """Features from skill sums: ``grid`` broadcasts per-candidate ``(n, 1)`` against
    per-vacancy ``(1, m)`` values; otherwise every value is per pair (1-D)."""

    def c(values: np.ndarray) -> np.ndarray:
        return values[:, None] if grid else values[rows]

    def v(values: np.ndarray) -> np.ndarray:
        return values[None, :] if grid else values[cols]

    req, opt, prof, fit = sums
    n_req, n_opt, n_prof = v(vacs.n_required), v(vacs.n_optional), v(vacs.n_profile)
    columns: dict[str, np.ndarray] = {
        "required_coverage": _safe_div(req, n_req),
        "optional_coverage": _safe_div(opt, n_opt),
        "profile_coverage": _safe_div(prof, n_prof),
        "title_fit": fit,
    }
    min_exp = v(vacs.min_experience)
    with np.errstate(divide="ignore", invalid="ignore"):
        exp_fit = np.where(min_exp > 0, c(cands.experience) / min_exp, 1.0)
    columns["experience_fit"] = np.clip(exp_fit, 0.0, 1.0)
    loc, loc_filter = _location(
        c(cands.region), v(vacs.region), c(cands.relocate), v(vacs.remote), regions, config
    )
    columns["location_fit"] = loc
    columns["has_skills"] = c((np.diff(cands.skills.indptr) > 0).astype(np.float64))
    columns["has_required"] = (n_req > 0).astype(np.float64)
    columns["has_optional"] = (n_opt > 0).astype(np.float64)
    columns["has_occupation"] = (v(vacs.occupation) >= 0).astype(np.float64)

    lang, cert = lacks
    filtered = np.where(loc_filter, FILTER_LOCATION, 0).astype(np.int8)
    filtered |= np.where(lang, FILTER_LANGUAGE, 0).astype(np.int8)
    filtered |= np.where(cert, FILTER_CERTIFICATION, 0).astype(np.int8)
    return PairFeatures(columns=columns, filtered=filtered)


def _dense(matrix) -> np.ndarray:
    return matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0), 0.0, 1.0)


def _location(rc, rv, relocate, remote, regions: Regions, config: MatchConfig):
    """Location fit and hard filter from broadcastable region codes and flags."""
    known_c, known_v = rc != -1, rv != -1
    same = (rc == rv) & known_c & known_v
    both_known = (rc >= 0) & (rv >= 0)
    dist = np.zeros(np.broadcast_shapes(rc.shape, rv.shape))
    if both_known.any():
        ci = np.where(rc >= 0, rc, 0)
        vi = np.where(rv >= 0, rv, 0)
        dist = regions.distance_km[ci, vi]
    moved = np.where(both_known, 1.0 - 0.5 * np.minimum(1.0, dist / config.relocation_km), 0.75)
    unknown = ~(known_c & known_v)
    fit = np.where(same | remote, 1.0, np.where(unknown, 0.75, np.where(relocate, moved, 0.0)))
    return fit, location_blocked(rc, rv, relocate, remote)


def location_blocked(rc, rv, relocate, remote) -> np.ndarray:
    """The location filter alone (broadcastable region codes and flags): both regions
    known and different, no relocation, no remote work. Cheap enough for a search to
    drop such pairs before scoring them."""
    known_c, known_v = rc != -1, rv != -1
    same = (rc == rv) & known_c & known_v
    return ~(same | remote | ~(known_c & known_v) | relocate)


def _missing_languages(cands: CandidateBatch, vacs: VacancyBatch) -> np.ndarray:
    return _missing(cands.languages, vacs.languages, lambda need, held: need in held)


def _missing_certifications(cands: CandidateBatch, vacs: VacancyBatch) -> np.ndarray:
    return _missing(cands.certifications, vacs.certifications, holds_certification)


def _missing(held_by_candidate, needed_by_vacancy, holds) -> np.ndarray:
    """``out[i, j]``: candidate ``i`` lacks something vacancy ``j`` requires.

    The distinct requirements form a small vocabulary; whether a candidate holds
    each is decided once per distinct holding (cached), then one product
    answers every pair.
    """
    n, m = len(held_by_candidate), len(needed_by_vacancy)
    vocab = sorted(set().union(*needed_by_vacancy), key=repr) if m else []
    if not vocab:
        return np.zeros((n, m), dtype=bool)
    pos = {key: i for i, key in enumerate(vocab)}
    need = np.zeros((m, len(vocab)))
    for j, keys in enumerate(needed_by_vacancy):
        need[j, [pos[x] for x in keys]] = 1
    distinct: dict[object, int] = {}
    codes = np.fromiter(
        (distinct.setdefault(held, len(distinct)) for held in held_by_candidate),
        dtype=np.intp,
        count=n,
    )
    lacks = np.array(
        [[0.0 if holds(key, held) else 1.0 for key in vocab] for held in distinct]
    ).reshape(len(distinct), len(vocab))
    return (lacks @ need.T)[codes] > 0
