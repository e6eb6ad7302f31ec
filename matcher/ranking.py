"""Top-k in both directions, deterministic tie-breaks, explanations and skill gaps.

Every result says why: which of the vacancy's skills the candidate covers
(what they wrote -> which ESCO concept -> which requirement), which required
skills are missing (the training gap), and a paragraph in Spanish and English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from matcher.config import FEATURES
from matcher.features import (
    FILTER_CERTIFICATION,
    FILTER_LANGUAGE,
    FILTER_LOCATION,
    Mention,
)
from matcher.gcpause import collector_paused
from matcher.profiles import Candidate, Vacancy

if TYPE_CHECKING:
    from matcher.engine import MatchEngine, ScoredPairs

__all__ = [
    "MatchedSkill",
    "RankedMatch",
    "SkillGap",
    "TopK",
    "explain",
    "explain_pairs",
    "rank_candidates",
    "rank_vacancies",
]

FILTER_NAMES = {
    FILTER_CERTIFICATION: "missing_certification",
    FILTER_LANGUAGE: "missing_language",
    FILTER_LOCATION: "location",
}


@dataclass(frozen=True)
class MatchedSkill:
    """A vacancy skill the candidate has: what they wrote, and the concept both name."""

    requirement: str
    kind: str  # "required" or "optional"
    uri: str
    label_es: str
    label_en: str
    candidate_text: str
    credit: float


@dataclass(frozen=True)
class SkillGap:
    """A required skill the candidate lacks; ``related_text`` is a related skill they have."""

    requirement: str
    uri: str
    label_es: str
    label_en: str
    related_text: str | None = None
    related_credit: float = 0.0


@dataclass(frozen=True)
class RankedMatch:
    vacancy_id: str
    candidate_id: str
    rank: int
    score: float
    eligible: bool
    filtered: tuple[str, ...] = ()
    features: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)
    matched: tuple[MatchedSkill, ...] = ()
    missing: tuple[SkillGap, ...] = ()
    unassessed: tuple[str, ...] = ()
    explanation: dict[str, str] = field(default_factory=dict)


def filter_reasons(mask: int) -> tuple[str, ...]:
    return tuple(name for bit, name in FILTER_NAMES.items() if mask & bit)


class TopK:
    """Running top-k per column over row chunks: memory is columns x k, not rows x columns.

    Ties are broken by the row id (ascending), so the result does not depend on
    the order rows arrive in, on how they are chunked, or on the order partial
    accumulators are merged in. Empty slots hold ``-inf``.

    >>> acc = TopK(n_columns=1, k=2)
    >>> acc.update(np.array([[0.5], [0.9]]), ["b", "a"], np.array([[True], [True]]))
    >>> acc.update(np.array([[0.9]]), ["0"], np.array([[True]]))
    >>> acc.result(0)
    [('0', 0.9), ('a', 0.9)]
    """

    def __init__(self, n_columns: int, k: int) -> None:
        self.k = k
        self.scores = np.full((k, n_columns), -np.inf)
        self.ids = np.full((k, n_columns), "", dtype=np.str_)

    def update(self, scores: np.ndarray, row_ids: Sequence[str], keep: np.ndarray) -> None:
        """Merge a chunk: ``scores`` and ``keep`` are rows x columns."""
        n = len(row_ids)
        if n == 0:
            return
        chunk = np.where(keep, scores, -np.inf)
        ids = np.asarray(row_ids, dtype=np.str_)
        k = self.k
        if n > k:
            part = np.argpartition(-chunk, k - 1, axis=0)[:k]  # k x columns
            top = np.take_along_axis(chunk, part, axis=0)
            kth = top.min(axis=0)
            # Where more rows tie at the k-th score than fit, choose among them by id.
            crowded = np.flatnonzero(((chunk >= kth).sum(axis=0) > k) & np.isfinite(kth))
            for c in crowded:
                above = np.flatnonzero(chunk[:, c] > kth[c])
                tied = np.flatnonzero(chunk[:, c] == kth[c])
                tied = tied[np.argsort(ids[tied], kind="stable")][: k - len(above)]
                part[:, c] = np.concatenate([above, tied])
            top = np.take_along_axis(chunk, part, axis=0)
            top_ids = ids[part]
        else:
            top = chunk
            top_ids = np.broadcast_to(ids[:, None], chunk.shape)
        self.scores, self.ids = _fold(self.scores, self.ids, top, top_ids, k)

    def update_pairs(
        self, columns: np.ndarray, scores: np.ndarray, row_ids: np.ndarray, keep: np.ndarray
    ) -> None:
        """Merge scored pairs: row ``row_ids[p]`` scores ``scores[p]`` in column ``columns[p]``.

        >>> acc = TopK(n_columns=2, k=1)
        >>> acc.update_pairs(np.array([0, 0, 1]), np.array([0.2, 0.7, 0.4]),
        ...                  np.array(["a", "b", "a"]), np.array([True, True, True]))
        >>> acc.result(0), acc.result(1)
        ([('b', 0.7)], [('a', 0.4)])
        """
        sel = np.flatnonzero(keep)
        if len(sel) == 0:
            return
        cols, sc = np.asarray(columns)[sel], np.asarray(scores, dtype=np.float64)[sel]
        ids = np.asarray(row_ids, dtype=np.str_)[sel]
        order = np.lexsort((ids, -sc, cols))
        cols, sc, ids = cols[order], sc[order], ids[order]
        rank = np.arange(len(cols)) - np.searchsorted(cols, cols, side="left")
        top = rank < self.k
        cols, sc, ids, rank = cols[top], sc[top], ids[top], rank[top]
        touched = np.unique(cols)
        where = np.searchsorted(touched, cols)
        sub = TopK(len(touched), self.k)
        sub.ids = sub.ids.astype(ids.dtype)
        sub.scores[rank, where] = sc
        sub.ids[rank, where] = ids
        self.merge(sub, touched)

    def merge(self, other: TopK, columns: np.ndarray | None = None) -> None:
        """Fold in another accumulator (e.g. another partition's).

        ``columns`` maps the other's columns to columns of this one (default: the
        same columns). The result does not depend on the order partial results
        are merged in.
        """
        if columns is None:
            if other.scores.shape[1] != self.scores.shape[1]:
                raise ValueError(
                    f"cannot merge top-k over {other.scores.shape[1]} columns into "
                    f"{self.scores.shape[1]}"
                )
            self.scores, self.ids = _fold(self.scores, self.ids, other.scores, other.ids, self.k)
            return
        scores, ids = _fold(
            self.scores[:, columns], self.ids[:, columns], other.scores, other.ids, self.k
        )
        self.ids = self.ids.astype(np.result_type(self.ids.dtype, ids.dtype))
        self.scores[:, columns] = scores
        self.ids[:, columns] = ids

    @property
    def kth(self) -> np.ndarray:
        """Each column's k-th best score so far (``-inf`` while fewer than k are known)."""
        return self.scores[-1] if self.k else np.full(self.scores.shape[1], np.inf)

    def result(self, column: int) -> list[tuple[str, float]]:
        return [
            (str(i), float(s))
            for i, s in zip(self.ids[:, column], self.scores[:, column])
            if np.isfinite(s)
        ]


def _fold(scores_a, ids_a, scores_b, ids_b, k: int):
    """The best ``k`` of two (rows x columns) score/id stacks, per column, ties by id."""
    all_scores = np.concatenate([scores_a, scores_b], axis=0).T  # columns x rows
    all_ids = np.concatenate([ids_a, ids_b], axis=0).T
    order = np.lexsort((all_ids, -all_scores), axis=-1)[:, :k]
    return (
        np.take_along_axis(all_scores, order, axis=1).T,
        np.take_along_axis(all_ids, order, axis=1).T,
    )


def _ranked_indices(scores: np.ndarray, ids: Sequence[str], keep: np.ndarray, k: int) -> list[int]:
    """Indices of the best ``k`` kept entries, ties broken by id."""
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return []
    order = np.lexsort((np.asarray(ids, dtype=str)[idx], -scores[idx]))
    return [int(i) for i in idx[order][:k]]


def rank_candidates(
    engine: MatchEngine,
    vacancy: Vacancy,
    candidates: Sequence[Candidate],
    *,
    top_k: int | None = None,
    include_filtered: bool = False,
    lang: str = "es",
) -> list[RankedMatch]:
    """The best ``top_k`` candidates for ``vacancy``, each with reasons and skill gaps.

    Pairs that fail a hard constraint (missing required certification or
    language, a region mismatch without relocation or remote work) are left
    out, unless ``include_filtered`` is true: then they follow the eligible
    ones, marked ``eligible=False`` with the reason.
    """
    k = top_k or engine.config.top_k
    scored = engine.score(engine.encode_candidates(candidates), engine.encode_vacancies([vacancy]))
    col = scored.scores[:, 0]
    ok = scored.eligible[:, 0]
    ids = [c.id for c in candidates]
    chosen = _ranked_indices(col, ids, ok, k)
    if include_filtered:
        chosen += _ranked_indices(col, ids, ~ok, len(candidates))
    return explain_pairs(engine, scored, chosen, [0] * len(chosen), range(1, len(chosen) + 1))


def rank_vacancies(
    engine: MatchEngine,
    candidate: Candidate,
    vacancies: Sequence[Vacancy],
    *,
    top_k: int | None = None,
    include_filtered: bool = False,
) -> list[RankedMatch]:
    """The best ``top_k`` vacancies for ``candidate`` (see :func:`rank_candidates`)."""
    k = top_k or engine.config.top_k
    scored = engine.score(engine.encode_candidates([candidate]), engine.encode_vacancies(vacancies))
    row = scored.scores[0]
    ok = scored.eligible[0]
    ids = [v.id for v in vacancies]
    chosen = _ranked_indices(row, ids, ok, k)
    if include_filtered:
        chosen += _ranked_indices(row, ids, ~ok, len(vacancies))
    return explain_pairs(engine, scored, [0] * len(chosen), chosen, range(1, len(chosen) + 1))


def explain(engine: MatchEngine, scored: ScoredPairs, i: int, j: int, *, rank: int) -> RankedMatch:
    """Reasons for the pair (candidate row ``i``, vacancy column ``j``) of ``scored``."""
    return explain_pairs(engine, scored, [i], [j], [rank])[0]


_PART_NAMES = ("required_coverage", "optional_coverage", "profile_coverage", "title_fit", "context")


def explain_pairs(
    engine: MatchEngine,
    scored: ScoredPairs,
    rows: Sequence[int],
    cols: Sequence[int],
    ranks: Sequence[int],
    *,
    langs: Sequence[str] = ("es", "en"),
) -> list[RankedMatch]:
    """:func:`explain` for many pairs ``(rows[p], cols[p])`` of ``scored`` at once.

    Feature vectors and score contributions are gathered and computed for all
    pairs in one call (a batch shortlist explains 100,000 pairs); only the
    paragraphs in ``langs`` are written.
    """
    if len(rows) == 0:
        return []
    r, c = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    shape = scored.features.shape
    x = np.column_stack(
        [np.broadcast_to(scored.features.columns[name], shape)[r, c] for name in FEATURES]
    )
    contrib = engine.scorer.contributions(x)
    with collector_paused():
        # Python's round (correctly rounded decimals), as every explanation has always shown.
        features = [[round(v, 6) for v in row] for row in x.tolist()]
        parts = [[round(v, 6) for v in row] for row in contrib.tolist()]
        held: dict[int, dict[int, tuple[int, Mention]]] = {}
        out = []
        for i, j, rank, f, p in zip(r.tolist(), c.tolist(), ranks, features, parts):
            if i not in held:
                held[i] = _held(scored.candidates.mentions[i])
            out.append(
                _explain_one(
                    engine,
                    scored,
                    i,
                    j,
                    rank,
                    dict(zip(FEATURES, f)),
                    dict(zip(_PART_NAMES, p)),
                    langs,
                    held[i],
                )
            )
        return out


def _held(mentions: Sequence[Mention]) -> dict[int, tuple[int, Mention]]:
    """Concept -> (position of its first mention, its best-scored mention)."""
    held: dict[int, tuple[int, Mention]] = {}
    for m in mentions:
        if m.concept >= 0:
            first = held.get(m.concept)
            if first is None:
                held[m.concept] = (len(held), m)
            elif m.score > first[1].score:
                held[m.concept] = (first[0], m)
    return held


def _explain_one(
    engine: MatchEngine,
    scored: ScoredPairs,
    i: int,
    j: int,
    rank: int,
    features: dict[str, float],
    contributions: dict[str, float],
    langs: Sequence[str],
    held: dict[int, tuple[int, Mention]],
) -> RankedMatch:
    tax = engine.taxonomy
    uris = tax.uris
    vacs = scored.vacancies
    relatives = engine.space.relatives

    matched: list[MatchedSkill] = []
    missing: list[SkillGap] = []
    unassessed: list[str] = []
    for kind, mentions in (
        ("required", vacs.required_mentions[j]),
        ("optional", vacs.optional_mentions[j]),
    ):
        for req in mentions:
            if req.concept < 0:
                if kind == "required":
                    unassessed.append(req.text)
                continue
            if req.concept in held:
                m = held[req.concept][1]
                matched.append(
                    MatchedSkill(
                        requirement=req.text,
                        kind=kind,
                        uri=str(uris[req.concept]),
                        label_es=tax.label(req.concept, "es"),
                        label_en=tax.label(req.concept, "en"),
                        candidate_text=m.text,
                        credit=round(m.score, 3),
                    )
                )
            elif kind == "required":
                # The strongest relative held; a tie goes to the skill written first.
                best_text, best_credit, best_at = None, 0.0, len(held)
                for concept, weight in relatives.get(req.concept, {}).items():
                    if concept in held:
                        at, m = held[concept]
                        credit = weight * m.score
                        if credit > best_credit or (credit == best_credit > 0 and at < best_at):
                            best_text, best_credit, best_at = m.text, credit, at
                missing.append(
                    SkillGap(
                        requirement=req.text,
                        uri=str(uris[req.concept]),
                        label_es=tax.label(req.concept, "es"),
                        label_en=tax.label(req.concept, "en"),
                        related_text=best_text,
                        related_credit=round(best_credit, 3),
                    )
                )
    score = float(scored.scores[i, j])
    mask = int(scored.features.filtered[i, j])
    match = RankedMatch(
        vacancy_id=vacs.ids[j],
        candidate_id=scored.candidates.ids[i],
        rank=rank,
        score=round(score, 6),
        eligible=mask == 0,
        filtered=filter_reasons(mask),
        features=features,
        contributions=contributions,
        matched=tuple(matched),
        missing=tuple(missing),
        unassessed=tuple(unassessed),
    )
    # The paragraphs read the match itself; set them on it before it leaves this function
    # (one object, not a copy a pair).
    object.__setattr__(
        match,
        "explanation",
        {lang: _paragraph(engine, scored, i, j, match, lang) for lang in langs},
    )
    return match


def _join(items: Sequence[str], lang: str, limit: int = 5) -> str:
    items = list(items)
    more = len(items) - limit
    shown = items[:limit]
    if more > 0:
        shown.append(f"{more} más" if lang == "es" else f"{more} more")
    if len(shown) <= 1:
        return "".join(shown)
    conj = " y " if lang == "es" else " and "
    return ", ".join(shown[:-1]) + conj + shown[-1]


def _paragraph(engine, scored, i: int, j: int, match: RankedMatch, lang: str) -> str:
    es = lang == "es"
    cands, vacs = scored.candidates, scored.vacancies
    req = [m for m in vacs.required_mentions[j] if m.concept >= 0]
    got_req = [s for s in match.matched if s.kind == "required"]
    got_opt = [s for s in match.matched if s.kind == "optional"]
    n_opt = sum(1 for m in vacs.optional_mentions[j] if m.concept >= 0)
    label = (lambda s: s.label_es) if es else (lambda s: s.label_en)
    parts = []
    pct = f"{match.score:.0%}"
    parts.append(f"Coincidencia {pct}." if es else f"Match {pct}.")
    if match.features.get("has_skills", 0) == 0:
        parts.append(
            "No se reconoció ninguna competencia en el perfil; sin evidencia, la puntuación es 0."
            if es
            else "No skill in the profile was recognised; without evidence the score is 0."
        )
    if req:
        covered = _join([label(s) for s in got_req], lang)
        if es:
            parts.append(
                f"Cubre {len(got_req)} de {len(req)} competencias requeridas"
                + (f" ({covered})." if got_req else ".")
            )
        else:
            parts.append(
                f"Covers {len(got_req)} of {len(req)} required skills"
                + (f" ({covered})." if got_req else ".")
            )
    if match.missing:
        gaps = _join([g.label_es if es else g.label_en for g in match.missing], lang)
        parts.append(
            f"Le falta: {gaps}; es la brecha a cubrir con formación."
            if es
            else f"Missing: {gaps}; this is the gap for training to close."
        )
        related = [g for g in match.missing if g.related_text]
        if related:
            g = related[0]
            parts.append(
                f"Tiene experiencia afín ('{g.related_text}' para {g.label_es})."
                if es
                else f"Has related experience ('{g.related_text}' for {g.label_en})."
            )
    if n_opt:
        parts.append(
            f"Competencias deseables: {len(got_opt)} de {n_opt}."
            if es
            else f"Nice-to-have skills: {len(got_opt)} of {n_opt}."
        )
    if match.unassessed:
        parts.append(
            f"No se pudo evaluar: {_join(list(match.unassessed), lang)} (texto no reconocido)."
            if es
            else f"Could not assess: {_join(list(match.unassessed), lang)} (unrecognised text)."
        )
    if match.features.get("title_fit", 0) > 0:
        occ = vacs.occupation[j]
        name = engine.taxonomy.label(int(occ), "es" if es else "en")
        parts.append(
            f"Ha trabajado en un puesto afín a «{name}»."
            if es
            else f"Has worked in a role close to '{name}'."
        )
    years, need = float(cands.experience[i]), float(vacs.min_experience[j])
    if need > 0:
        parts.append(
            f"Experiencia: {years:g} años (mínimo pedido: {need:g})."
            if es
            else f"Experience: {years:g} years (minimum asked: {need:g})."
        )
    parts.append(_location_sentence(cands, vacs, i, j, match, es))
    if match.filtered:
        reasons = []
        if "missing_certification" in match.filtered:
            asked = ", ".join(vacs.certification_text[j])
            reasons.append(
                f"le falta una certificación requerida ({asked})"
                if es
                else f"lacks a required certification ({asked})"
            )
        if "missing_language" in match.filtered:
            asked = ", ".join(sorted(vacs.languages[j]))
            reasons.append(
                f"no declara el idioma requerido ({asked})"
                if es
                else f"does not declare the required language ({asked})"
            )
        if "location" in match.filtered:
            reasons.append(
                "vive en otra región y no puede reubicarse"
                if es
                else "lives in another region and cannot relocate"
            )
        parts.append(("No elegible: " if es else "Not eligible: ") + "; ".join(reasons) + ".")
    return " ".join(p for p in parts if p)


def _location_sentence(cands, vacs, i, j, match, es: bool) -> str:
    where, there = cands.region_name[i], vacs.region_name[j]
    if vacs.remote[j]:
        return "Trabajo remoto." if es else "Remote work."
    if not where or not there:
        return "Ubicación sin datos." if es else "Location not given."
    if cands.region[i] == vacs.region[j]:
        return f"Vive en {where}, la misma región." if es else f"Lives in {where}, the same region."
    if cands.relocate[i]:
        return (
            f"Vive en {where} y está dispuesto/a a reubicarse a {there}."
            if es
            else f"Lives in {where} and is willing to relocate to {there}."
        )
    return (
        f"Vive en {where}; la vacante es en {there}."
        if es
        else f"Lives in {where}; the job is in {there}."
    )
