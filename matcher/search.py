"""Exact top-k shortlists without scoring every pair: block bounds, then exact scores.

Scoring every candidate against every vacancy costs ``n x m`` feature rows; a
national register (100,000 x 10,000) makes that a billion. Most of those pairs
cannot reach a shortlist, and a cheap bound proves it:

1. The default scorer is bounded by the skill features alone
   (:meth:`~matcher.scorer.MatchScorer.bound_coefficients`): experience and
   location only scale a score down. Its explicit part (the skills the vacancy
   lists) is at most ``x_i . e_j`` and its implicit part (the occupation's
   skills, the title) at most ``x_i . g_j``, where ``x_i`` stacks a candidate's
   expanded skills (related-skill credit included) and title fits, and ``e_j``,
   ``g_j`` hold the vacancy's per-concept weights. The score is at most
   ``f(x_i . e_j, x_i . g_j)`` with ``f(e, g) = e + g (1 - e)``
   (:meth:`~matcher.scorer.MatchScorer.match_bound`), which grows with both.
2. Candidates are ordered so that similar profiles sit together (by the ESCO
   occupation their skills fit best) and cut into blocks. A block's
   element-wise maximum ``u_b`` bounds every member: ``x_i . e_j <= u_b . e_j``
   (the same for ``g_j``), so ``f(u_b . e_j, u_b . g_j)`` bounds the block.
   Superblocks (``SUPER_BLOCKS`` consecutive blocks) are bounded the same way;
   a group of vacancies bounds every superblock, then only the blocks of those
   that can still reach its shortlists (about one in eight at national scale).
3. Vacancies are taken in groups of similar ones (one occupation each). For each group, its first
   candidates (those whose skills fit best the group's occupations, and the
   members of each vacancy's best blocks) are bounded one by one, and the most
   promising are scored *exactly* (the same arithmetic as
   :meth:`~matcher.engine.MatchEngine.score`), which sets each vacancy's k-th
   best score ``tau``. Every block whose bound reaches some ``tau`` is then
   swept: its members are bounded one by one and those whose own bound reaches
   ``tau`` are scored exactly. The other blocks cannot reach the shortlist and
   are never touched.
4. A group of similar vacancies reads about a hundred of the thousands of
   ``[expanded | titles]`` columns, and its vacancies share one occupation (so
   one profile). The candidates are also held column by column, in block
   order: a sweep gathers only the entries of the columns the group reads, for
   the runs of blocks it sweeps, and sums each profile once.

The result equals the exhaustive search: same ids, same scores (they come from
the same arithmetic), same tie-breaks by id. Scorers without a bound (a learnt
:class:`~matcher.learned.OutcomeScorer`) take the exhaustive path.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy import sparse

from matcher.features import (
    CandidateBatch,
    VacancyBatch,
    VacancySkills,
    location_blocked,
    pair_features_at,
)
from matcher.ranking import TopK

if TYPE_CHECKING:
    from matcher.engine import MatchEngine

__all__ = ["BLOCK_SIZE", "GROUP_SIZE", "SearchStats", "top_candidates"]

#: Candidates per bound block: smaller blocks bound tighter, but there are more of them.
BLOCK_SIZE = 16
#: Search vacancy groups in forked processes when that is safe (:func:`_can_fork`), else
#: in threads: sparse products hold the GIL for their bookkeeping, so threads overlap
#: only in part (a search at national scale takes about a quarter less time in processes).
PROCESSES = True
#: Blocks per superblock (bounded first; the blocks of those that pass, next).
SUPER_BLOCKS = 16
#: Candidates whose block bounds are built at once (bounds the transient memory).
BLOCK_ROWS = 16_384
#: Vacancies searched together, at most (they share the exact-scoring calls).
GROUP_SIZE = 64
#: Candidate x vacancy cells whose bounds are held at once (a few x 8 bytes each).
MAX_PAIRS = 1_000_000
#: Warm start: blocks per vacancy searched first, candidates per occupation of the
#: group (those whose skills fit it best) searched with them, and candidates per
#: vacancy (x top_k) scored exactly from them.
WARM_SUPERS = 2
WARM_BLOCKS = 8
WARM_FIT = 1024
WARM_ROWS = 3
WARM_DEEPER = 8
# Columns (blocks or candidates) whose bounds are computed at once: temporaries in cache.
_BOUND_COLUMNS = 1024
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


def _bounded(engine: MatchEngine) -> bool:
    return all(
        callable(getattr(engine.scorer, name, None))
        for name in ("bound_coefficients", "match_bound")
    )


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


def _order(engine: MatchEngine, skills: sparse.csr_matrix, titles: sparse.csr_matrix, pool=None):
    """Rows ordered so that similar profiles are neighbours: by best-fitting occupation
    (returned too, in that order; -1 for rows without skills). With a thread ``pool``,
    half of the rows are fitted on another thread."""
    profiles_t = engine.space.profiles.T.tocsr()

    def best(rows: slice) -> np.ndarray:
        return _row_argmax((skills[rows] @ profiles_t).tocsr())

    n = skills.shape[0]
    if pool is not None and n > BLOCK_ROWS:
        other = pool.submit(best, slice(n // 2, n))
        fit = np.concatenate([best(slice(0, n // 2)), other.result()])
    else:
        fit = best(slice(0, n))
    second = _row_argmax(titles.tocsr())
    order = np.lexsort((np.arange(len(fit)), second, fit))
    return order, fit[order]


def _by_column(matrix: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, int]:
    """Sorted keys ``column * n_rows + row`` of a matrix's entries, their values, and
    its number of columns. The column-major copy is a counting sort by column, which
    keeps each column's rows in ascending order."""
    csc = matrix.tocsc()
    span = int(csc.shape[0]) * int(csc.shape[1])
    dtype = np.int32 if span < np.iinfo(np.int32).max else np.int64  # half the memory
    columns = np.arange(csc.shape[1], dtype=dtype) * dtype(csc.shape[0])
    keys = np.repeat(columns, np.diff(csc.indptr))
    keys += csc.indices
    return keys, csc.data, int(csc.shape[1])


class _Blocks:
    """Each block's element-wise maximum over ``[expanded | titles]`` (``upper``, blocks
    x columns), and each superblock's (``SUPER_BLOCKS`` consecutive blocks; ``over``,
    superblocks x columns). A group bounds every superblock, then only the blocks of
    the superblocks that can still reach its shortlists."""

    def __init__(self, skills: sparse.csr_matrix, titles: sparse.csr_matrix) -> None:
        n = skills.shape[0]
        self.upper = sparse.vstack(
            [
                sparse.hstack(
                    [
                        _block_max(skills[lo : lo + BLOCK_ROWS]),
                        _block_max(titles[lo : lo + BLOCK_ROWS]),
                    ],
                    format="csr",
                )
                for lo in range(0, n, BLOCK_ROWS)
            ],
            format="csr",
        )
        self.n_blocks = self.upper.shape[0]
        self.over = _block_max(self.upper, SUPER_BLOCKS)

    def supers(self, group: _Group) -> np.ndarray:
        """Bounds of every superblock, group x superblocks."""
        return group.bound((self.over @ group.bound_columns).toarray().T, promise=False)[0]

    def of(self, supers: np.ndarray) -> np.ndarray:
        """The blocks of sorted ``supers``, sorted."""
        first = np.asarray(supers, dtype=np.int64) * SUPER_BLOCKS
        sizes = np.minimum(first + SUPER_BLOCKS, self.n_blocks) - first
        return np.repeat(first - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())

    def bounds(self, group: _Group, blocks: np.ndarray) -> np.ndarray:
        """Bounds of ``blocks``, group x blocks."""
        parts = (self.upper[blocks] @ group.bound_columns).toarray().T
        return group.bound(parts, promise=False)[0]


def _groups(v_order: np.ndarray, occupation: np.ndarray) -> list[np.ndarray]:
    """Vacancies in search order, cut into groups of at most ``GROUP_SIZE`` that never mix
    occupations: vacancies of one occupation share a profile and read the same columns,
    so a group reads fewer columns and its shortlists draw on the same candidates.

    >>> [g.tolist() for g in _groups(np.arange(5), np.array([7, 7, 3, 7, -1]))]
    [[4], [2], [0, 1, 3]]
    """
    by_occupation = np.argsort(occupation, kind="stable")
    v_order, occupation = v_order[by_occupation], occupation[by_occupation]
    cuts = np.flatnonzero(occupation[1:] != occupation[:-1]) + 1
    groups = []
    for run in np.split(v_order, cuts):
        groups.extend(np.array_split(run, -(-len(run) // GROUP_SIZE)))
    return groups


def _row_argmax(matrix: sparse.csr_matrix) -> np.ndarray:
    """Column of each row's largest stored value (the lowest on ties); -1 for empty rows.

    No sort: each row's peak, then the lowest column holding it, both by ``reduceat``.

    >>> _row_argmax(sparse.csr_matrix(np.array([[0, 2.0, 2.0], [0, 0, 0], [3.0, 0, 1.0]]))).tolist()
    [1, -1, 0]
    """
    out = np.full(matrix.shape[0], -1, dtype=np.int64)
    if matrix.nnz == 0:
        return out
    lengths = np.diff(matrix.indptr)
    filled = np.flatnonzero(lengths)
    starts = matrix.indptr[filled]
    peak = np.maximum.reduceat(matrix.data, starts)
    at_peak = matrix.data == np.repeat(peak, lengths[filled])
    columns = np.where(at_peak, matrix.indices, np.iinfo(matrix.indices.dtype).max)
    out[filled] = np.minimum.reduceat(columns, starts)
    return out


def _block_max(xo: sparse.csr_matrix, size: int | None = None) -> sparse.csr_matrix:
    """Element-wise maximum of each run of ``size`` (default ``BLOCK_SIZE``) rows of ``xo``.

    Linear time: the block's rows, stacked as one row with repeated columns, are
    transposed (a counting sort by column, which keeps the repeats side by side)
    and each run of equal (column, block) reduced with ``max``.
    """
    size = size or BLOCK_SIZE
    n, width = xo.shape
    n_blocks = -(-n // size)
    cuts = xo.indptr[np.minimum(np.arange(n_blocks + 1) * size, n)]
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
        Workers searching vacancy groups side by side (default 1): forked processes
        when that is safe (:func:`_can_fork`), else threads. The set-up uses threads.
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
    if not _bounded(engine):
        _score_all(engine, candidates, vacancies, acc, stats)
        return acc

    match_bound = engine.scorer.match_bound  # type: ignore[attr-defined]
    weights = _bound_weights(engine, vacancies)
    groups_of = max(1, -(-m // GROUP_SIZE))
    workers = max(1, min(n_threads or 1, groups_of))
    # Groups are independent; sparse products and array maths release the GIL, so two
    # threads keep two cores busy without copying the batches into other processes.
    # The set-up (candidates by column, block bounds, vacancy groups) runs side by side too.
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    order, fits = _order(engine, candidates.skills, candidates.titles, pool)
    skills, titles = candidates.expanded[order], candidates.titles[order]
    pending = pool.submit(_by_column, skills) if pool else None
    titles_by_column = _by_column(titles)
    blocks = _Blocks(skills, titles)
    v_order, _ = _order(engine, vacancies.required + vacancies.profile, sparse.csr_matrix((m, 1)))
    groups = _groups(v_order, vacancies.occupation[v_order])
    skills_by_column = pending.result() if pending else _by_column(skills)
    members = _Columns(order, fits, skills_by_column, titles_by_column)
    del skills, titles

    def search(index: np.ndarray) -> tuple[np.ndarray, TopK, SearchStats]:
        group = _Group(vacancies, index, weights, match_bound, members)
        # Bounds of every block for the group: output-sized work over the group's concepts.
        local_stats = SearchStats()
        start = np.full(len(index), -np.inf) if floor is None else floor[index]
        local = _search_group(
            engine,
            candidates,
            vacancies,
            group,
            blocks,
            members,
            top_k,
            start,
            local_stats,
        )
        return index, local, local_stats

    results: Iterable[tuple[np.ndarray, TopK, SearchStats]]
    if pool:
        pool.shutdown()
        pool = None
    if workers > 1 and _can_fork():
        results = _forked(search, groups, workers)
    elif workers > 1:
        pool = ThreadPoolExecutor(workers)
        results = pool.map(search, groups)
    else:
        results = map(search, groups)
    for group, local, local_stats in results:
        acc.merge(local, group)
        stats.scored += local_stats.scored
        stats.full_scans += local_stats.full_scans
        stats.swept_rows += local_stats.swept_rows
    if pool:
        pool.shutdown()
    return acc


def _can_fork() -> bool:
    """Whether groups may be searched in forked processes: allowed (``PROCESSES``), on
    Linux, from a process with no other thread (a fork copies only the calling thread,
    so a lock held by another one would stay held in the child forever) and allowed to
    have children (not a daemon, as pool workers are)."""
    import multiprocessing
    import sys
    import threading

    return (
        PROCESSES
        and sys.platform == "linux"
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


_FORKED: tuple | None = None


def _forked(search, groups: list[np.ndarray], workers: int) -> list:
    """``search`` over ``groups`` in ``workers`` forked processes.

    The children share the parent's memory copy-on-write: the encoded batches, the
    block bounds and the column-major copy are never copied or pickled; only each
    group's top-k comes back. Objects are frozen out of the collector first, so that a
    child's collections do not touch (and so copy) every page holding Python objects.
    """
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _FORKED
    _FORKED = (search, groups)
    gc.freeze()
    try:
        # A pool of the standard library's executor: a worker that dies (killed, out of
        # memory) raises BrokenProcessPool here instead of leaving the run waiting.
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=fork) as children:
            return list(children.map(_search_forked, range(len(groups)), chunksize=2))
    finally:
        gc.unfreeze()
        _FORKED = None


def _search_forked(i: int):
    search, groups = _FORKED  # type: ignore[misc]
    return search(groups[i])


class _Columns:
    """The candidates' ``[expanded | titles]`` entries by column, rows in search order.

    A group of vacancies reads about a hundred of thousands of columns, and sweeps a
    few runs of blocks: binary searches in those columns find exactly the entries it
    needs, without reading the rest of each candidate's row.
    """

    def __init__(self, order: np.ndarray, fits: np.ndarray, skills, titles) -> None:
        """``skills`` and ``titles``: :func:`_by_column` of both matrices, rows in
        ``order`` (each entry's sorted key ``column * n + position``, and its value:
        one binary search finds every (column, run of positions) slice at once)."""
        self.order = order
        self.fits = fits
        self.parts = [skills, titles]
        self.first_title = int(skills[2])
        self.width = self.first_title + int(titles[2])

    @classmethod
    def of(cls, cands: CandidateBatch, order: np.ndarray, fits: np.ndarray) -> _Columns:
        return cls(order, fits, _by_column(cands.expanded[order]), _by_column(cands.titles[order]))

    def fitting(self, occupations: np.ndarray, cap: int) -> np.ndarray:
        """Sorted positions of candidates whose skills fit best one of ``occupations``
        (at most ``cap`` each): a vacancy's natural first candidates."""
        occupations = occupations[occupations >= 0]
        lo = np.searchsorted(self.fits, occupations)
        hi = np.minimum(np.searchsorted(self.fits, occupations, side="right"), lo + cap)
        runs = [np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist())]
        return np.unique(np.concatenate([np.empty(0, dtype=np.int64), *runs]))

    def positions(self, blocks: np.ndarray) -> np.ndarray:
        """Sorted positions (in search order) of the members of sorted ``blocks``."""
        n = len(self.order)
        first = np.asarray(blocks, dtype=np.int64) * BLOCK_SIZE
        sizes = np.minimum(first + BLOCK_SIZE, n) - first
        return np.repeat(first - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())

    def entries(self, positions: np.ndarray, asked: np.ndarray):
        """Candidate rows at sorted ``positions``, and their entries in the ``asked``
        columns (sorted) as a ``len(positions) x len(asked)`` column-major matrix."""
        # Runs of consecutive positions, then each asked column's slice within each run.
        breaks = np.flatnonzero(np.diff(positions) != 1) + 1
        run_lo = positions[np.r_[0, breaks]]
        run_hi = positions[np.r_[breaks - 1, len(positions) - 1]] + 1
        offset = np.r_[0, np.cumsum(run_hi - run_lo)[:-1]].astype(np.int32)
        n = len(self.order)
        split = int(np.searchsorted(asked, self.first_title))
        rows, values, counts = [], [], []
        for (keys, data, _), cols in zip(
            self.parts, (asked[:split], asked[split:] - self.first_title)
        ):
            # Queries of the keys' own type: a mixed-type search would copy all the keys.
            base = cols.astype(keys.dtype)[:, None] * keys.dtype.type(n)
            lo = np.searchsorted(keys, base + run_lo.astype(keys.dtype)[None, :])
            hi = np.searchsorted(keys, base + run_hi.astype(keys.dtype)[None, :])
            sizes = (hi - lo).ravel()
            at = np.repeat(lo.ravel() - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
            run = np.repeat(np.tile(np.arange(len(run_lo), dtype=np.int32), len(cols)), sizes)
            start = np.repeat((base + run_lo[None, :]).ravel(), sizes)  # key of the run start
            rows.append(offset[run] + (keys[at] - start).astype(np.int32))
            values.append(data[at])
            counts.append((hi - lo).sum(axis=1))
        # Entries come column by column: a column-major matrix as they are.
        indptr = np.r_[0, np.cumsum(np.concatenate(counts))]
        entries = sparse.csc_matrix(
            (np.concatenate(values), np.concatenate(rows), indptr),
            shape=(len(positions), len(asked)),
        )
        return self.order[positions], entries


class _Group:
    """One group of vacancies: their skill side and the weights of their score bound."""

    def __init__(
        self, vacs: VacancyBatch, group: np.ndarray, weights, match_bound, columns
    ) -> None:
        self.index = group
        self.match_bound = match_bound
        self.skills = VacancySkills.of(vacs, group)
        self.asked = self.skills.asked_table()
        self.columns = columns
        self.weights = [w[group] for w in weights]
        # The bound reads one weighted sum of the explicit part per vacancy, and the
        # profile sums and title fits per occupation (a search group has one).
        m = len(group)
        table = self.asked.table
        w_req, w_opt = (sparse.diags(w) for w in self.weights[:2])
        explicit = table[:, :m] @ w_req + table[:, m : 2 * m] @ w_opt
        # The outputs: explicit sums, then profile sums and title fits. Outputs x asked
        # columns for a scan; all ``[expanded | titles]`` columns x outputs for blocks.
        by_asked = sparse.hstack([explicit, table[:, 2 * m :]], format="coo")
        self.bound_table = by_asked.T.tocsr()
        self.bound_columns = sparse.csr_matrix(
            (by_asked.data, (self.asked.asked[by_asked.row], by_asked.col)),
            shape=(columns.width, by_asked.shape[1]),
        )
        self.title_weight = self.weights[3] * self.skills.confidence
        self.region = vacs.region[group][:, None]
        self.remote = vacs.remote[group][:, None]

    def reachable(self, cands: CandidateBatch, rows: np.ndarray) -> np.ndarray:
        """group x ``rows``: pairs the location filter does not rule out (the others are
        never eligible, so they need no exact score)."""
        return ~location_blocked(
            cands.region[rows][None, :], self.region, cands.relocate[rows][None, :], self.remote
        )

    def scan(self, positions: np.ndarray) -> _Scan:
        """The candidates at sorted ``positions`` of the search order, their entries in
        the group's columns, and the bound of each of them against each vacancy."""
        rows, entries = self.columns.entries(positions, self.asked.asked)
        return _Scan(rows, entries, *self.bound((self.bound_table @ entries.T).toarray()))

    def bound(self, parts: np.ndarray, promise: bool = True):
        """Score bounds, group x rows, from products with ``bound_table`` (one row per
        output): the explicit part per vacancy, then profile sums and title fits per
        occupation.

        With ``promise``, also the plain sum of the two parts, to rank by: many strong
        candidates share the bound 1 (all listed skills held), and the sum still tells
        them apart.
        Computed a slice of columns at a time, so that the temporaries stay in cache.
        """
        m, n = len(self.index), parts.shape[1]
        bound = np.empty((m, n))
        summed = np.empty((m, n)) if promise else None
        for lo in range(0, n, _BOUND_COLUMNS):
            part = parts[:, lo : lo + _BOUND_COLUMNS]
            profile, fit = self.asked.per_vacancy(part[m:], axis=0)
            profile *= self.weights[2][:, None]
            fit *= self.title_weight[:, None]
            profile += fit
            if summed is not None:
                np.add(part[:m], profile, out=summed[:, lo : lo + _BOUND_COLUMNS])
            bound[:, lo : lo + _BOUND_COLUMNS] = self.match_bound(part[:m], profile)
        return bound, summed

    def sums(self, cands: CandidateBatch, scan: _Scan, at: np.ndarray):
        """Skill sums of the scanned candidates ``at`` (indices into the scan)."""
        entries = scan.entries[at].tocsr()  # each row's entries in column order
        return self.skills.sums_from(cands, scan.rows[at], entries, self.asked)


class _Scan(NamedTuple):
    rows: np.ndarray  # candidate rows
    entries: sparse.csc_matrix  # their values in the group's columns
    bound: np.ndarray  # group x rows, score bounds
    promise: np.ndarray  # group x rows, the sum of the bound's parts (to rank by)


def _search_group(
    engine, cands, vacs, group: _Group, blocks: _Blocks, members, k, floor, stats
) -> TopK:
    width = len(group.index)
    local = TopK(width, k)
    if np.isfinite(floor).all():
        # Other partitions already set every vacancy's floor: go straight to the sweep.
        return _sweep(
            engine,
            cands,
            vacs,
            group,
            blocks,
            members,
            floor,
            np.empty(0, dtype=np.int64),
            local,
            stats,
        )

    # Warm start: each vacancy's most promising candidates, by their bound's parts, scored
    # exactly. Their k-th best score ``tau`` is a floor the final shortlist cannot go under.
    supers = blocks.supers(group)
    near = blocks.of(np.unique(_top_columns(supers, WARM_SUPERS)))
    best_blocks = near[np.unique(_top_columns(blocks.bounds(group, near), WARM_BLOCKS))]
    fitting = members.fitting(np.unique(group.skills.occupation), WARM_FIT)
    scan = group.scan(np.union1d(members.positions(best_blocks), fitting))
    rows = scan.rows
    pair = np.where(group.reachable(cands, rows), scan.promise, -np.inf)  # group x rows
    # Candidates ranked by the sum of those parts, per vacancy; a vacancy that has not
    # found k eligible candidates among its first ones (filters!) tries more before the
    # sweep.
    deep = min(WARM_ROWS * k * WARM_DEEPER, len(rows))
    top = np.argpartition(-pair, deep - 1, axis=1)[:, :deep]
    ranked = np.argsort(-np.take_along_axis(pair, top, 1), axis=1)
    top = np.take_along_axis(top, ranked, 1)  # group x deep
    scored = []
    first = min(WARM_ROWS * k, deep)
    for lo, hi, cols in ((0, first, np.arange(width)), (first, deep, None)):
        if cols is None:
            cols = np.flatnonzero(~np.isfinite(local.kth))
        if hi <= lo or len(cols) == 0:
            continue
        at = top[cols, lo:hi].ravel()
        at_cols = np.repeat(cols, hi - lo)
        keep = np.isfinite(pair[at_cols, at])
        at, at_cols = at[keep], at_cols[keep]
        _score_pairs(engine, cands, vacs, group, scan, at, at_cols, local, stats)
        scored.append(rows[at].astype(np.int64) * width + at_cols)
    warm = np.sort(np.concatenate(scored))
    return _sweep(engine, cands, vacs, group, blocks, members, floor, warm, local, stats, supers)


def _sweep(
    engine,
    cands,
    vacs,
    group,
    blocks: _Blocks,
    members,
    floor,
    warm,
    local: TopK,
    stats,
    supers=None,
) -> TopK:
    """Blocks that can still reach some vacancy's floor, then the pairs whose own bound
    can, scored exactly (``warm`` pairs, already scored, are skipped)."""
    width = len(group.index)
    tau = np.maximum(local.kth, floor)
    stats.full_scans += int((~np.isfinite(tau)).sum())
    low = _lowered(tau)[:, None]
    supers = blocks.supers(group) if supers is None else supers
    near = blocks.of(np.flatnonzero((supers >= low).any(axis=0)))
    passing = near[(blocks.bounds(group, near) >= low).any(axis=0)]
    if len(passing) == 0:
        return local
    positions = members.positions(passing)
    stats.swept_rows += len(positions)
    step = max(1, MAX_PAIRS // width)
    for lo in range(0, len(positions), step):
        scan = group.scan(positions[lo : lo + step])
        hit_c, hit_r = np.nonzero((scan.bound >= low) & group.reachable(cands, scan.rows))
        fresh = ~_sorted_contains(warm, scan.rows[hit_r].astype(np.int64) * width + hit_c)
        _score_pairs(engine, cands, vacs, group, scan, hit_r[fresh], hit_c[fresh], local, stats)
    return local


def _score_pairs(engine, cands, vacs, group, scan: _Scan, at, cols, local: TopK, stats) -> None:
    """Exact scores of the pairs ``(scan.rows[at[p]], group[cols[p]])``, merged into
    ``local``. Skill sums are computed for the scanned candidates in those pairs only."""
    if len(at) == 0:
        return
    need, inv = np.unique(at, return_inverse=True)
    picked = tuple(a[inv, cols] for a in group.sums(cands, scan, need))
    rows = scan.rows[at]
    vac = group.index[cols]
    feats = pair_features_at(cands, vacs, rows, vac, engine.regions, engine.config, sums=picked)
    scores = engine.scorer.score_grid(feats.columns, (len(rows),))
    stats.scored += len(rows)
    local.update_pairs(cols, scores, cands._objects["ids"][rows], feats.filtered == 0)


def _top_columns(values: np.ndarray, t: int) -> np.ndarray:
    """Columns of each row's ``t`` largest values (one of them on ties), all rows'
    concatenated: ``t`` passes of ``argmax``, cheaper than a partition for small ``t``.

    >>> sorted(_top_columns(np.array([[1.0, 3.0, 2.0], [5.0, 4.0, 0.0]]), 2).tolist())
    [0, 1, 1, 2]
    """
    left = np.array(values)
    cols = np.arange(len(left))
    picks = []
    for _ in range(min(t, left.shape[1])):
        best = left.argmax(axis=1)
        picks.append(best)
        left[cols, best] = -np.inf
    return np.concatenate(picks)


def _sorted_contains(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin(keys, table)`` for a sorted ``table``: binary searches, no sort of ``keys``.

    >>> _sorted_contains(np.array([2, 5, 9]), np.array([5, 1, 9, 10])).tolist()
    [True, False, True, False]
    """
    if len(table) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return table[at] == keys


def _lowered(tau: np.ndarray) -> np.ndarray:
    """The floor a bound is compared with: ``tau`` less a margin, so that rounding in
    the bound's arithmetic can never prune a pair that ties."""
    return tau - _ABS_MARGIN - _REL_MARGIN * np.abs(tau)


def _score_all(engine, cands: CandidateBatch, vacs: VacancyBatch, acc: TopK, stats) -> None:
    """Every pair scored, a slice of candidates at a time (scorers without a bound)."""
    step = max(1, MAX_PAIRS // len(vacs))
    for lo in range(0, len(cands), step):
        part = cands.rows(slice(lo, lo + step))
        scored = engine.score(part, vacs)
        stats.scored += scored.scores.size
        acc.update(scored.scores, part.ids, scored.eligible)
