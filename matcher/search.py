"""Exact top-k shortlists without scoring every pair: block bounds, then exact scores.

Scoring every candidate against every vacancy costs ``n x m`` feature rows; a
national register (100,000 x 10,000) makes that a billion. Most of those pairs
cannot reach a shortlist, and a cheap bound proves it:

1. The default scorer is bounded by a *linear* function of the skill features
   (:meth:`~matcher.scorer.MatchScorer.bound_coefficients`): experience and
   location only scale a score down. So ``score(i, j) <= x_i . y_j`` where
   ``x_i`` stacks a candidate's expanded skills (related-skill credit included)
   and title fits, and ``y_j`` holds the vacancy's per-concept weights.
2. Candidates are ordered so that similar profiles sit together (by the ESCO
   occupation their skills fit best) and cut into blocks. A block's
   element-wise maximum ``u_b`` bounds every member: ``x_i . y_j <= u_b . y_j``.
   All block bounds are one small sparse product.
3. Vacancies are taken in groups of similar ones. For each group, the
   candidates of each vacancy's most promising blocks are scored *exactly*
   (the same :meth:`~matcher.engine.MatchEngine.score` as every other path),
   which sets each vacancy's k-th best score ``tau``. Every block whose bound
   reaches some ``tau`` is then scored exactly too; the others cannot reach
   the shortlist and are never touched.

The result equals the exhaustive search: same ids, same scores (they come from
the same arithmetic), same tie-breaks by id. Scorers without a bound (a learnt
:class:`~matcher.learned.OutcomeScorer`) take the exhaustive path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from matcher.features import (
    CandidateBatch,
    VacancyBatch,
    VacancySkills,
    location_blocked,
    pair_features_at,
    skill_sums,
)
from matcher.ranking import TopK

if TYPE_CHECKING:
    from matcher.engine import MatchEngine

__all__ = ["BLOCK_SIZE", "GROUP_SIZE", "SearchStats", "top_candidates"]

#: Candidates per bound block: smaller blocks bound tighter, but there are more of them.
BLOCK_SIZE = 16
#: Candidates whose block bounds are built at once (bounds the transient memory).
BLOCK_ROWS = 16_384
#: Vacancies searched together (they share the exact-scoring calls).
GROUP_SIZE = 64
#: Candidate x vacancy cells whose skill sums are held at once (4 x 8 bytes each).
MAX_PAIRS = 1_000_000
#: Warm start: blocks per vacancy searched first, and candidates per vacancy (x top_k)
#: scored exactly from them.
WARM_BLOCKS = 4
WARM_ROWS = 3
WARM_DEEPER = 8
# A bound is compared with a margin so that rounding can never prune a pair that ties.
_REL_MARGIN = 1e-9
_ABS_MARGIN = 1e-12


class SearchStats:
    """What the search did: pairs in the problem, pairs scored exactly, rows swept."""

    def __init__(self) -> None:
        self.pairs = 0
        self.scored = 0
        self.swept_rows = 0
        self.full_scans = 0

    @property
    def pruned_share(self) -> float:
        return 1.0 - self.scored / self.pairs if self.pairs else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "pairs": self.pairs,
            "scored_exactly": self.scored,
            "pruned_share": round(self.pruned_share, 4),
            "candidate_rows_swept": self.swept_rows,
            "vacancies_scanned_fully": self.full_scans,
        }


def _bounded(engine: MatchEngine):
    return getattr(engine.scorer, "bound_coefficients", None)


def _bound_weights(engine: MatchEngine, vb: VacancyBatch) -> list[np.ndarray]:
    """Per-vacancy multipliers of the required, optional and profile sums and the title
    fit in the linear score bound (coverage is a sum over the count asked)."""
    n_req, n_opt, n_prof = vb.n_required, vb.n_optional, vb.n_profile
    coef = engine.scorer.bound_coefficients(  # type: ignore[attr-defined]
        {
            "has_required": (n_req > 0).astype(np.float64),
            "has_optional": (n_opt > 0).astype(np.float64),
            "has_occupation": (vb.occupation >= 0).astype(np.float64),
        }
    )

    def per_unit(c: np.ndarray, count: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count > 0, c / np.where(count > 0, count, 1.0), 0.0)

    return [
        per_unit(coef["required_coverage"], n_req),
        per_unit(coef["optional_coverage"], n_opt),
        per_unit(coef["profile_coverage"], n_prof),
        coef["title_fit"],
    ]


def _vacancy_weights(engine: MatchEngine, vb: VacancyBatch) -> sparse.csr_matrix:
    """``y_j``: per-concept weights of each vacancy over [skills | titles] columns."""
    k = len(engine.space.taxonomy)
    w_req, w_opt, w_prof, w_title = _bound_weights(engine, vb)
    skills = (
        sparse.diags(w_req) @ vb.required
        + sparse.diags(w_opt) @ vb.optional
        + sparse.diags(w_prof) @ vb.profile
    )
    rows = np.flatnonzero(vb.occupation >= 0)
    title_w = w_title[rows] * vb.occupation_confidence[rows]
    titles = sparse.csr_matrix((title_w, (rows, vb.occupation[rows])), shape=(len(vb), k))
    return sparse.hstack([skills, titles], format="csr")


def _order(engine: MatchEngine, skills: sparse.csr_matrix, titles: sparse.csr_matrix) -> np.ndarray:
    """Rows ordered so that similar profiles are neighbours: by best-fitting occupation."""
    best = _row_argmax((skills @ engine.space.profiles.T).tocsr())
    second = _row_argmax(titles.tocsr())
    return np.lexsort((np.arange(len(best)), second, best))


def _row_argmax(matrix: sparse.csr_matrix) -> np.ndarray:
    """Column of each row's largest stored value (the lowest on ties); -1 for empty rows."""
    out = np.full(matrix.shape[0], -1, dtype=np.int64)
    if matrix.nnz == 0:
        return out
    matrix = matrix.copy()
    matrix.sort_indices()
    lengths = np.diff(matrix.indptr)
    filled = np.flatnonzero(lengths)
    peak = np.maximum.reduceat(matrix.data, matrix.indptr[filled])
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    row_peak = np.zeros(matrix.shape[0])
    row_peak[filled] = peak
    at_peak = np.flatnonzero(matrix.data == np.repeat(row_peak, lengths))
    first = at_peak[np.r_[True, rows[at_peak][1:] != rows[at_peak][:-1]]]
    out[rows[first]] = matrix.indices[first]
    return out


def _block_max(x: sparse.csr_matrix, rows: np.ndarray) -> sparse.csr_matrix:
    """Element-wise maximum of each run of ``BLOCK_SIZE`` of ``rows`` (in that order).

    Linear time: the block's rows, stacked as one row with repeated columns, are
    transposed (a counting sort by column, which keeps the repeats side by side)
    and each run of equal (column, block) reduced with ``max``.
    """
    n, width = len(rows), x.shape[1]
    n_blocks = -(-n // BLOCK_SIZE)
    xo = x[rows]
    cuts = xo.indptr[np.minimum(np.arange(n_blocks + 1) * BLOCK_SIZE, n)]
    stacked = sparse.csr_matrix((xo.data, xo.indices, cuts), shape=(n_blocks, width))
    col_major = stacked.tocsc()
    blocks = col_major.indices
    if len(blocks) == 0:
        return sparse.csr_matrix((n_blocks, width))
    cols = np.repeat(np.arange(width, dtype=np.int32), np.diff(col_major.indptr))
    starts = np.flatnonzero(np.r_[True, (blocks[1:] != blocks[:-1]) | (cols[1:] != cols[:-1])])
    peak = np.maximum.reduceat(col_major.data, starts)
    return sparse.csr_matrix((peak, (blocks[starts], cols[starts])), shape=(n_blocks, width))


def top_candidates(
    engine: MatchEngine,
    candidates: CandidateBatch,
    vacancies: VacancyBatch,
    *,
    top_k: int,
    floor: np.ndarray | None = None,
    n_threads: int | None = None,
    stats: SearchStats | None = None,
) -> TopK:
    """Each vacancy's best ``top_k`` eligible candidates: exactly the exhaustive result.

    Parameters
    ----------
    engine : MatchEngine
    candidates, vacancies : encoded batches (``engine.encode_*``)
    top_k : int
    floor : array, optional
        Per vacancy, a score the result need not go under: the k-th best score of
        candidates already ranked elsewhere (other partitions), so that pairs scoring
        less cannot enter the merged shortlist. Pairs scoring below it may be left
        out; pairs equal to it are kept (ties are broken by id on merging).
    n_threads : int, optional
        Threads searching vacancy groups side by side (default 1).
    stats : SearchStats, optional
        Filled with how many pairs were scored exactly.

    Examples
    --------
    >>> from matcher.io import load_engine
    >>> from matcher.profiles import parse_candidates, parse_vacancies
    >>> engine = load_engine()
    >>> vb = engine.encode_vacancies(parse_vacancies([{"id": "V1", "employer_id": "E1",
    ...     "title": "instalador de paneles solares",
    ...     "required_skills": ["instalar paneles fotovoltaicos"], "region": "Lima"}]))
    >>> cb = engine.encode_candidates(parse_candidates([
    ...     {"id": "A", "skills": ["instalacion de paneles fotovoltaicos"], "region": "Lima"},
    ...     {"id": "B", "skills": ["gestión de residuos"], "region": "Lima"}]))
    >>> [cid for cid, _ in top_candidates(engine, cb, vb, top_k=1).result(0)]
    ['A']
    """
    stats = stats if stats is not None else SearchStats()
    n, m = len(candidates), len(vacancies)
    stats.pairs += n * m
    acc = TopK(m, top_k)
    if n == 0 or m == 0:
        return acc
    if _bounded(engine) is None:
        _score_all(engine, candidates, vacancies, acc, stats)
        return acc

    y = _vacancy_weights(engine, vacancies)
    weights = _bound_weights(engine, vacancies)
    order = _order(engine, candidates.skills, candidates.titles)
    n_blocks = -(-n // BLOCK_SIZE)
    members = [order[b * BLOCK_SIZE : (b + 1) * BLOCK_SIZE] for b in range(n_blocks)]
    upper_t = sparse.vstack(
        [
            sparse.hstack(
                [
                    _block_max(candidates.expanded, order[lo : lo + BLOCK_ROWS]),
                    _block_max(candidates.titles, order[lo : lo + BLOCK_ROWS]),
                ],
                format="csr",
            )
            for lo in range(0, n, BLOCK_ROWS)
        ],
        format="csr",
    ).T.tocsr()

    v_order = _order(engine, vacancies.required + vacancies.profile, sparse.csr_matrix((m, 1)))
    groups = [v_order[lo : lo + GROUP_SIZE] for lo in range(0, m, GROUP_SIZE)]

    def search(index: np.ndarray) -> tuple[np.ndarray, TopK, SearchStats]:
        # Bounds of every block for the group: output-sized work over the group's concepts.
        bounds = _with_margin((y[index] @ upper_t).toarray().T)  # blocks x group
        group = _Group(vacancies, index, weights)
        local_stats = SearchStats()
        start = np.full(len(index), -np.inf) if floor is None else floor[index]
        local = _search_group(
            engine, candidates, vacancies, group, bounds, members, top_k, start, local_stats
        )
        return index, local, local_stats

    # Groups are independent; sparse products and array maths release the GIL, so two
    # threads keep two cores busy without copying the batches into other processes.
    workers = max(1, min(n_threads or 1, len(groups)))
    results: Iterator[tuple[np.ndarray, TopK, SearchStats]]
    if workers == 1:
        results = map(search, groups)
    else:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(workers)
        results = pool.map(search, groups)
    for group, local, local_stats in results:
        acc.merge(local, group)
        stats.scored += local_stats.scored
        stats.full_scans += local_stats.full_scans
        stats.swept_rows += local_stats.swept_rows
    if workers > 1:
        pool.shutdown()
    return acc


class _Group:
    """One group of vacancies: their skill side and the weights of their score bound."""

    def __init__(self, vacs: VacancyBatch, group: np.ndarray, weights) -> None:
        self.index = group
        self.skills = VacancySkills.of(vacs, group)
        self.weights = [w[group] for w in weights]
        self.region = vacs.region[group][None, :]
        self.remote = vacs.remote[group][None, :]

    def reachable(self, cands: CandidateBatch, rows: np.ndarray) -> np.ndarray:
        """``rows`` x group: pairs the location filter does not rule out (the others are
        never eligible, so they need no exact score)."""
        return ~location_blocked(
            cands.region[rows][:, None], self.region, cands.relocate[rows][:, None], self.remote
        )

    def sums(self, cands: CandidateBatch, vacs: VacancyBatch, rows: np.ndarray):
        return skill_sums(cands, vacs, rows, self.index, skills=self.skills)

    def bound(self, sums) -> np.ndarray:
        total = sums[0] * self.weights[0]
        for part, w in zip(sums[1:], self.weights[1:]):
            total = total + part * w
        return _with_margin(total)


def _search_group(engine, cands, vacs, group: _Group, bounds, members, k, floor, stats) -> TopK:
    width = len(group.index)
    local = TopK(width, k)
    if np.isfinite(floor).all():
        # Other partitions already set every vacancy's floor: go straight to the sweep.
        return _sweep(
            engine,
            cands,
            vacs,
            group,
            bounds,
            members,
            floor,
            np.empty(0, dtype=np.int64),
            local,
            stats,
        )

    # Warm start: each vacancy's most promising candidates, by their own bound, scored
    # exactly. Their k-th best score ``tau`` is a floor the final shortlist cannot go under.
    t = min(WARM_BLOCKS, len(members))
    best_blocks = np.unique(np.argpartition(-bounds, t - 1, axis=0)[:t])
    rows = np.concatenate([members[b] for b in best_blocks])
    sums = group.sums(cands, vacs, rows)
    pair = np.where(group.reachable(cands, rows), group.bound(sums), -np.inf)  # rows x group
    # Candidates ranked by bound, per vacancy; a vacancy that has not found k eligible
    # candidates among its first ones (filters!) tries more before the sweep.
    deep = min(WARM_ROWS * k * WARM_DEEPER, len(rows))
    top = np.argpartition(-pair, deep - 1, axis=0)[:deep]  # deep x group
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(pair, top, 0), 0), 0)
    scored = []
    first = min(WARM_ROWS * k, deep)
    for lo, hi, cols in ((0, first, np.arange(width)), (first, deep, None)):
        if cols is None:
            cols = np.flatnonzero(~np.isfinite(local.kth))
        if hi <= lo or len(cols) == 0:
            continue
        at = top[lo:hi][:, cols].ravel()
        at_cols = np.broadcast_to(cols, (hi - lo, len(cols))).ravel()
        keep = np.isfinite(pair[at, at_cols])
        at, at_cols = at[keep], at_cols[keep]
        _score_pairs(engine, cands, vacs, group, rows[at], at_cols, sums, at, local, stats)
        scored.append(rows[at].astype(np.int64) * width + at_cols)
    warm = np.sort(np.concatenate(scored))
    return _sweep(engine, cands, vacs, group, bounds, members, floor, warm, local, stats)


def _sweep(engine, cands, vacs, group, bounds, members, floor, warm, local: TopK, stats) -> TopK:
    """Blocks that can still reach some vacancy's floor, then the pairs whose own bound
    can, scored exactly (``warm`` pairs, already scored, are skipped)."""
    width = len(group.index)
    tau = np.maximum(local.kth, floor)
    stats.full_scans += int((~np.isfinite(tau)).sum())
    blocks = np.flatnonzero((bounds >= tau[None, :]).any(axis=1))
    if len(blocks) == 0:
        return local
    rows = np.concatenate([members[b] for b in blocks])
    stats.swept_rows += len(rows)
    step = max(1, MAX_PAIRS // width)
    for lo in range(0, len(rows), step):
        part = rows[lo : lo + step]
        sums = group.sums(cands, vacs, part)
        hit_r, hit_c = np.nonzero(
            (group.bound(sums) >= tau[None, :]) & group.reachable(cands, part)
        )
        fresh = ~_sorted_contains(warm, part[hit_r].astype(np.int64) * width + hit_c)
        hit_r, hit_c = hit_r[fresh], hit_c[fresh]
        _score_pairs(engine, cands, vacs, group, part[hit_r], hit_c, sums, hit_r, local, stats)
    return local


def _score_pairs(engine, cands, vacs, group, rows, cols, sums, at, local: TopK, stats) -> None:
    """Exact scores of the pairs ``(rows[p], group[cols[p]])``, merged into ``local``.

    ``sums[f][at[p], cols[p]]`` are the pairs' skill sums, already computed.
    """
    if len(rows) == 0:
        return
    picked = tuple(a[at, cols] for a in sums)
    vac = group.index[cols]
    feats = pair_features_at(cands, vacs, rows, vac, engine.regions, engine.config, sums=picked)
    scores = engine.scorer.score_grid(feats.columns, (len(rows),))
    stats.scored += len(rows)
    local.update_pairs(cols, scores, cands._objects["ids"][rows], feats.filtered == 0)


def _sorted_contains(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin(keys, table)`` for a sorted ``table``: binary searches, no sort of ``keys``.

    >>> _sorted_contains(np.array([2, 5, 9]), np.array([5, 1, 9, 10])).tolist()
    [True, False, True, False]
    """
    if len(table) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return table[at] == keys


def _with_margin(bounds: np.ndarray) -> np.ndarray:
    return bounds * (1.0 + _REL_MARGIN) + _ABS_MARGIN


def _score_all(engine, cands: CandidateBatch, vacs: VacancyBatch, acc: TopK, stats) -> None:
    """Every pair scored, a slice of candidates at a time (scorers without a bound)."""
    step = max(1, MAX_PAIRS // len(vacs))
    for lo in range(0, len(cands), step):
        part = cands.rows(slice(lo, lo + step))
        scored = engine.score(part, vacs)
        stats.scored += scored.scores.size
        acc.update(scored.scores, part.ids, scored.eligible)
