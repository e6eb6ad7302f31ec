"""The scorer: pair features -> a score in [0, 1]. An sklearn estimator.

The default is transparent and documented (:data:`DEFAULT_WEIGHTS`)::

    explicit = weighted mean of required and optional coverage (the skills the
               vacancy lists), over the parts it actually has
    implicit = weighted mean of profile coverage (the essential skills of the
               ESCO occupation the title names) and title fit
    match    = explicit + implicit_share * (1 - explicit) * implicit
               (implicit evidence fills the gap; it never drags down a
               candidate who has every listed skill; alone when the vacancy
               lists no recognised skill)
    context  = weighted mean of experience fit and location fit
    score    = has_skills * match * (1 - context_share + context_share * context)

Properties users rely on: the score is in [0, 1]; a candidate with no
recognised skill scores 0 (a title alone is not evidence); every weight is
non-negative, so adding a skill the vacancy asks for never lowers a score.
``fit`` learns the weights from observed outcomes (``training/`` does that).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from matcher.config import FEATURES

__all__ = ["DEFAULT_WEIGHTS", "MatchScorer", "PairScorer"]


class PairScorer(Protocol):
    """What the engine needs of a scorer: the default :class:`MatchScorer` or a learnt one
    (:class:`matcher.learned.OutcomeScorer`)."""

    def score_grid(self, columns: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
        """Scores in [0, 1] of a candidate x vacancy grid from broadcastable feature columns."""
        ...

    def contributions(self, X) -> np.ndarray:
        """Per-row contributions that sum to the score (for explanations)."""
        ...


#: Documented default weights: required skills dominate; nice-to-haves weigh less.
DEFAULT_WEIGHTS: dict[str, float] = {
    "required_coverage": 0.85,
    "optional_coverage": 0.15,
    "profile_coverage": 0.6,
    "title_fit": 0.4,
    "experience_fit": 0.5,
    "location_fit": 0.5,
}
_EXPLICIT = ("required_coverage", "optional_coverage")
_IMPLICIT = ("profile_coverage", "title_fit")
_SKILL_PARTS = (*_EXPLICIT, *_IMPLICIT)
_AVAILABLE = {  # which flag says a part exists for the vacancy
    "required_coverage": "has_required",
    "optional_coverage": "has_optional",
    "profile_coverage": "has_occupation",
    "title_fit": "has_occupation",
}
_CONTEXT_PARTS = ("experience_fit", "location_fit")
_COL = {name: i for i, name in enumerate(FEATURES)}


class MatchScorer(RegressorMixin, BaseEstimator):
    """Scores candidate-vacancy pairs from their :data:`~matcher.config.FEATURES`.

    Parameters
    ----------
    weights : dict, optional
        Starting weights (default :data:`DEFAULT_WEIGHTS`); ``fit`` learns from them.
    context_share : float
        How much experience and location can move a score (0 = not at all).
    implicit_share : float
        How much of the gap left by the listed skills implicit evidence can fill.
    alpha : float
        L2 pull of the learnt weights towards the starting weights.

    Examples
    --------
    >>> import numpy as np
    >>> scorer = MatchScorer.default()
    >>> x = np.zeros((1, len(FEATURES)))
    >>> x[0, [0, 4, 5, 6, 7]] = [1.0, 1.0, 1.0, 1.0, 1.0]  # all required skills, fits, has skills
    >>> float(scorer.predict(x)[0])
    1.0
    """

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        context_share: float = 0.2,
        implicit_share: float = 0.6,
        alpha: float = 1.0,
    ) -> None:
        self.weights = weights
        self.context_share = context_share
        self.implicit_share = implicit_share
        self.alpha = alpha

    @classmethod
    def default(cls) -> MatchScorer:
        """The transparent default, ready to use: its weights are :data:`DEFAULT_WEIGHTS`."""
        scorer = cls()
        scorer.weights_ = scorer._start()
        scorer.n_features_in_ = len(FEATURES)
        return scorer

    def _start(self) -> np.ndarray:
        weights = {**DEFAULT_WEIGHTS, **(self.weights or {})}
        unknown = set(weights) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(
                f"unknown weight(s) {sorted(unknown)}; known: {sorted(DEFAULT_WEIGHTS)}"
            )
        w = np.array([weights[k] for k in (*_SKILL_PARTS, *_CONTEXT_PARTS)], dtype=np.float64)
        if (w < 0).any():
            raise ValueError("weights must be >= 0 so that more evidence never lowers a score")
        return w

    def _parts(self, cols, w: np.ndarray):
        """Contributions of the four skill parts to ``match``, and the context multiplier.

        ``cols`` maps feature names to arrays that broadcast together: columns of
        a feature matrix (one value per row) or a pair grid with per-candidate
        ``(n, 1)`` and per-vacancy ``(1, m)`` entries. The same arithmetic serves both.
        """

        def shares(names: tuple[str, ...], offset: int):
            ws = [w[offset + i] * cols[_AVAILABLE[k]] for i, k in enumerate(names)]
            total = ws[0] + ws[1]
            safe = np.where(total > 0, total, 1.0)
            return [np.where(total > 0, wk / safe, 0.0) for wk in ws], total > 0

        (s_req, s_opt), has_exp = shares(_EXPLICIT, 0)
        (s_prof, s_title), has_imp = shares(_IMPLICIT, len(_EXPLICIT))
        imp_prof = s_prof * cols["profile_coverage"]
        imp_title = s_title * cols["title_fit"]
        beta = np.where(has_imp, np.where(has_exp, float(self.implicit_share), 1.0), 0.0)
        gate = cols["has_skills"]
        # match = explicit * (1 - beta * implicit) + beta * implicit, split per part.
        keep = (1.0 - beta * (imp_prof + imp_title)) * gate
        parts = [
            s_req * cols["required_coverage"] * keep,
            s_opt * cols["optional_coverage"] * keep,
            imp_prof * beta * gate,
            imp_title * beta * gate,
        ]
        wc = w[len(_SKILL_PARTS) :]
        total_c = float(wc.sum())
        if total_c > 0:
            context = (wc[0] * cols["experience_fit"] + wc[1] * cols["location_fit"]) / total_c
        else:
            context = 1.0
        share = float(self.context_share)
        return parts, 1.0 - share + share * context

    def _score(self, cols, w: np.ndarray) -> np.ndarray:
        parts, multiplier = self._parts(cols, w)
        return np.clip((parts[0] + parts[1] + parts[2] + parts[3]) * multiplier, 0.0, 1.0)

    @staticmethod
    def _columns(x: np.ndarray) -> dict[str, np.ndarray]:
        return {name: x[:, i] for i, name in enumerate(FEATURES)}

    def score_grid(self, columns: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
        """Scores of a whole candidate x vacancy grid from broadcastable feature columns.

        Equal to :meth:`predict` on the same pairs' feature rows, without building them.
        """
        check_is_fitted(self, "weights_")
        return np.broadcast_to(self._score(columns, self.weights_), shape)

    def bound_coefficients(self, vacancy_columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per-vacancy coefficients of an upper bound on the score.

        With ``explicit = coef["required_coverage"] * required_coverage +
        coef["optional_coverage"] * optional_coverage`` and ``implicit`` the same over
        profile coverage and title fit, every candidate's score is at most
        :meth:`match_bound` ``(explicit, implicit)``, and at most their plain sum:
        experience and location only ever scale a score down, and implicit evidence
        only fills the gap the explicit skills leave. ``vacancy_columns`` holds the
        ``has_required``, ``has_optional`` and ``has_occupation`` flags, one per
        vacancy. The exact top-k search (:mod:`matcher.search`) prunes with this bound.

        >>> scorer = MatchScorer.default()
        >>> flags = {k: np.array([1.0]) for k in ("has_required", "has_optional", "has_occupation")}
        >>> coef = scorer.bound_coefficients(flags)
        >>> [round(float(coef[k][0]), 3) for k in ("required_coverage", "profile_coverage")]
        [0.85, 0.36]
        """
        check_is_fitted(self, "weights_")
        m = len(np.asarray(vacancy_columns["has_required"]).ravel())
        flags = {
            k: np.asarray(vacancy_columns[k], dtype=np.float64).ravel() for k in _AVAILABLE.values()
        }
        out = {}
        for name in _SKILL_PARTS:
            cols = {f: np.zeros(m) for f in FEATURES}
            cols.update(flags)
            cols.update(has_skills=np.ones(m), experience_fit=np.ones(m), location_fit=np.ones(m))
            cols[name] = np.ones(m)
            parts, _ = self._parts(cols, self.weights_)
            out[name] = np.asarray(parts[_SKILL_PARTS.index(name)], dtype=np.float64)
        return out

    @staticmethod
    def match_bound(explicit: np.ndarray, implicit: np.ndarray) -> np.ndarray:
        """An upper bound on the score from upper bounds on its two skill parts.

        ``match = explicit + implicit * (1 - explicit)`` grows with each part while
        the other is at most 1 (coverages and title fit are; the coefficients of
        :meth:`bound_coefficients` weigh them by shares that sum to at most 1), and
        the context multiplier is at most 1. Far tighter than the sum when both
        parts are high, which is where shortlists are decided.

        >>> float(MatchScorer.match_bound(np.array(0.8), np.array(0.48)))
        0.896
        """
        e = np.minimum(explicit, 1.0)
        out = np.subtract(1.0, e)
        out *= np.minimum(implicit, 1.0)
        out += e
        return out

    def fit(self, X, y, sample_weight=None) -> MatchScorer:
        """Learn non-negative weights that make the score predict ``y`` (0/1 outcomes or [0, 1])."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if X.shape[1] != len(FEATURES):
            raise ValueError(
                f"expected {len(FEATURES)} feature columns {FEATURES}, got {X.shape[1]}"
            )
        for name in ("context_share", "implicit_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        y = np.clip(np.asarray(y, dtype=np.float64), 0.0, 1.0)
        sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
        start = self._start()
        eps = 1e-6

        cols = self._columns(X)

        def loss(w: np.ndarray) -> float:
            p = np.clip(self._score(cols, w), eps, 1 - eps)
            ll = -(sw * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() / sw.sum()
            return float(ll + self.alpha * 1e-3 * ((w - start) ** 2).sum())

        result = minimize(loss, start, method="L-BFGS-B", bounds=[(0.0, None)] * len(start))
        w = result.x
        # Only ratios matter within each group: normalise for readability.
        for lo, hi in ((0, 2), (2, 4), (4, 6)):
            if w[lo:hi].sum() > 0:
                w[lo:hi] /= w[lo:hi].sum()
        self.weights_ = w
        return self

    def predict(self, X) -> np.ndarray:
        """Scores in [0, 1], one per feature row."""
        check_is_fitted(self, "weights_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._score(self._columns(X), self.weights_)

    def contributions(self, X) -> np.ndarray:
        """Per-row contribution of each skill part and of the context to the score.

        Columns: the four skill parts then ``context`` (what experience and
        location took away, <= 0); they sum to the score.
        """
        check_is_fitted(self, "weights_")
        X = np.asarray(X, dtype=np.float64)
        parts, multiplier = self._parts(self._columns(X), self.weights_)
        match = parts[0] + parts[1] + parts[2] + parts[3]
        score = np.clip(match * multiplier, 0.0, 1.0)
        return np.column_stack([*parts, score - match])

    @property
    def weight_table(self) -> dict[str, float]:
        check_is_fitted(self, "weights_")
        return dict(zip((*_SKILL_PARTS, *_CONTEXT_PARTS), map(float, self.weights_)))
