"""Cohort selection under capacities: the optimal candidate -> vacancy assignment.

The problem: candidates (rows) and vacancies (columns) with a score per allowed pair
(eligible under the hard constraints, at or above the minimum score, not excluded by a
person). Choose pairs that maximise the total score, each candidate at most once, each
vacancy at most its openings. Optional side constraints: pairs locked in by a person,
a fairness floor on the selection rate of every group (at least ``min_impact_ratio`` of
the best group's rate), and households that are placed all together in one region, or
not at all.

Solvers (both exact):

* without side constraints, a minimum-cost full bipartite matching on the vacancies
  expanded into their openings (``scipy.sparse.csgraph.min_weight_full_bipartite_matching``,
  LAPJVsp), with one "leave empty" column per opening so that a full matching always exists;
* with side constraints, a mixed-integer programme solved by HiGHS through
  ``scipy.optimize.milp`` with a relative gap of zero.

Everything here works on index arrays; names, files and groups' meanings live elsewhere.

>>> import numpy as np
>>> scores = np.array([[0.9, 0.8], [0.85, 0.1], [0.2, 0.3]])
>>> pairs = CandidatePairs.from_matrix(scores, min_score=0.15)
>>> result = assign(pairs, np.array([1, 1]))
>>> result.pairs()
[(0, 1), (1, 0)]
>>> round(result.total, 2), result.solver
(1.65, 'matching')
>>> greedy = greedy_assign(pairs, np.array([1, 1]))
>>> greedy.pairs(), round(greedy.total, 2)
([(0, 0), (2, 1)], 1.2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from matcher.exceptions import ConfigError

__all__ = [
    "Assignment",
    "CandidatePairs",
    "assign",
    "greedy_assign",
    "top_pairs",
]

#: Seconds HiGHS may spend on one mixed-integer programme before giving up.
MILP_TIME_LIMIT = 300.0


@dataclass(frozen=True, eq=False)
class CandidatePairs:
    """The pairs the solver may use: ``rows[p]`` (candidate), ``cols[p]`` (vacancy), ``scores[p]``.

    Pairs not listed are not allowed (a hard constraint fails, the score is under the
    minimum, or a person excluded them).
    """

    rows: np.ndarray
    cols: np.ndarray
    scores: np.ndarray
    n_candidates: int
    n_vacancies: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", np.asarray(self.rows, dtype=np.int64))
        object.__setattr__(self, "cols", np.asarray(self.cols, dtype=np.int64))
        object.__setattr__(self, "scores", np.asarray(self.scores, dtype=np.float64))
        if not (len(self.rows) == len(self.cols) == len(self.scores)):
            raise ConfigError("CandidatePairs: rows, cols and scores must have the same length")

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def from_matrix(
        cls,
        scores: np.ndarray,
        *,
        eligible: np.ndarray | None = None,
        min_score: float = 0.0,
    ) -> CandidatePairs:
        """Allowed pairs of a dense ``n x m`` score matrix (eligible and ``>= min_score``).

        >>> CandidatePairs.from_matrix(np.array([[0.5, 0.1]]), min_score=0.2).cols
        array([0])
        """
        scores = np.asarray(scores, dtype=np.float64)
        keep = scores >= min_score
        if eligible is not None:
            keep &= np.asarray(eligible, dtype=bool)
        rows, cols = np.nonzero(keep)
        return cls(rows, cols, scores[rows, cols], scores.shape[0], scores.shape[1])

    def subset(self, mask: np.ndarray) -> CandidatePairs:
        """The pairs where ``mask`` is true."""
        return CandidatePairs(
            self.rows[mask], self.cols[mask], self.scores[mask], self.n_candidates, self.n_vacancies
        )

    def index_of(self, row: int, col: int) -> int | None:
        """Position of the pair ``(row, col)``, or ``None`` when it is not allowed."""
        hit = np.flatnonzero((self.rows == row) & (self.cols == col))
        return int(hit[0]) if len(hit) else None


def top_pairs(
    pairs: CandidatePairs,
    k: int,
    *,
    groups: np.ndarray | None = None,
    keep_rows: np.ndarray | None = None,
) -> CandidatePairs:
    """Keep, for every vacancy (and group of candidates), its ``k`` best pairs.

    With ``k`` at least the total number of openings the reduction is exact: an optimal
    assignment of the reduced problem is optimal for the full one (a candidate ranked below
    ``k`` can always be swapped for an unassigned, better one of the same group). Pairs of
    rows in ``keep_rows`` (household members, locked candidates) are always kept.

    >>> p = CandidatePairs.from_matrix(np.array([[0.9], [0.8], [0.7]]))
    >>> top_pairs(p, 2).rows
    array([0, 1])
    """
    if len(pairs) == 0:
        return pairs
    group = np.zeros(pairs.n_candidates, dtype=np.int64) if groups is None else groups
    key = pairs.cols * (int(group.max()) + 1) + group[pairs.rows]
    # Order by key, then best score first, then row (deterministic ties).
    order = np.lexsort((pairs.rows, -pairs.scores, key))
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = np.zeros(len(pairs), dtype=bool)
    keep[order[position < k]] = True
    if keep_rows is not None and len(keep_rows):
        keep |= np.isin(pairs.rows, keep_rows)
    return pairs.subset(keep)


@dataclass(frozen=True, eq=False)
class Assignment:
    """The chosen pairs: ``pair_index`` into the :class:`CandidatePairs` the solver was given.

    ``status`` is ``"optimal"``; ``fairness_feasible`` is false when the fairness floor
    could not be met and the assignment was solved without it.
    """

    rows: np.ndarray
    cols: np.ndarray
    scores: np.ndarray
    solver: str
    status: str = "optimal"
    fairness_feasible: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> float:
        return float(self.scores.sum())

    @property
    def filled(self) -> int:
        return len(self.rows)

    def pairs(self) -> list[tuple[int, int]]:
        """``(row, col)`` of every chosen pair, sorted."""
        return sorted(zip(self.rows.tolist(), self.cols.tolist()))


def _picked(
    pairs: CandidatePairs, chosen: np.ndarray, solver: str, *, fairness_feasible: bool = True
) -> Assignment:
    chosen = np.sort(np.asarray(chosen, dtype=np.int64))
    return Assignment(
        pairs.rows[chosen],
        pairs.cols[chosen],
        pairs.scores[chosen],
        solver=solver,
        fairness_feasible=fairness_feasible,
    )


def _check_capacities(capacities: np.ndarray, n_vacancies: int) -> np.ndarray:
    caps = np.asarray(capacities)
    if caps.shape != (n_vacancies,):
        raise ConfigError(f"capacities: expected {n_vacancies} values, got shape {caps.shape}")
    if not np.all(np.isfinite(caps.astype(float))) or np.any(caps != np.round(caps)):
        raise ConfigError("capacities: openings must be whole numbers")
    if np.any(caps < 0):
        raise ConfigError(f"capacities: openings must be >= 0, got {caps.min()}")
    return caps.astype(np.int64)


def _solve_matching(pairs: CandidatePairs, caps: np.ndarray) -> np.ndarray:
    """Exact plain problem: opening slots x (candidates + one 'empty' column per slot)."""
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    if len(pairs) == 0 or caps.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    per_col = np.bincount(pairs.cols, minlength=pairs.n_vacancies)
    slots = np.minimum(caps, per_col)  # more slots than candidates can never be filled
    n_slots = int(slots.sum())
    if n_slots == 0:
        return np.zeros(0, dtype=np.int64)
    first_slot = np.r_[0, np.cumsum(slots)[:-1]]
    used_rows, row_pos = np.unique(pairs.rows, return_inverse=True)
    # Every pair p of vacancy j becomes an edge to each of j's slots.
    reps = slots[pairs.cols]
    edge_pair = np.repeat(np.arange(len(pairs)), reps)
    offset = np.arange(len(edge_pair)) - np.repeat(np.cumsum(reps) - reps, reps)
    edge_slot = first_slot[pairs.cols[edge_pair]] + offset
    # Costs in [1, 2] (never zero: a stored zero would read as "no edge"); empty = 2.
    cost = np.r_[2.0 - pairs.scores[edge_pair], np.full(n_slots, 2.0)]
    slot_idx = np.r_[edge_slot, np.arange(n_slots)]
    col_idx = np.r_[row_pos[edge_pair], len(used_rows) + np.arange(n_slots)]
    graph = sparse.csr_matrix(
        (cost, (slot_idx, col_idx)), shape=(n_slots, len(used_rows) + n_slots)
    )
    _, match = min_weight_full_bipartite_matching(graph)
    real = match < len(used_rows)
    slot_vacancy = np.repeat(np.arange(pairs.n_vacancies), slots)
    chosen_rows = used_rows[match[real]]
    chosen_cols = slot_vacancy[np.flatnonzero(real)]
    # Map (row, col) back to pair positions.
    lookup = {(int(r), int(c)): p for p, (r, c) in enumerate(zip(pairs.rows, pairs.cols))}
    return np.array(
        [lookup[(int(r), int(c))] for r, c in zip(chosen_rows, chosen_cols)], dtype=np.int64
    )


def _incidence(index: np.ndarray, n: int, n_vars: int) -> sparse.csr_matrix:
    """Row ``index[p]`` has a 1 in column ``p``."""
    return sparse.csr_matrix(
        (np.ones(len(index)), (index, np.arange(len(index)))), shape=(n, n_vars)
    )


def _solve_milp(
    pairs: CandidatePairs,
    caps: np.ndarray,
    *,
    locked: np.ndarray,
    groups: np.ndarray | None,
    min_impact_ratio: float | None,
    households: Sequence[Sequence[int]],
    vacancy_regions: np.ndarray | None,
    time_limit: float,
) -> np.ndarray | None:
    """Exact problem with side constraints; ``None`` when infeasible.

    Variables: one per pair (x), one per fairness group (its selected count s_g), one per
    household and region (z). Only s, z and the pairs of household members are declared
    integer: once they are fixed the rest is a flow with group quotas, whose constraint
    matrix (two laminar families of rows) is totally unimodular, so HiGHS's simplex
    vertices are integral. The result is checked, and solved with every variable integer
    should a vertex ever come back fractional.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_pairs = len(pairs)
    fair_on = groups is not None and bool(min_impact_ratio)
    labels = [int(g) for g in np.unique(groups) if g >= 0] if fair_on else []  # type: ignore[arg-type]
    region_codes = (
        np.unique(vacancy_regions, return_inverse=True)[1].astype(np.int64)
        if vacancy_regions is not None
        else np.zeros(pairs.n_vacancies, dtype=np.int64)
    )
    n_regions = int(region_codes.max()) + 1 if pairs.n_vacancies else 1
    s0 = n_pairs
    z0 = s0 + len(labels)
    n_vars = z0 + len(households) * n_regions

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []
    n_rows = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        nonlocal n_rows
        rows.append(np.asarray(r, dtype=np.int64) + n_rows)
        cols.append(np.asarray(c, dtype=np.int64))
        vals.append(np.asarray(v, dtype=float))
        lower.extend(np.broadcast_to(lo, (len(np.atleast_1d(lo)),)).tolist())
        upper.extend(np.broadcast_to(hi, (len(np.atleast_1d(hi)),)).tolist())
        n_rows += len(np.atleast_1d(lo))

    every = np.arange(n_pairs)
    ones = np.ones(n_pairs)
    add(pairs.rows, every, ones, np.zeros(pairs.n_candidates), np.ones(pairs.n_candidates))
    add(pairs.cols, every, ones, np.zeros(pairs.n_vacancies), caps.astype(float))
    if labels:
        assert groups is not None and min_impact_ratio is not None
        g_of = groups[pairs.rows]
        for k, g in enumerate(labels):  # sum of the group's pairs - s_g = 0
            mine = np.flatnonzero(g_of == g)
            add(
                np.zeros(len(mine) + 1),
                np.r_[mine, s0 + k],
                np.r_[np.ones(len(mine)), -1.0],
                np.zeros(1),
                np.zeros(1),
            )
        size = {g: int((groups == g).sum()) for g in labels}
        # Rate_g >= rho * Rate_h for every ordered pair:  n_h * s_g - rho * n_g * s_h >= 0.
        for a, g in enumerate(labels):
            for b, h in enumerate(labels):
                if a != b:
                    add(
                        np.zeros(2),
                        np.array([s0 + a, s0 + b]),
                        np.array([size[h], -min_impact_ratio * size[g]]),
                        np.zeros(1),
                        np.full(1, np.inf),
                    )
    integer = np.zeros(n_vars)
    integer[s0:] = 1.0
    for h, members in enumerate(households):
        # For member i and region r: sum_{j in r} x_ij - z_hr = 0; and sum_r z_hr <= 1.
        base = z0 + h * n_regions
        for i in members:
            mine = np.flatnonzero(pairs.rows == i)
            integer[mine] = 1.0
            reg = region_codes[pairs.cols[mine]]
            add(
                np.r_[reg, np.arange(n_regions)],
                np.r_[mine, base + np.arange(n_regions)],
                np.r_[np.ones(len(mine)), -np.ones(n_regions)],
                np.zeros(n_regions),
                np.zeros(n_regions),
            )
        add(
            np.zeros(n_regions),
            base + np.arange(n_regions),
            np.ones(n_regions),
            np.zeros(1),
            np.ones(1),
        )

    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_vars),
    )
    lb = np.zeros(n_vars)
    lb[locked] = 1.0
    ub = np.ones(n_vars)
    if labels:
        assert groups is not None
        ub[s0:z0] = [int(np.sum(groups == g)) for g in labels]
    cost = np.r_[-pairs.scores, np.zeros(n_vars - n_pairs)]
    problem = {
        "constraints": LinearConstraint(matrix, np.array(lower), np.array(upper)),
        "bounds": Bounds(lb, ub),
        "options": {"mip_rel_gap": 0.0, "time_limit": time_limit},
    }

    def integral(x: np.ndarray) -> bool:
        return bool(np.all(np.abs(x - np.round(x)) <= 1e-7))

    # The LP relaxation first: when its optimum is integral it is the integer optimum too.
    relaxed = milp(cost, integrality=np.zeros(n_vars), **problem)  # type: ignore[arg-type]
    if relaxed.status == 2:  # infeasible relaxation: no integer solution either
        return None
    if relaxed.x is not None and integral(relaxed.x):
        return np.flatnonzero(relaxed.x[:n_pairs] > 0.5)
    for level in (integer, np.ones(n_vars)):
        result = milp(cost, integrality=level, **problem)  # type: ignore[arg-type]
        if result.status == 2:
            return None
        if result.x is None:
            raise ConfigError(f"cohort solver stopped without a solution: {result.message}")
        if integral(result.x):
            return np.flatnonzero(result.x[:n_pairs] > 0.5)
    raise ConfigError("cohort solver returned a fractional solution")  # pragma: no cover


def assign(
    pairs: CandidatePairs,
    capacities: np.ndarray,
    *,
    locked: Sequence[int] = (),
    groups: np.ndarray | None = None,
    min_impact_ratio: float | None = None,
    households: Sequence[Sequence[int]] = (),
    vacancy_regions: np.ndarray | None = None,
    time_limit: float = MILP_TIME_LIMIT,
) -> Assignment:
    """The assignment of maximum total score, each candidate once, each vacancy <= its openings.

    Parameters
    ----------
    pairs : CandidatePairs
        The allowed pairs and their scores (or expected outcomes).
    capacities : array of int, shape (n_vacancies,)
        Openings per vacancy.
    locked : sequence of int
        Positions in ``pairs`` that must be chosen (a person's decision).
    groups : array of int, shape (n_candidates,), optional
        Group code of every candidate for the fairness floor; ``-1`` = not stated (unconstrained).
    min_impact_ratio : float, optional
        Every group's selection rate (selected / candidates of the group) must be at least
        this share of the best group's rate. When no assignment meets it together with the
        locks, the assignment is solved without it and ``fairness_feasible`` is false.
    households : sequence of sequences of int
        Candidate rows placed all together or not at all, in vacancies of one region.
    vacancy_regions : array, shape (n_vacancies,), optional
        Region of every vacancy (needed for households).

    Returns
    -------
    Assignment

    Raises
    ------
    ConfigError
        Capacities that are not whole numbers >= 0, locks that exceed an opening count or name
        one candidate twice, or locks that cannot hold together with the households.

    Examples
    --------
    A fairness floor changes who is chosen (group 0: rows 0 and 1; group 1: rows 2 and 3):

    >>> import numpy as np
    >>> p = CandidatePairs.from_matrix(np.array([[0.9], [0.8], [0.5], [0.4]]))
    >>> assign(p, np.array([2])).pairs()
    [(0, 0), (1, 0)]
    >>> fair = assign(p, np.array([2]), groups=np.array([0, 0, 1, 1]), min_impact_ratio=0.8)
    >>> fair.pairs(), fair.solver
    ([(0, 0), (2, 0)], 'milp')
    """
    caps = _check_capacities(capacities, pairs.n_vacancies)
    locked_idx = np.asarray(sorted(set(int(p) for p in locked)), dtype=np.int64)
    if len(locked_idx):
        if locked_idx.min() < 0 or locked_idx.max() >= len(pairs):
            raise ConfigError("locked: a locked position is not one of the allowed pairs")
        lrows = pairs.rows[locked_idx]
        if len(np.unique(lrows)) < len(lrows):
            raise ConfigError("locked: a candidate is locked into more than one vacancy")
        over = np.flatnonzero(np.bincount(pairs.cols[locked_idx], minlength=len(caps)) > caps)
        if len(over):
            raise ConfigError(
                f"locked: more locked candidates than openings for vacancy column {int(over[0])}"
            )
    households = [tuple(int(i) for i in h) for h in households if len(h) > 1]
    fair_on = groups is not None and bool(min_impact_ratio)
    if not (len(locked_idx) or fair_on or households):
        return _picked(pairs, _solve_matching(pairs, caps), "matching")
    if households and vacancy_regions is None:
        vacancy_regions = np.zeros(pairs.n_vacancies, dtype=np.int64)
    kwargs = {
        "locked": locked_idx,
        "households": households,
        "vacancy_regions": vacancy_regions,
        "time_limit": time_limit,
    }
    chosen = _solve_milp(pairs, caps, groups=groups, min_impact_ratio=min_impact_ratio, **kwargs)  # type: ignore[arg-type]
    if chosen is not None:
        return _picked(pairs, chosen, "milp")
    if fair_on:
        chosen = _solve_milp(pairs, caps, groups=None, min_impact_ratio=None, **kwargs)  # type: ignore[arg-type]
        if chosen is not None:
            return _picked(pairs, chosen, "milp", fairness_feasible=False)
    raise ConfigError(
        "locked: the locked pairs cannot hold together with the households "
        "(a household is placed all together, in one region, or not at all); "
        "unlock or change them"
    )


def greedy_assign(pairs: CandidatePairs, capacities: np.ndarray) -> Assignment:
    """The baseline: vacancy by vacancy, the top of its shortlist still free.

    Vacancies are taken in order; each takes its best remaining candidates (ties by row).

    >>> p = CandidatePairs.from_matrix(np.array([[0.9, 0.8], [0.85, 0.0]]), min_score=0.1)
    >>> greedy_assign(p, np.array([1, 1])).pairs()
    [(0, 0)]
    """
    caps = _check_capacities(capacities, pairs.n_vacancies)
    taken = np.zeros(pairs.n_candidates, dtype=bool)
    order = np.lexsort((pairs.rows, -pairs.scores, pairs.cols))
    chosen: list[int] = []
    left = caps.copy()
    for p in order:
        j, i = pairs.cols[p], pairs.rows[p]
        if left[j] > 0 and not taken[i]:
            taken[i] = True
            left[j] -= 1
            chosen.append(int(p))
    return _picked(pairs, np.array(chosen, dtype=np.int64), "greedy")


def double_booked(pairs: CandidatePairs, capacities: np.ndarray) -> int:
    """People who would be offered to several employers if each vacancy took its own top list.

    >>> p = CandidatePairs.from_matrix(np.array([[0.9, 0.8], [0.85, 0.0]]), min_score=0.1)
    >>> double_booked(p, np.array([1, 1]))
    1
    """
    caps = _check_capacities(capacities, pairs.n_vacancies)
    order = np.lexsort((pairs.rows, -pairs.scores, pairs.cols))
    cols = pairs.cols[order]
    starts = np.searchsorted(cols, np.arange(pairs.n_vacancies))
    position = np.arange(len(order)) - starts[cols]
    picked_rows = pairs.rows[order][position < caps[cols]]
    counts = np.bincount(picked_rows, minlength=pairs.n_candidates)
    return int((counts > 1).sum())
