"""A scorer learned from outcomes: a logistic model on the engine's pair features.

:class:`OutcomeScorer` estimates the probability that a placement lasts (``training/``
fits it on follow-up visits). It is an sklearn classifier, and the engine can use it in
place of :class:`~matcher.scorer.MatchScorer`: it has the same ``score_grid`` and
``contributions``. Its state is a handful of numbers, so it is saved as versioned JSON
(:meth:`OutcomeScorer.to_dict`, :meth:`OutcomeScorer.from_dict`): loading a model reads
numbers and never executes anything; a payload whose digest does not match is refused.

The weights of ``non_negative`` columns are kept >= 0 (``training`` passes the six
evidence features), so more evidence never lowers a score. A Platt layer
(``calibration_``: slope and offset on the logit) maps the logit to a calibrated
probability; its slope is kept > 0, so it never reorders pairs.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from matcher.config import FEATURES
from matcher.exceptions import MatcherError

__all__ = ["EVIDENCE", "FORMAT", "FORMAT_VERSION", "ModelArtifactError", "OutcomeScorer"]

#: The evidence features whose weights stay non-negative (more evidence, never less score).
EVIDENCE = (
    "required_coverage",
    "optional_coverage",
    "profile_coverage",
    "title_fit",
    "experience_fit",
    "location_fit",
)
FORMAT = "reintegra.outcome-scorer"
FORMAT_VERSION = 1
_SKILL_PARTS = ("required_coverage", "optional_coverage", "profile_coverage", "title_fit")


class ModelArtifactError(MatcherError):
    """A model file is not a reintegra model, was altered, or was made for other features."""

    code = "model_invalid"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class OutcomeScorer(ClassifierMixin, BaseEstimator):
    """Penalised logistic regression with optionally non-negative weights and a Platt layer.

    Parameters
    ----------
    C : float
        Inverse strength of the L2 penalty on the weights (not on the intercept).
    non_negative : tuple of int
        Columns whose weight must stay >= 0.
    max_iter : int
        Iterations of the L-BFGS-B solver.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.2], [0.8], [1.0]])
    >>> scorer = OutcomeScorer(C=10.0).fit(X, [0, 0, 1, 1])
    >>> scorer.predict([[0.1], [0.9]]).tolist()
    [0, 1]
    """

    def __init__(self, C: float = 1.0, non_negative: tuple[int, ...] = (), max_iter: int = 500):
        self.C = C
        self.non_negative = non_negative
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None) -> OutcomeScorer:
        """Fit the weights and intercept on 0/1 (or any two-class) outcomes ``y``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if type_of_target(y, input_name="y") not in ("binary",):
            raise ValueError(
                "Only binary classification is supported. OutcomeScorer models retained or "
                f"not; y has {len(np.unique(y))} classes"
            )
        self.classes_, target = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(
                f"OutcomeScorer needs two classes in y, got 1 class ({self.classes_[0]!r}); "
                "need both retained and left outcomes"
            )
        if not self.C > 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        d = X.shape[1]
        bad = [i for i in self.non_negative if not 0 <= int(i) < d]
        if bad:
            raise ValueError(f"non_negative columns {bad} are out of range for {d} features")
        t = target.astype(np.float64)
        total = sw.sum() if sw.sum() > 0 else 1.0
        mean = (sw @ X) / total
        scale = np.sqrt(np.maximum((sw @ (X - mean) ** 2) / total, 0.0))
        scale = np.where(scale > 0, scale, 1.0)  # solve on standardised columns, report raw
        Xs = X / scale
        penalty = 1.0 / (self.C * total)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:d], theta[d]
            z = Xs @ w + b
            # log(1 + e^z) - t z, stably
            ll = np.logaddexp(0.0, z) - t * z
            r = (_sigmoid(z) - t) * sw / total
            value = float((sw * ll).sum() / total + 0.5 * penalty * (w @ w))
            grad = np.concatenate([Xs.T @ r + penalty * w, [r.sum()]])
            return value, grad

        bounds = [
            (0.0, None) if i in {int(k) for k in self.non_negative} else (None, None)
            for i in range(d)
        ] + [(None, None)]
        result = minimize(
            loss,
            np.zeros(d + 1),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": int(self.max_iter), "ftol": 1e-12, "gtol": 1e-9},
        )
        self.coef_ = result.x[:d] / scale
        self.intercept_ = float(result.x[d])
        self.calibration_ = np.array([1.0, 0.0])
        self.n_iter_ = int(result.nit)
        return self

    def calibrate(self, logits, y) -> OutcomeScorer:
        """Fit the Platt layer on held-out logits (:meth:`decision_function`) and 0/1 outcomes.

        The logits must come from data the weights were not fitted on (out-of-fold).
        """
        check_is_fitted(self, "coef_")
        z = np.asarray(logits, dtype=np.float64).ravel()
        t = np.asarray(y, dtype=np.float64).ravel()

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            u = theta[0] * z + theta[1]
            r = (_sigmoid(u) - t) / len(t)
            value = float((np.logaddexp(0.0, u) - t * u).mean())
            return value, np.array([(r * z).sum(), r.sum()])

        result = minimize(
            loss,
            np.array([1.0, 0.0]),
            jac=True,
            method="L-BFGS-B",
            bounds=[(1e-3, None), (None, None)],
        )
        self.calibration_ = result.x.astype(np.float64)
        return self

    # -------------------------------------------------------------- predict
    def decision_function(self, X) -> np.ndarray:
        """The uncalibrated logit of every row."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities, columns in the order of ``classes_``."""
        z = self.decision_function(X)
        a, b = self.calibration_
        p = _sigmoid(a * z + b)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """The more likely class of every row."""
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]

    # ------------------------------------------------------- engine protocol
    def _check_engine_features(self) -> None:
        check_is_fitted(self, "coef_")
        if self.n_features_in_ != len(FEATURES):
            raise ModelArtifactError(
                f"this scorer was fitted on {self.n_features_in_} columns; the engine needs "
                f"the {len(FEATURES)} pair features {FEATURES}"
            )

    def score_grid(self, columns: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
        """Calibrated retention probabilities of a candidate x vacancy grid of feature columns."""
        self._check_engine_features()
        z = np.full(shape, self.intercept_, dtype=np.float64)
        for k, name in enumerate(FEATURES):
            z = z + self.coef_[k] * np.broadcast_to(columns[name], shape)
        a, b = self.calibration_
        return _sigmoid(a * z + b)

    def contributions(self, X) -> np.ndarray:
        """Share of each skill part in the score, and the rest (context and base rate).

        The score is split in proportion to each feature's positive push on the logit;
        columns: the four skill parts then ``context`` (everything else). They sum to the score.
        """
        self._check_engine_features()
        X = np.asarray(X, dtype=np.float64)
        score = self.predict_proba(X)[:, 1]
        push = np.clip(X * self.coef_, 0.0, None)
        total = push.sum(axis=1)
        safe = np.where(total > 0, total, 1.0)
        idx = [FEATURES.index(name) for name in _SKILL_PARTS]
        parts = [np.where(total > 0, push[:, i] / safe, 0.0) * score for i in idx]
        rest = score - np.sum(parts, axis=0)
        return np.column_stack([*parts, rest])

    @property
    def weight_table(self) -> dict[str, float]:
        """Logit weight of every feature (the engine's names when fitted on them)."""
        check_is_fitted(self, "coef_")
        names = FEATURES if self.n_features_in_ == len(FEATURES) else range(self.n_features_in_)
        return {str(n): float(w) for n, w in zip(names, self.coef_)}

    # ---------------------------------------------------------- versioned JSON
    def to_dict(self, *, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """The fitted state as plain JSON data, with a digest that :meth:`from_dict` checks."""
        self._check_engine_features()
        body = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": "outcome-logit",
            "features": list(FEATURES),
            "params": {
                "C": float(self.C),
                "non_negative": [int(i) for i in self.non_negative],
                "max_iter": int(self.max_iter),
            },
            "classes": [int(c) for c in self.classes_],
            "coef": [float(w) for w in self.coef_],
            "intercept": float(self.intercept_),
            "calibration": [float(v) for v in self.calibration_],
            "metadata": metadata or {},
        }
        digest = _digest(body)
        return {**body, "sha256": digest, "model_version": f"outcome-logit@{digest[:12]}"}

    @classmethod
    def from_dict(cls, payload: Any, *, source: str = "model") -> tuple[OutcomeScorer, str]:
        """A fitted scorer and its model version from :meth:`to_dict` output.

        Raises
        ------
        ModelArtifactError
            Not a reintegra outcome model, a format this version cannot read, other
            features, non-finite or negative evidence weights, or a digest mismatch
            (the file was altered after it was written).
        """
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
            raise ModelArtifactError(
                f"{source}: not a reintegra outcome model (format {got!r}, expected "
                f"{FORMAT!r}); train one with `reintegra train`"
            )
        if payload.get("format_version") != FORMAT_VERSION:
            raise ModelArtifactError(
                f"{source}: model format version {payload.get('format_version')!r}; this "
                f"reintegra reads version {FORMAT_VERSION}; retrain or upgrade"
            )
        body = {k: v for k, v in payload.items() if k not in ("sha256", "model_version")}
        if payload.get("sha256") != _digest(body):
            raise ModelArtifactError(
                f"{source}: digest mismatch: the model file was altered after training "
                "(or is corrupt); refusing to load it. Retrain or restore the original file"
            )
        if list(body.get("features", [])) != list(FEATURES):
            raise ModelArtifactError(
                f"{source}: trained on features {body.get('features')}, this engine computes "
                f"{list(FEATURES)}; retrain"
            )
        try:
            coef = np.array(body["coef"], dtype=np.float64)
            intercept = float(body["intercept"])
            calibration = np.array(body["calibration"], dtype=np.float64)
            params = body["params"]
            scorer = cls(
                C=float(params["C"]),
                non_negative=tuple(int(i) for i in params["non_negative"]),
                max_iter=int(params["max_iter"]),
            )
            classes = np.array(body["classes"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelArtifactError(f"{source}: malformed model ({exc})") from exc
        finite = np.isfinite(coef).all() and math.isfinite(intercept)
        if coef.shape != (len(FEATURES),) or calibration.shape != (2,) or not finite:
            raise ModelArtifactError(f"{source}: weights have the wrong shape or are not finite")
        if (coef[list(scorer.non_negative)] < 0).any() or calibration[0] <= 0:
            raise ModelArtifactError(f"{source}: negative evidence weight or calibration slope")
        scorer.coef_ = coef
        scorer.intercept_ = intercept
        scorer.calibration_ = calibration
        scorer.classes_ = classes
        scorer.n_features_in_ = len(FEATURES)
        scorer.n_iter_ = 0
        return scorer, f"outcome-logit@{payload['sha256'][:12]}"


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
