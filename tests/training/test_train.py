"""Issue 7's acceptance on the synthetic history: accuracy, back-test, no leakage, no proxies."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from matcher.config import FEATURES
from training.train import cross_validate

pytestmark = pytest.mark.eval


def _auc(table, rows, scorer):
    t = table[(table["rows"] == rows) & (table["scorer"] == scorer)]
    return float(t["auc"].iloc[0])


@pytest.mark.parametrize("rows", ["grouped-cv", "back-test 2025Q2"])
def test_learned_auc_is_near_the_ground_truth_and_above_the_default(report, rows):
    learned = _auc(report.heldout, rows, "learned")
    truth = _auc(report.heldout, rows, "ground-truth")
    default = _auc(report.heldout, rows, "default-weights")
    assert truth - learned <= 0.03, (learned, truth)
    assert learned - default >= 0.05, (learned, default)


def test_backtest_assignment_retains_more_than_the_default_weights(report):
    ret = report.retained.set_index("scorer")
    gain = ret.loc["default-weights", "gain_of_first"]
    assert gain > 0
    assert ret.loc["default-weights", "gain_ci95_low"] > 0  # the interval excludes no gain


def _brier(table, rows, scorer):
    t = table[(table["rows"] == rows) & (table["scorer"] == scorer)]
    return float(t["brier"].iloc[0])


@pytest.mark.parametrize("rows", ["grouped-cv", "back-test 2025Q2"])
def test_learned_weights_are_non_negative_and_calibrated(trained, report, rows):
    """Probabilities close to the hidden truth's on the same placements.

    The Brier score (a proper score: it grows with miscalibration) is compared with the
    hidden truth's own on the same rows, so both face the same sampling noise. The
    calibration curve of ~200 back-test placements (10 bins of ~20) is too noisy to be
    judged bin by bin: a perfectly calibrated model already averages ~0.08 of binomial
    noise per bin. Its overall level is judged instead (the cohorts drift, so a gap of a
    few points is expected).
    """
    weights = trained.scorer.weight_table
    assert all(weights[f] >= 0 for f in FEATURES[:6])
    table = report.heldout
    assert _brier(table, rows, "learned") - _brier(table, rows, "ground-truth") <= 0.02
    assert _brier(table, rows, "learned") < _brier(table, rows, "default-weights") - 0.1
    curve = report.calibration
    level = np.average(curve["predicted"] - curve["observed"], weights=curve["n"])
    assert abs(level) < 0.1


def test_shuffled_labels_give_chance_auc(dataset):
    rng = np.random.default_rng(7)
    frame = dataset.frame.copy()
    frame["label"] = rng.permutation(frame["label"].to_numpy())
    shuffled = dataclasses.replace(dataset, frame=frame)
    oof = cross_validate(shuffled)
    auc = roc_auc_score(oof["label"], oof["proba"])
    assert abs(auc - 0.5) <= 0.05, auc


def test_no_cohort_leaks_into_its_own_test(dataset):
    """Flipping every label of one cohort does not move that cohort's out-of-fold scores."""
    last = dataset.cohorts[-1]
    frame = dataset.frame.copy()
    mask = (frame["cohort"] == last).to_numpy()
    frame.loc[mask, "label"] = 1 - frame.loc[mask, "label"]
    flipped = dataclasses.replace(dataset, frame=frame)
    a = cross_validate(dataset)["proba"].to_numpy()[mask]
    b = cross_validate(flipped)["proba"].to_numpy()[mask]
    np.testing.assert_allclose(a, b)


def test_scores_ignore_gender_and_birth_year(engine, history, trained):
    from matcher.engine import MatchEngine

    _, cands, vacs = history
    learned = MatchEngine(
        engine.taxonomy,
        regions=engine.regions,
        scorer=trained.scorer,
        normaliser=engine.normaliser,
        model_version="test",
    )
    some = cands[:60]
    swapped = [
        dataclasses.replace(
            c,
            gender={"F": "M", "M": "F"}.get(c.gender or "", "F"),
            birth_year=(c.birth_year or 1990) - 25,
        )
        for c in some
    ]
    vb = learned.encode_vacancies(vacs)
    a = learned.score(learned.encode_candidates(some), vb).scores
    b = learned.score(learned.encode_candidates(swapped), vb).scores
    np.testing.assert_array_equal(a, b)
    assert not {"gender", "birth_year", "age", "name"} & set(FEATURES)


def test_the_group_effect_is_not_learned_through_proxies(report, dataset, trained):
    """Women's placements lasted less (employers' conduct, hidden truth); scores barely differ.

    The gap the fixture carries is read from the hidden truth of the back-test placements:
    the observed gap of ~100 placements a group has a standard error of about 0.06 around
    an expected 0.08, too noisy to be the yardstick.
    """
    import pandas as pd

    from fixtures.outcomes.generate import HERE

    truth = pd.read_csv(HERE / "truth.csv")[["placement_id", "p_true"]]
    frame = dataset.frame
    test = frame[frame["cohort"] == trained.test_cohort].merge(truth, on="placement_id")
    p_true = test.groupby("gender")["p_true"].mean()
    true_gap = p_true["M"] - p_true["F"]
    g = report.groups[report.groups["attribute"] == "gender"].set_index("group")
    score_gap = g.loc["M", "mean_score"] - g.loc["F", "mean_score"]
    assert true_gap > 0.05
    assert abs(score_gap) < true_gap / 3
