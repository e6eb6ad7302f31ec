"""How good is a scorer against observed outcomes, and what would it have changed?

* discrimination and calibration: AUC, Brier score, a calibration curve;
* shortlists: NDCG@10 of each vacancy's placed candidates ranked by score, against who
  actually stayed;
* the GeoMatch-style back-test: assign the last cohort with the cohort optimiser
  (:func:`matcher.assign.assign`) once with the learned scorer and once with the default
  weights, and count the expected retained placements of each assignment, with a
  bootstrap interval over candidates;
* by group (gender, age band): AUC and the selection rate of each assignment.

Expected retention is measured with a *judge*: the hidden ground truth on synthetic data,
otherwise the learned, calibrated model itself (GeoMatch's estimate; it favours the
learned scorer, and the report says which judge was used).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, ndcg_score, roc_auc_score

from matcher.config import FEATURES
from matcher.scorer import MatchScorer
from training.datasets import LabelledPairs

__all__ = [
    "EvaluationReport",
    "Judge",
    "assignment_backtest",
    "calibration_curve",
    "evaluate_model",
    "evaluate_training",
    "score_metrics",
]

#: judge(features (n, len(FEATURES)), gender (n,), cohort labels (n,)) -> P(retained)
Judge = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s)) if len(np.unique(y)) == 2 else float("nan")


def ndcg_at(frame: pd.DataFrame, scores: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over vacancies with 2+ placements and at least one retained."""
    values = []
    for _, idx in frame.groupby("vacancy_id").indices.items():
        y = frame["label"].to_numpy()[idx]
        if len(idx) < 2 or y.sum() == 0:
            continue
        values.append(ndcg_score(y[None, :], np.asarray(scores)[idx][None, :], k=k))
    return float(np.mean(values)) if values else float("nan")


def score_metrics(frame: pd.DataFrame, scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """AUC, Brier and NDCG@10 of each named score column against ``frame['label']``."""
    y = frame["label"].to_numpy()
    rows = []
    for name, s in scores.items():
        s = np.asarray(s, dtype=np.float64)
        rows.append(
            {
                "scorer": name,
                "n": len(y),
                "auc": _auc(y, s),
                "brier": float(brier_score_loss(y, np.clip(s, 0, 1))),
                "ndcg@10": ndcg_at(frame, s),
            }
        )
    return pd.DataFrame(rows)


def calibration_curve(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted against observed retention in quantile bins of the prediction."""
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, min(n_bins, len(p)) or 1)
    return pd.DataFrame(
        [
            {"bin": b, "n": len(i), "predicted": float(p[i].mean()), "observed": float(y[i].mean())}
            for b, i in enumerate(bins)
            if len(i)
        ]
    )


def _age_band(birth_year, year: int) -> str:
    if birth_year is None or birth_year != birth_year:
        return "not stated"
    age = year - int(birth_year)
    return "<30" if age < 30 else ("30-44" if age < 45 else "45+")


def assignment_backtest(
    engine,
    candidates,
    vacancies,
    scorers: dict[str, Any],
    judge: Judge,
    *,
    cohort: str,
    n_boot: int = 200,
    random_state: int = 0,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Assign ``candidates`` to ``vacancies`` with each scorer; expected retained by ``judge``.

    Returns a table (scorer, assigned, expected_retained, interval of the difference to
    the first scorer) and, per scorer, the 0/1 selection of every candidate.
    """
    from matcher.assign import CandidatePairs, assign

    cb = engine.encode_candidates(candidates)
    vb = engine.encode_vacancies(vacancies)
    scored = engine.score(cb, vb)
    n, m = scored.features.shape
    feats = scored.features.matrix()
    gender = np.repeat([c.gender or "" for c in candidates], m)
    truth = judge(feats, gender, np.full(n * m, cohort)).reshape(n, m)
    caps = np.array([int(v.openings) for v in vacancies], dtype=np.int64)
    grids = {name: s.score_grid(scored.features.columns, (n, m)) for name, s in scorers.items()}

    def solve(rows: np.ndarray) -> dict[str, tuple[float, int, np.ndarray]]:
        out = {}
        for name, grid in grids.items():
            pairs = CandidatePairs.from_matrix(grid[rows], eligible=scored.eligible[rows])
            result = assign(pairs, caps)
            r, c = np.asarray(result.rows, dtype=np.int64), np.asarray(result.cols, dtype=np.int64)
            value = float(truth[rows][r, c].sum())
            chosen = np.zeros(len(rows), dtype=bool)
            chosen[r] = True
            out[name] = (value, len(r), chosen)
        return out

    full = solve(np.arange(n))
    rng = np.random.default_rng(random_state)
    names = list(grids)
    diffs: dict[str, list[float]] = {name: [] for name in names[1:]}
    for _ in range(n_boot):
        sample = solve(rng.integers(0, n, size=n))
        for name in names[1:]:
            diffs[name].append(sample[names[0]][0] - sample[name][0])
    rows = []
    for name in names:
        value, filled, _ = full[name]
        lo = hi = float("nan")
        if diffs.get(name):
            lo, hi = np.percentile(diffs[name], [2.5, 97.5])
        rows.append(
            {
                "scorer": name,
                "assigned": filled,
                "expected_retained": round(value, 2),
                "gain_of_first": round(full[names[0]][0] - value, 2) if name != names[0] else 0.0,
                "gain_ci95_low": round(float(lo), 2),
                "gain_ci95_high": round(float(hi), 2),
            }
        )
    return pd.DataFrame(rows), {name: full[name][2] for name in names}


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Everything ``reintegra evaluate`` prints and the model card shows."""

    heldout: pd.DataFrame  # scorer, n, auc, brier, ndcg@10 (and which rows: cv / backtest)
    calibration: pd.DataFrame
    retained: pd.DataFrame
    groups: pd.DataFrame
    judge: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        fmt = {"float_format": lambda v: f"{v:.3f}"}
        parts = [
            "Held-out discrimination and calibration:",
            self.heldout.to_string(index=False, **fmt),
            "",
            f"Back-test assignment of the last cohort (judge: {self.judge}):",
            self.retained.to_string(index=False, **fmt),
            "",
            "By group (last cohort):",
            self.groups.to_string(index=False, **fmt),
        ]
        return "\n".join(parts + [f"note: {n}" for n in self.notes])


def _group_table(rows: pd.DataFrame, proba: np.ndarray, selections, candidates) -> pd.DataFrame:
    out = []
    by_id = {c.id: c for c in candidates}
    year = max(d.year for d in rows["start_date"]) if len(rows) else 2026
    attrs = {
        "gender": lambda c: c.gender or "not stated",
        "age_band": lambda c: _age_band(c.birth_year, year),
    }
    for attr, get in attrs.items():
        labels_rows = np.array([get(by_id[c]) for c in rows["candidate_id"]])
        labels_all = np.array([get(c) for c in candidates])
        for value in sorted(set(labels_all)):
            mask = labels_rows == value
            rec = {
                "attribute": attr,
                "group": value,
                "placements": int(mask.sum()),
                "observed_retention": float(rows["label"].to_numpy()[mask].mean())
                if mask.any()
                else float("nan"),
                "mean_score": float(proba[mask].mean()) if mask.any() else float("nan"),
                "auc": _auc(rows["label"].to_numpy()[mask], proba[mask]),
                "candidates": int((labels_all == value).sum()),
            }
            for name, chosen in selections.items():
                rec[f"selection_rate[{name}]"] = float(chosen[labels_all == value].mean())
            out.append(rec)
    return pd.DataFrame(out)


def _model_judge(scorer) -> Judge:
    def judge(x: np.ndarray, gender: np.ndarray, cohort: np.ndarray) -> np.ndarray:
        return scorer.predict_proba(x)[:, 1]

    return judge


def _cohort_candidates(data: LabelledPairs, candidates, cohort: str):
    ids = set(data.frame.loc[data.frame["cohort"] == cohort, "candidate_id"])
    return [c for c in candidates if c.id in ids]


def evaluate_training(
    result,
    data: LabelledPairs,
    *,
    engine,
    candidates,
    vacancies,
    judge: Judge | None = None,
    n_boot: int = 200,
) -> EvaluationReport:
    """Held-out metrics of a :class:`~training.train.TrainResult` and its back-test."""
    default = MatchScorer.default()
    frame = data.frame
    X = data.X
    truth = None
    if judge is not None:
        truth = judge(X, frame["gender"].to_numpy(), frame["cohort"].to_numpy())
    cv_scores = {"learned": result.cv["proba"].to_numpy(), "default-weights": default.predict(X)}
    if truth is not None:
        cv_scores = {**cv_scores, "ground-truth": truth}
    cv = score_metrics(frame, cv_scores)
    cv.insert(0, "rows", "grouped-cv")
    test = (frame["cohort"] == result.test_cohort).to_numpy()
    bt_rows = frame[test].reset_index(drop=True)
    bt_scores = {
        "learned": result.backtest["proba"].to_numpy(),
        "default-weights": default.predict(X[test]),
    }
    if truth is not None:
        bt_scores["ground-truth"] = truth[test]
    bt = score_metrics(bt_rows, bt_scores)
    bt.insert(0, "rows", f"back-test {result.test_cohort}")
    heldout = pd.concat([cv, bt], ignore_index=True)
    calib = calibration_curve(bt_rows["label"].to_numpy(), bt_scores["learned"])
    cohort_cands = _cohort_candidates(data, candidates, result.test_cohort)
    retained, selections = assignment_backtest(
        engine,
        cohort_cands,
        vacancies,
        {"learned": result.backtest_scorer, "default-weights": default},
        judge or _model_judge(result.backtest_scorer),
        cohort=result.test_cohort,
        n_boot=n_boot,
    )
    groups = _group_table(bt_rows, bt_scores["learned"], selections, cohort_cands)
    notes = [
        f"training cohorts {', '.join(result.train_cohorts)}; "
        f"back-test cohort {result.test_cohort}",
        f"{len(data.excluded)} placement(s) excluded "
        f"({data.excluded['status'].value_counts().to_dict()}): horizon not reached or no visit",
    ]
    return EvaluationReport(
        heldout=heldout,
        calibration=calib,
        retained=retained,
        groups=groups,
        judge="hidden ground truth" if judge is not None else "learned model (GeoMatch estimate)",
        notes=notes,
    )


def evaluate_model(
    scorer,
    model_version: str,
    data: LabelledPairs,
    *,
    engine,
    candidates,
    vacancies,
    judge: Judge | None = None,
    n_boot: int = 200,
) -> EvaluationReport:
    """Metrics of a saved scorer on (new) outcomes, against the default weights."""
    default = MatchScorer.default()
    frame, X = data.frame, data.X
    scores = {model_version: scorer.predict_proba(X)[:, 1], "default-weights": default.predict(X)}
    if judge is not None:
        scores["ground-truth"] = judge(X, frame["gender"].to_numpy(), frame["cohort"].to_numpy())
    heldout = score_metrics(frame, scores)
    heldout.insert(0, "rows", "all labelled")
    last = data.cohorts[-1]
    cohort_cands = _cohort_candidates(data, candidates, last)
    retained, selections = assignment_backtest(
        engine,
        cohort_cands,
        vacancies,
        {model_version: scorer, "default-weights": default},
        judge or _model_judge(scorer),
        cohort=last,
        n_boot=n_boot,
    )
    rows = frame[(frame["cohort"] == last).to_numpy()].reset_index(drop=True)
    proba = scorer.predict_proba(rows[list(FEATURES)].to_numpy(dtype=np.float64))[:, 1]
    return EvaluationReport(
        heldout=heldout,
        calibration=calibration_curve(frame["label"].to_numpy(), scores[model_version]),
        retained=retained,
        groups=_group_table(rows, proba, selections, cohort_cands),
        judge="hidden ground truth"
        if judge is not None
        else "the model itself (GeoMatch estimate)",
        notes=["a model evaluated on the outcomes it was trained on looks better than it is"],
    )


# ------------------------------------------------------------------- CLI
def add_evaluate_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="model folder (or model.json)")
    parser.add_argument("--outcomes", required=True, help="placements export CSV")
    parser.add_argument("--candidates", default=None, help="default: candidates.jsonl beside it")
    parser.add_argument("--vacancies", default=None, help="default: vacancies.jsonl beside it")
    parser.add_argument("--horizon-months", type=float, default=6.0, dest="horizon_months")
    parser.add_argument("--as-of", default=None, dest="as_of", help="export date (default today)")


def run_evaluate(args) -> int:
    """``reintegra evaluate``: a saved model against outcomes, beside the default weights."""
    from training.artifacts import load_model
    from training.datasets import dataset_from_args

    scorer, version = load_model(args.model)
    engine, data, cands, vacs = dataset_from_args(args)
    print(
        evaluate_model(
            scorer, version, data, engine=engine, candidates=cands, vacancies=vacs
        ).summary()
    )
    return 0
