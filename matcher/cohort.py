"""Cohort selection end to end: score, reduce, solve, audit, explain.

:func:`select_cohort` is the one call a CLI command or an API router makes: candidates,
vacancies and :class:`CohortOptions` in, a :class:`CohortResult` of DataFrames out. No
files are touched here (see :mod:`matcher.cohort_io`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from matcher.assign import (
    Assignment,
    CandidatePairs,
    assign,
    double_booked,
    greedy_assign,
    top_pairs,
)
from matcher.exceptions import ConfigError, FieldProblem, ValidationError
from matcher.fairness import (
    FAIRNESS_ATTRIBUTES,
    NOT_STATED,
    group_codes,
    group_labels,
    selection_table,
)
from matcher.profiles import Candidate, Vacancy

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "TRAINING_COLUMNS",
    "VACANCY_FILL_COLUMNS",
    "WAITLIST_COLUMNS",
    "CohortOptions",
    "CohortPartial",
    "CohortResult",
    "cohort_partition",
    "select_cohort",
]

ASSIGNMENT_COLUMNS = ["vacancy_id", "candidate_id", "score", "rank", "locked"]
WAITLIST_COLUMNS = ["vacancy_id", "position", "candidate_id", "score", "rank"]
TRAINING_COLUMNS = ["vacancy_id", "skill_uri", "skill", "candidates_missing", "share_of_assigned"]
VACANCY_FILL_COLUMNS = ["vacancy_id", "title", "openings", "filled", "pool", "mean_score"]
#: Bins of the score histograms in the report.
SCORE_BINS = np.linspace(0.0, 1.0, 21)


@dataclass(frozen=True)
class CohortOptions:
    """What staff decide before a cohort is selected.

    Parameters
    ----------
    min_score : float
        Pairs scoring under this are never used (0-1).
    fairness_attribute : str, optional
        ``"gender"`` or ``"age_band"``: the groups of the fairness floor.
    min_impact_ratio : float, optional
        Every group's selection rate at least this share of the best group's (0.8: four-fifths).
    locked, excluded : tuple of (candidate_id, vacancy_id)
        Pairs a person locked in, or ruled out.
    households : tuple of tuples of candidate ids
        People placed together (all or none, vacancies of one region).
    waitlist_size : int
        Unassigned candidates listed per vacancy, best first.
    top_k : int, optional
        Pairs kept per vacancy (and group) for the solver. Default: the total openings, with
        which the reduction loses nothing; smaller values trade exactness for speed.
    reference_year : int
        Year ages are computed in (age bands).
    """

    min_score: float = 0.3
    fairness_attribute: str | None = None
    min_impact_ratio: float | None = None
    locked: tuple[tuple[str, str], ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()
    households: tuple[tuple[str, ...], ...] = ()
    waitlist_size: int = 5
    top_k: int | None = None
    reference_year: int = 2026

    def validate(self) -> None:
        problems = []
        if not 0.0 <= self.min_score <= 1.0:
            problems.append(f"min_score must be in [0, 1], got {self.min_score}")
        if self.fairness_attribute is not None and self.fairness_attribute not in (
            FAIRNESS_ATTRIBUTES
        ):
            problems.append(
                f"fairness_attribute must be one of {', '.join(FAIRNESS_ATTRIBUTES)}, "
                f"got {self.fairness_attribute!r}"
            )
        if self.min_impact_ratio is not None:
            if not 0.0 < self.min_impact_ratio <= 1.0:
                problems.append(f"min_impact_ratio must be in (0, 1], got {self.min_impact_ratio}")
            if self.fairness_attribute is None:
                problems.append("min_impact_ratio needs a fairness_attribute (gender or age_band)")
        if self.waitlist_size < 0:
            problems.append(f"waitlist_size must be >= 0, got {self.waitlist_size}")
        if self.top_k is not None and self.top_k < 1:
            problems.append(f"top_k must be >= 1, got {self.top_k}")
        if problems:
            raise ConfigError("cohort options: " + "; ".join(problems))


@dataclass(frozen=True, eq=False)
class CohortResult:
    """The selected cohort and everything the report shows about it."""

    assignments: pd.DataFrame
    waitlist: pd.DataFrame
    fairness: pd.DataFrame
    training_plan: pd.DataFrame
    vacancies: pd.DataFrame
    summary: dict[str, Any]
    options: CohortOptions
    histograms: dict[str, list[int]] = field(default_factory=dict)


def _check_ids(
    candidates: Sequence[Candidate], vacancies: Sequence[Vacancy], options: CohortOptions
) -> tuple[dict[str, int], dict[str, int]]:
    cand = {c.id: i for i, c in enumerate(candidates)}
    vac = {v.id: j for j, v in enumerate(vacancies)}
    problems = []
    for v in vacancies:
        if isinstance(v.openings, bool) or not float(v.openings).is_integer() or v.openings < 0:
            problems.append(
                FieldProblem(v.id, "openings", f"expected a whole number >= 0, got {v.openings!r}")
            )
    for kind, pairs in (("locked", options.locked), ("excluded", options.excluded)):
        for cid, vid in pairs:
            if cid not in cand:
                problems.append(FieldProblem(f"{cid},{vid}", kind, f"unknown candidate {cid!r}"))
            if vid not in vac:
                problems.append(FieldProblem(f"{cid},{vid}", kind, f"unknown vacancy {vid!r}"))
    if set(options.locked) & set(options.excluded):
        both = sorted(set(options.locked) & set(options.excluded))[0]
        problems.append(
            FieldProblem(f"{both[0]},{both[1]}", "locked", "is both locked and excluded")
        )
    seen: set[str] = set()
    for h, members in enumerate(options.households):
        for cid in members:
            if cid not in cand:
                problems.append(
                    FieldProblem(f"household {h + 1}", "candidate_id", f"unknown {cid!r}")
                )
            if cid in seen:
                problems.append(
                    FieldProblem(f"household {h + 1}", "candidate_id", f"{cid!r} in two households")
                )
            seen.add(cid)
    if problems:
        raise ValidationError(problems, source="cohort input")
    return cand, vac


def _ranks(pairs: CandidatePairs, ids: np.ndarray) -> np.ndarray:
    """Rank of every pair in its vacancy's shortlist (score desc, then candidate id)."""
    order = np.lexsort((ids[pairs.rows], -pairs.scores, pairs.cols))
    cols = pairs.cols[order]
    starts = np.searchsorted(cols, np.arange(pairs.n_vacancies))
    rank = np.empty(len(pairs), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts[cols] + 1
    return rank


def select_cohort(
    engine: Any,
    candidates: Sequence[Candidate],
    vacancies: Sequence[Vacancy],
    options: CohortOptions | None = None,
    *,
    backend: Any = None,
    partitions: Sequence[Any] | None = None,
    engine_spec: Any = None,
) -> CohortResult:
    """Choose who is offered which vacancy: the assignment of maximum total score.

    Parameters
    ----------
    engine : MatchEngine
    candidates, vacancies : sequences of Candidate and Vacancy
    options : CohortOptions, optional
    backend : ExecutionBackend, optional
        Where the pairs are scored, partition by partition (default: a
        :class:`~matcher.backends.LocalBackend` in this process). The result does
        not depend on it.
    partitions : sequence of partitions, optional
        The candidates as partitions the backend's workers load themselves (e.g.
        :class:`~matcher.io.InputPartition` of the file ``candidates`` came from, in
        the same order). Default: ``candidates`` as one in-memory partition.
    engine_spec : EngineSpec, optional
        How workers build their engine (default: ``engine`` itself is sent to them).

    Returns
    -------
    CohortResult

    Raises
    ------
    ConfigError
        Invalid options, an unknown fairness attribute, a locked pair failing a hard
        constraint, or locks that cannot hold together.
    ValidationError
        Unknown ids in locks, exclusions or households; openings that are not whole numbers.

    Examples
    --------
    >>> from matcher.io import load_engine
    >>> from matcher.profiles import parse_candidates, parse_vacancies
    >>> engine = load_engine()
    >>> vacs = parse_vacancies([{"id": "V1", "employer_id": "E1", "title": "Empalmador",
    ...     "required_skills": ["empalme de fibra óptica"], "region": "Lima", "openings": 1}])
    >>> cands = parse_candidates([
    ...     {"id": "A", "skills": ["empalme de fibra optica"], "region": "Lima", "gender": "F"},
    ...     {"id": "B", "skills": ["gestión de residuos"], "region": "Lima", "gender": "M"}])
    >>> result = select_cohort(engine, cands, vacs, CohortOptions(min_score=0.2))
    >>> result.assignments[["vacancy_id", "candidate_id", "rank"]].to_dict("records")
    [{'vacancy_id': 'V1', 'candidate_id': 'A', 'rank': 1}]
    """
    started = time.perf_counter()
    options = options or CohortOptions()
    options.validate()
    cand_index, vac_index = _check_ids(candidates, vacancies, options)
    n, m = len(candidates), len(vacancies)
    caps = np.array([int(v.openings) for v in vacancies], dtype=np.int64)
    ids = np.array([c.id for c in candidates], dtype=object)

    # Audit groups: read here for the constraint and the audit only, never for scoring.
    attributes = [options.fairness_attribute] if options.fairness_attribute else []
    audit = attributes or list(FAIRNESS_ATTRIBUTES)
    labels = {a: group_labels(candidates, a, reference_year=options.reference_year) for a in audit}
    codes = None
    if options.fairness_attribute and options.min_impact_ratio:
        codes, _ = group_codes(labels[options.fairness_attribute])

    locked = {(cand_index[c], vac_index[v]) for c, v in options.locked}
    excluded = {(cand_index[c], vac_index[v]) for c, v in options.excluded}
    vb = engine.encode_vacancies(vacancies)
    allowed, hist_all = _score_pairs(
        engine, vb, candidates, options.min_score, locked, backend, partitions, engine_spec
    )
    scored_at = time.perf_counter()
    rank_all = _ranks(allowed, ids)
    if excluded:
        keep = np.array(
            [(int(i), int(j)) not in excluded for i, j in zip(allowed.rows, allowed.cols)],
            dtype=bool,
        )
        pool, pool_rank = allowed.subset(keep), rank_all[keep]
    else:
        pool, pool_rank = allowed, rank_all
    must_keep = np.array(
        sorted({i for i, _ in locked} | {cand_index[c] for h in options.households for c in h}),
        dtype=np.int64,
    )
    k = options.top_k or max(1, int(caps.sum()))
    solver_pairs = top_pairs(
        pool, k, groups=None if codes is None else codes + 1, keep_rows=must_keep
    )
    key = {(int(i), int(j)): p for p, (i, j) in enumerate(zip(pool.rows, pool.cols))}
    solver_rank = np.array(
        [pool_rank[key[(int(i), int(j))]] for i, j in zip(solver_pairs.rows, solver_pairs.cols)],
        dtype=np.int64,
    )
    skey = {
        (int(i), int(j)): p for p, (i, j) in enumerate(zip(solver_pairs.rows, solver_pairs.cols))
    }
    locked_pos = [skey[(i, j)] for i, j in sorted(locked)]
    households = [[cand_index[c] for c in h] for h in options.households]
    regions = np.array([v.region or "" for v in vacancies], dtype=object)
    common = {"locked": locked_pos, "households": households, "vacancy_regions": regions}
    result = assign(
        solver_pairs,
        caps,
        groups=codes,
        min_impact_ratio=options.min_impact_ratio if codes is not None else None,
        **common,  # type: ignore[arg-type]
    )
    unconstrained: Assignment | None = None
    if codes is not None:
        unconstrained = assign(solver_pairs, caps, **common)  # type: ignore[arg-type]
    greedy = greedy_assign(solver_pairs, caps)
    solve_seconds = time.perf_counter() - started

    chosen_pos = [skey[(int(i), int(j))] for i, j in zip(result.rows, result.cols)]
    assignments = pd.DataFrame(
        {
            "vacancy_id": [vacancies[j].id for j in result.cols],
            "candidate_id": [ids[i] for i in result.rows],
            "score": np.round(result.scores, 4),
            "rank": solver_rank[chosen_pos] if chosen_pos else np.zeros(0, dtype=np.int64),
            "locked": [(int(i), int(j)) in locked for i, j in zip(result.rows, result.cols)],
        },
        columns=ASSIGNMENT_COLUMNS,
    )
    order = {v.id: j for j, v in enumerate(vacancies)}
    assignments = assignments.sort_values(
        ["vacancy_id", "rank"], key=lambda s: s.map(order) if s.name == "vacancy_id" else s
    ).reset_index(drop=True)

    taken = np.zeros(n, dtype=bool)
    taken[result.rows] = True
    free = ~taken[pool.rows]
    wait_rows = []
    if options.waitlist_size and free.any():
        sub_rows, sub_cols, sub_scores, sub_rank = (
            pool.rows[free],
            pool.cols[free],
            pool.scores[free],
            pool_rank[free],
        )
        sort = np.lexsort((sub_rank, sub_cols))
        per: dict[int, int] = {}
        for p in sort:
            j = int(sub_cols[p])
            if per.get(j, 0) < options.waitlist_size:
                per[j] = per.get(j, 0) + 1
                wait_rows.append(
                    {
                        "vacancy_id": vacancies[j].id,
                        "position": per[j],
                        "candidate_id": ids[sub_rows[p]],
                        "score": round(float(sub_scores[p]), 4),
                        "rank": int(sub_rank[p]),
                    }
                )
    waitlist = pd.DataFrame(wait_rows, columns=WAITLIST_COLUMNS)

    ratio = options.min_impact_ratio or 0.8
    fairness = pd.concat(
        [
            selection_table(labels[a], taken, min_impact_ratio=ratio).assign(attribute=a)
            for a in audit
        ],
        ignore_index=True,
    )
    fairness = fairness[["attribute", *[c for c in fairness.columns if c != "attribute"]]]

    training = _training_plan(engine, candidates, vacancies, result)
    filled = np.bincount(result.cols, minlength=m)
    pool_count = np.bincount(pool.cols, minlength=m)
    sums = np.bincount(result.cols, weights=result.scores, minlength=m)
    fill = pd.DataFrame(
        {
            "vacancy_id": [v.id for v in vacancies],
            "title": [v.title for v in vacancies],
            "openings": caps,
            "filled": filled,
            "pool": pool_count,
            "mean_score": np.round(np.divide(sums, np.maximum(filled, 1)), 4),
        },
        columns=VACANCY_FILL_COLUMNS,
    )
    stated_fair = bool(
        fairness.loc[fairness["attribute"] == (options.fairness_attribute or ""), "passes"].all()
    )
    summary: dict[str, Any] = {
        "candidates": n,
        "vacancies": m,
        "openings": int(caps.sum()),
        "filled": result.filled,
        "total_score": round(result.total, 6),
        "mean_score": round(result.total / result.filled, 4) if result.filled else 0.0,
        "solver": result.solver,
        "pairs_allowed": len(pool),
        "pairs_solved": len(solver_pairs),
        "top_k": k,
        "exact_reduction": options.top_k is None or k >= int(caps.sum()),
        "min_score": options.min_score,
        "locked": len(locked),
        "excluded": len(excluded),
        "households": len(households),
        "greedy_total": round(greedy.total, 6),
        "greedy_filled": greedy.filled,
        "double_booked": double_booked(solver_pairs, caps),
        "fairness_attribute": options.fairness_attribute,
        "min_impact_ratio": options.min_impact_ratio,
        "fairness_feasible": result.fairness_feasible,
        "fairness_met": stated_fair if options.fairness_attribute else None,
        "unconstrained_total": round(unconstrained.total, 6) if unconstrained else None,
        "unconstrained_filled": unconstrained.filled if unconstrained else None,
        "seconds": round(solve_seconds, 3),
        "score_seconds": round(scored_at - started, 3),
        "solve_seconds": round(solve_seconds - (scored_at - started), 3),
        "not_stated": NOT_STATED,
    }
    histograms = {
        "eligible": hist_all.tolist(),
        "assigned": np.histogram(result.scores, bins=SCORE_BINS)[0].tolist(),
    }
    return CohortResult(
        assignments, waitlist, fairness, training, fill, summary, options, histograms
    )


@dataclass(frozen=True, eq=False)
class CohortPartial:
    """What one partition of candidates contributes to a cohort (rows are global)."""

    rows: np.ndarray
    cols: np.ndarray
    scores: np.ndarray
    histogram: np.ndarray
    locked_scores: tuple[tuple[int, int, float], ...]
    locked_failures: tuple[tuple[int, int, str], ...]


def cohort_partition(
    engine: Any,
    vb: Any,
    candidates: Sequence[Candidate],
    *,
    offset: int,
    min_score: float,
    locked: Sequence[tuple[int, int]] = (),
) -> CohortPartial:
    """The per-partition step of :func:`select_cohort`: the pairs of ``candidates`` it may use.

    ``offset`` is the global row of ``candidates[0]``; ``locked`` are global
    ``(row, column)`` pairs (those of other partitions are ignored). Returns the
    eligible pairs scoring at least ``min_score``, the histogram of eligible scores,
    and the score of every locked pair of the partition, or why it is not eligible.
    Pure and picklable, so an execution backend can run it anywhere.
    """
    from matcher.batch import score_in_blocks

    rows, cols, vals = [], [], []
    locked_scores: list[tuple[int, int, float]] = []
    failures: list[tuple[int, int, str]] = []
    hist = np.zeros(len(SCORE_BINS) - 1, dtype=np.int64)
    start = offset
    for block, scored in score_in_blocks(engine, candidates, vb):
        scores, eligible = scored.scores, scored.eligible
        hist += np.histogram(scores[eligible], bins=SCORE_BINS)[0]
        r, c = np.nonzero(eligible & (scores >= min_score))
        rows.append(r + start)
        cols.append(c)
        vals.append(scores[r, c])
        for i, j in locked:
            if start <= i < start + len(block):
                if not eligible[i - start, j]:
                    from matcher.ranking import explain

                    reasons = explain(engine, scored, i - start, j, rank=0).filtered
                    failures.append((i, j, ", ".join(reasons) or "not eligible"))
                else:
                    locked_scores.append((i, j, float(scores[i - start, j])))
        start += len(block)
    empty = np.zeros(0, dtype=np.int64)
    return CohortPartial(
        np.concatenate(rows) if rows else empty,
        np.concatenate(cols) if cols else empty,
        np.concatenate(vals) if vals else empty.astype(float),
        hist,
        tuple(locked_scores),
        tuple(failures),
    )


def _score_pairs(
    engine: Any,
    vb: Any,
    candidates: Sequence[Candidate],
    min_score: float,
    locked: set[tuple[int, int]],
    backend: Any,
    partitions: Sequence[Any] | None,
    engine_spec: Any,
) -> tuple[CandidatePairs, np.ndarray]:
    """Every allowed pair (and the eligible-score histogram), partitions run by ``backend``."""
    from matcher.backends import LocalBackend, memory_partitions

    n, m = len(candidates), len(vb)
    parts = list(partitions) if partitions is not None else memory_partitions(candidates)
    runner = backend if backend is not None else LocalBackend()
    partials = dict(
        runner.run_partitions(
            cohort_partition,
            engine_spec if engine_spec is not None else engine,
            vb,
            parts,
            offset_keyword="offset",
            min_score=min_score,
            locked=tuple(sorted(locked)),
        )
    )
    ordered = [partials[p.index] for p in sorted(parts, key=lambda p: p.offset)]
    failures = sorted(f for part in ordered for f in part.locked_failures)
    if failures:
        i, j, reasons = failures[0]
        raise ConfigError(
            f"locked pair ({candidates[i].id}, {vb.ids[j]}) fails a hard constraint "
            f"({reasons}); unlock it or fix the record"
        )
    empty = np.zeros(0, dtype=np.int64)
    allowed = CandidatePairs(
        np.concatenate([p.rows for p in ordered]) if ordered else empty,
        np.concatenate([p.cols for p in ordered]) if ordered else empty,
        np.concatenate([p.scores for p in ordered]) if ordered else empty.astype(float),
        n,
        m,
    )
    hist = np.zeros(len(SCORE_BINS) - 1, dtype=np.int64)
    for part in ordered:
        hist += part.histogram
    # A lock is a person's decision: kept even under the minimum score.
    extra = sorted((i, j, s) for part in ordered for i, j, s in part.locked_scores if s < min_score)
    if extra:
        allowed = CandidatePairs(
            np.r_[allowed.rows, [e[0] for e in extra]],
            np.r_[allowed.cols, [e[1] for e in extra]],
            np.r_[allowed.scores, [e[2] for e in extra]],
            n,
            m,
        )
    return allowed, hist


def _training_plan(
    engine: Any, candidates: Sequence[Candidate], vacancies: Sequence[Vacancy], result: Assignment
) -> pd.DataFrame:
    """Required skills the assigned people lack, counted per vacancy (both languages)."""
    from matcher.ranking import explain

    if result.filled == 0:
        return pd.DataFrame(
            columns=[*TRAINING_COLUMNS[:2], "skill_es", "skill_en", *TRAINING_COLUMNS[3:]]
        )
    rows_used = sorted(set(result.rows.tolist()))
    local = {i: k for k, i in enumerate(rows_used)}
    scored = engine.score(
        engine.encode_candidates([candidates[i] for i in rows_used]),
        engine.encode_vacancies(vacancies),
    )
    counts: dict[tuple[int, str], list[Any]] = {}
    for i, j in zip(result.rows, result.cols):
        match = explain(engine, scored, local[int(i)], int(j), rank=0)
        for gap in match.missing:
            entry = counts.setdefault((int(j), gap.uri), [gap.label_es, gap.label_en, 0])
            entry[2] += 1
    filled = np.bincount(result.cols, minlength=len(vacancies))
    table = pd.DataFrame(
        [
            {
                "vacancy_id": vacancies[j].id,
                "skill_uri": uri,
                "skill_es": es,
                "skill_en": en,
                "candidates_missing": count,
                "share_of_assigned": round(count / filled[j], 3),
                "_order": j,
            }
            for (j, uri), (es, en, count) in counts.items()
        ],
        columns=[
            "vacancy_id",
            "skill_uri",
            "skill_es",
            "skill_en",
            "candidates_missing",
            "share_of_assigned",
            "_order",
        ],
    )
    table = table.sort_values(
        ["_order", "candidates_missing", "skill_uri"], ascending=[True, False, True]
    )
    return table.drop(columns="_order").reset_index(drop=True)
