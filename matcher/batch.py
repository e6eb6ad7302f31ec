"""Batch mode: shortlists for every vacancy, or matches for every candidate, over large inputs.

Candidates arrive in chunks; memory holds one chunk's pairs and a running top-k
per vacancy (vacancies x k), never all candidates x vacancies. Explanations are
computed only for the pairs that make the final lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from matcher.engine import MatchEngine
from matcher.features import CandidateBatch, VacancyBatch
from matcher.profiles import Candidate, Vacancy
from matcher.ranking import RankedMatch, TopK, _ranked_indices, explain_pairs
from matcher.search import top_candidates

__all__ = [
    "MATCHES_COLUMNS",
    "SHORTLIST_COLUMNS",
    "best_matches",
    "matches_partition",
    "score_in_blocks",
    "shortlist_partition",
    "shortlist_result",
    "shortlist_table",
    "shortlist_top",
]

#: Candidates searched together: more prune better, memory grows ~3 KB a candidate.
SEARCH_ROWS = 100_000

#: Vacancies explained together (with their finalists only).
EXPLAIN_VACANCIES = 128

#: Candidates normalised in one batch call.
ENCODE_ROWS = 5_000

#: Pairs scored at once: bounds the feature block (features x pairs x 8 bytes, ~160 MB).
MAX_PAIRS_PER_BLOCK = 2_000_000

SHORTLIST_COLUMNS = [
    "vacancy_id",
    "rank",
    "candidate_id",
    "score",
    "matched_skills",
    "missing_skills",
    "explanation",
]
MATCHES_COLUMNS = [
    "candidate_id",
    "rank",
    "vacancy_id",
    "score",
    "matched_skills",
    "missing_skills",
    "explanation",
]


def shortlist_top(
    engine: MatchEngine,
    vacancies: Sequence[Vacancy],
    candidate_chunks: Iterable[Sequence[Candidate]],
    *,
    top_k: int,
    on_chunk: Callable[[int], None] | None = None,
    search_rows: int = SEARCH_ROWS,
    n_threads: int | None = None,
) -> dict[str, list[tuple[str, float]]]:
    """The ``top_k`` eligible candidate ids and scores for every vacancy, in rank order.

    Candidates are normalised chunk by chunk and searched ``search_rows`` at a time
    (:func:`matcher.search.top_candidates`: exact, most pairs never scored); what
    earlier searches found is the floor of the next one.
    """
    vb = engine.encode_vacancies(vacancies)
    acc = TopK(len(vacancies), top_k)
    pending: list[CandidateBatch] = []

    def search() -> None:
        batch = CandidateBatch.concat(pending)
        acc.merge(
            top_candidates(engine, batch, vb, top_k=top_k, floor=acc.kth, n_threads=n_threads)
        )
        pending.clear()

    for chunk in candidate_chunks:
        if chunk:
            pending.append(engine.encode_candidates(chunk, mentions=False))
            if sum(map(len, pending)) >= search_rows:
                search()
            if on_chunk is not None:
                on_chunk(len(chunk))
    if pending:
        search()
    return shortlist_result(acc, vb)


def shortlist_partition(
    engine: MatchEngine,
    vb: VacancyBatch,
    candidates: Sequence[Candidate],
    *,
    top_k: int,
    floor: np.ndarray | None = None,
    n_threads: int | None = None,
) -> TopK:
    """The per-partition step of a shortlist: this partition's top ``top_k`` per vacancy.

    Pure and picklable in and out, so that an execution backend can run it
    anywhere; partial results combine with :meth:`TopK.merge` in any order.
    ``floor`` (per vacancy) is the k-th best score already known from other
    partitions: candidates under it are not needed (see
    :func:`matcher.search.top_candidates`). The search is exact: the merged
    result equals scoring every pair.
    """
    if not candidates:
        return TopK(len(vb), top_k)
    # Normalised a chunk at a time; the written mentions are only needed to explain
    # the finalists, which are encoded again for that.
    encoded = [
        engine.encode_candidates(candidates[lo : lo + ENCODE_ROWS], mentions=False)
        for lo in range(0, len(candidates), ENCODE_ROWS)
    ]
    cb = CandidateBatch.concat(encoded)
    return top_candidates(engine, cb, vb, top_k=top_k, floor=floor, n_threads=n_threads)


def shortlist_result(acc: TopK, vb: VacancyBatch) -> dict[str, list[tuple[str, float]]]:
    """Vacancy id -> ranked ``(candidate_id, score)`` pairs of a merged accumulator."""
    return {vid: acc.result(j) for j, vid in enumerate(vb.ids)}


def score_in_blocks(engine: MatchEngine, candidates: Sequence[Candidate], vb):
    """Score ``candidates`` against an encoded vacancy batch in blocks of bounded size.

    Yields ``(block_of_candidates, ScoredPairs)``; normalisation of the whole
    chunk happens once (one batch call), scoring block by block.
    """
    if not candidates:
        return
    cb_all = engine.encode_candidates(candidates)
    rows = max(1, MAX_PAIRS_PER_BLOCK // max(1, len(vb)))
    for lo in range(0, len(candidates), rows):
        block = candidates[lo : lo + rows]
        cb = cb_all if len(block) == len(candidates) else cb_all.rows(slice(lo, lo + rows))
        yield block, engine.score(cb, vb)


def _row(match: RankedMatch, lang: str, first: str, second: str) -> dict[str, object]:
    label = (lambda s: s.label_es) if lang == "es" else (lambda s: s.label_en)
    return {
        first: getattr(match, first),
        "rank": match.rank,
        second: getattr(match, second),
        "score": round(match.score, 4),
        "matched_skills": "|".join(label(s) for s in match.matched if s.kind == "required")
        + "".join("|" + label(s) for s in match.matched if s.kind == "optional"),
        "missing_skills": "|".join(
            g.label_es if lang == "es" else g.label_en for g in match.missing
        ),
        "explanation": match.explanation[lang],
    }


def shortlist_table(
    engine: MatchEngine,
    vacancies: Sequence[Vacancy] | VacancyBatch,
    top: dict[str, list[tuple[str, float]]],
    candidates: Sequence[Candidate],
    *,
    lang: str = "es",
) -> pd.DataFrame:
    """Explained shortlist rows (:data:`SHORTLIST_COLUMNS`) for the ``top`` pairs.

    ``vacancies`` may be given already encoded (the batch that was searched).
    ``candidates`` must include every candidate named in ``top`` (others are ignored).
    """
    wanted = {cid for pairs in top.values() for cid, _ in pairs}
    chosen = [c for c in candidates if c.id in wanted]
    if not chosen:
        return pd.DataFrame(columns=SHORTLIST_COLUMNS)
    cb = engine.encode_candidates(chosen)
    vb = vacancies if isinstance(vacancies, VacancyBatch) else engine.encode_vacancies(vacancies)
    row_of = {c.id: i for i, c in enumerate(chosen)}
    rows = []
    # A block of vacancies against its own finalists only: memory stays bounded by the
    # block, however many vacancies and finalists there are.
    for lo in range(0, len(vb), EXPLAIN_VACANCIES):
        cols = np.arange(lo, min(len(vb), lo + EXPLAIN_VACANCIES))
        ranked = [top.get(vb.ids[j], []) for j in cols.tolist()]
        need = sorted({row_of[cid] for pairs in ranked for cid, _ in pairs})
        if not need:
            continue
        scored = engine.score(cb.take(np.array(need)), vb.take(cols))
        local = {row: i for i, row in enumerate(need)}
        pair_rows, pair_cols, ranks = [], [], []
        for p, pairs in enumerate(ranked):
            for rank, (cid, _) in enumerate(pairs, start=1):
                pair_rows.append(local[row_of[cid]])
                pair_cols.append(p)
                ranks.append(rank)
        for match in explain_pairs(engine, scored, pair_rows, pair_cols, ranks, langs=(lang,)):
            rows.append(_row(match, lang, "vacancy_id", "candidate_id"))
    return pd.DataFrame(rows, columns=SHORTLIST_COLUMNS)


def best_matches(
    engine: MatchEngine,
    vacancies: Sequence[Vacancy],
    candidate_chunks: Iterable[Sequence[Candidate]],
    *,
    top_k: int,
    lang: str = "es",
) -> Iterator[pd.DataFrame]:
    """Every candidate's ``top_k`` eligible vacancies (:data:`MATCHES_COLUMNS`), chunk by chunk."""
    vb = engine.encode_vacancies(vacancies)
    for chunk in candidate_chunks:
        if chunk:
            yield matches_partition(engine, vb, chunk, top_k=top_k, lang=lang)


def matches_partition(
    engine: MatchEngine,
    vb: VacancyBatch,
    candidates: Sequence[Candidate],
    *,
    top_k: int,
    lang: str = "es",
) -> pd.DataFrame:
    """The per-partition step of ``matches``: explained rows (:data:`MATCHES_COLUMNS`).

    Every candidate's result depends on that candidate alone, so partitions are
    independent and their frames concatenate in input order.
    """
    ids = list(vb.ids)
    rows = []
    for block, scored in score_in_blocks(engine, candidates, vb):
        pair_rows: list[int] = []
        pair_cols: list[int] = []
        ranks: list[int] = []
        for i in range(len(block)):
            chosen = _ranked_indices(scored.scores[i], ids, scored.eligible[i], top_k)
            pair_rows += [i] * len(chosen)
            pair_cols += chosen
            ranks += range(1, len(chosen) + 1)
        for match in explain_pairs(engine, scored, pair_rows, pair_cols, ranks, langs=(lang,)):
            rows.append(_row(match, lang, "candidate_id", "vacancy_id"))
    return pd.DataFrame(rows, columns=MATCHES_COLUMNS)
