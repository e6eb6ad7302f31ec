"""Fit the outcome scorer: logistic on the engine's features, Platt-calibrated, checked two ways.

* **Grouped cross-validation** by cohort (the quarter a placement started): every cohort
  is predicted by a model that never saw it (``LeaveOneGroupOut``).
* **Time-ordered back-test**: fit on the earlier cohorts, test on the last one, as the
  model would have been used.

The Platt layer is always fitted on out-of-fold logits of the training cohorts, never on
the rows it is then judged on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut

from matcher.config import FEATURES
from matcher.learned import EVIDENCE, OutcomeScorer
from training.datasets import LabelledPairs

__all__ = ["TrainConfig", "TrainResult", "backtest", "cross_validate", "fit_scorer", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """How the outcome scorer is trained; saved with the model.

    Parameters
    ----------
    C : float
        Inverse L2 penalty of the logistic weights.
    horizon_months : float
        The label: still employed this many months after the start.
    calibration : str
        ``"platt"`` (on out-of-fold logits) or ``"none"``.
    """

    model: str = "logistic"
    C: float = 1.0
    horizon_months: float = 6.0
    calibration: str = "platt"

    def __post_init__(self) -> None:
        from matcher.exceptions import ConfigError

        problems = []
        if self.model != "logistic":
            problems.append(f"model must be 'logistic', got {self.model!r}")
        if not self.C > 0:
            problems.append(f"C must be > 0, got {self.C}")
        if not self.horizon_months > 0:
            problems.append(f"horizon_months must be > 0, got {self.horizon_months}")
        if self.calibration not in ("platt", "none"):
            problems.append(f"calibration must be 'platt' or 'none', got {self.calibration!r}")
        if problems:
            raise ConfigError("TrainConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class TrainResult:
    """The scorer fitted on every cohort, and the evidence it generalises."""

    scorer: OutcomeScorer
    config: TrainConfig
    cv: pd.DataFrame  # out-of-fold: placement_id, cohort, label, proba (grouped by cohort)
    backtest: pd.DataFrame  # last cohort: placement_id, cohort, label, proba
    backtest_scorer: OutcomeScorer  # fitted on the earlier cohorts only
    train_cohorts: list[str]
    test_cohort: str


def _estimator(config: TrainConfig) -> OutcomeScorer:
    return OutcomeScorer(C=config.C, non_negative=tuple(FEATURES.index(f) for f in EVIDENCE))


def _two_classes(y: np.ndarray, what: str) -> None:
    from matcher.exceptions import ConfigError

    if len(np.unique(y)) < 2:
        raise ConfigError(
            f"{what}: every labelled placement has the same outcome; need both retained and "
            "left placements to learn anything"
        )


def _oof_logits(X: np.ndarray, y: np.ndarray, groups: np.ndarray, config: TrainConfig):
    out = np.full(len(y), np.nan)
    for fit_idx, test_idx in LeaveOneGroupOut().split(X, y, groups):
        if len(np.unique(y[fit_idx])) < 2:
            continue
        out[test_idx] = (
            _estimator(config).fit(X[fit_idx], y[fit_idx]).decision_function(X[test_idx])
        )
    return out


def fit_scorer(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, config: TrainConfig
) -> OutcomeScorer:
    """Fit on all rows; calibrate on out-of-fold logits (grouped) when there are 2+ groups."""
    _two_classes(y, "training set")
    scorer = _estimator(config).fit(X, y)
    if config.calibration == "platt" and len(np.unique(groups)) >= 2:
        z = _oof_logits(X, y, groups, config)
        ok = np.isfinite(z)
        if len(np.unique(y[ok])) == 2:
            scorer.calibrate(z[ok], y[ok])
    return scorer


def _frame(data: LabelledPairs, mask: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    out = data.frame.loc[mask, ["placement_id", "candidate_id", "vacancy_id", "cohort", "label"]]
    out = out.reset_index(drop=True)
    out["proba"] = proba
    return out


def cross_validate(data: LabelledPairs, config: TrainConfig | None = None) -> pd.DataFrame:
    """Out-of-fold calibrated probabilities: each cohort predicted by a model without it."""
    config = config or TrainConfig()
    X, y, groups = data.X, data.y, data.groups
    proba = np.full(len(y), np.nan)
    for fit_idx, test_idx in LeaveOneGroupOut().split(X, y, groups):
        assert not set(groups[fit_idx]) & set(groups[test_idx])  # no cohort in its own test
        model = fit_scorer(X[fit_idx], y[fit_idx], groups[fit_idx], config)
        proba[test_idx] = model.predict_proba(X[test_idx])[:, 1]
    return _frame(data, np.ones(len(y), dtype=bool), proba)


def backtest(
    data: LabelledPairs, config: TrainConfig | None = None
) -> tuple[OutcomeScorer, pd.DataFrame]:
    """Fit on every cohort before the last, predict the last."""
    from matcher.exceptions import ConfigError

    config = config or TrainConfig()
    cohorts = data.cohorts
    if len(cohorts) < 2:
        raise ConfigError(
            f"the back-test needs at least 2 cohorts (start quarters), got {len(cohorts)}"
        )
    test = data.groups == cohorts[-1]
    model = fit_scorer(data.X[~test], data.y[~test], data.groups[~test], config)
    return model, _frame(data, test, model.predict_proba(data.X[test])[:, 1])


def train(data: LabelledPairs, config: TrainConfig | None = None) -> TrainResult:
    """Grouped cross-validation, the back-test, and the final scorer fitted on every cohort.

    Examples
    --------
    >>> from fixtures.outcomes.generate import AS_OF
    >>> from training.datasets import build_dataset, load_history
    >>> from matcher.io import load_engine
    >>> outcomes, cands, vacs = load_history("fixtures/outcomes/outcomes.csv")
    >>> data = build_dataset(load_engine(), outcomes, cands, vacs, as_of=AS_OF)
    >>> result = train(data)
    >>> result.test_cohort, result.scorer.weight_table["optional_coverage"] >= 0
    ('2025Q2', True)
    """
    config = config or TrainConfig()
    cv = cross_validate(data, config)
    bt_model, bt = backtest(data, config)
    scorer = fit_scorer(data.X, data.y, data.groups, config)
    return TrainResult(
        scorer=scorer,
        config=config,
        cv=cv,
        backtest=bt,
        backtest_scorer=bt_model,
        train_cohorts=data.cohorts[:-1],
        test_cohort=data.cohorts[-1],
    )


# ------------------------------------------------------------------- CLI
def add_train_arguments(parser) -> None:
    parser.add_argument("--outcomes", required=True, help="placements export CSV")
    parser.add_argument("--candidates", default=None, help="default: candidates.jsonl beside it")
    parser.add_argument("--vacancies", default=None, help="default: vacancies.jsonl beside it")
    parser.add_argument("--out", required=True, help="model folder (model.json, MODEL_CARD.md)")
    parser.add_argument("--horizon-months", type=float, default=6.0, dest="horizon_months")
    parser.add_argument("--C", type=float, default=1.0, dest="C")
    parser.add_argument("--as-of", default=None, dest="as_of", help="export date (default today)")


def run_train(args) -> int:
    """``reintegra train``: outcomes -> model folder; prints the metrics."""
    from training.artifacts import save_model
    from training.datasets import dataset_from_args
    from training.evaluate import evaluate_training

    engine, data, cands, vacs = dataset_from_args(args)
    config = TrainConfig(C=args.C, horizon_months=args.horizon_months)
    result = train(data, config)
    report = evaluate_training(result, data, engine=engine, candidates=cands, vacancies=vacs)
    version = save_model(result, data, report, args.out)
    print(f"model {version} written to {args.out}")
    print(report.summary())
    return 0
