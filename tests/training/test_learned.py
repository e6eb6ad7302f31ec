"""The learned scorer is a well-behaved sklearn estimator and keeps evidence weights >= 0."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from matcher.config import FEATURES
from matcher.learned import EVIDENCE, ModelArtifactError, OutcomeScorer


@parametrize_with_checks([OutcomeScorer(), OutcomeScorer(non_negative=(0,))])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_evidence_weights_stay_non_negative_even_when_the_data_say_otherwise():
    rng = np.random.default_rng(0)
    X = rng.random((400, len(FEATURES)))
    y = (X[:, 1] < 0.5).astype(int)  # optional coverage *hurts* in this data
    free = OutcomeScorer().fit(X, y)
    kept = OutcomeScorer(non_negative=tuple(range(len(EVIDENCE)))).fit(X, y)
    assert free.coef_[1] < -1
    assert (kept.coef_[: len(EVIDENCE)] >= 0).all()


def test_json_round_trip_gives_identical_scores():
    rng = np.random.default_rng(1)
    X = rng.random((200, len(FEATURES)))
    y = (X[:, 0] + rng.normal(0, 0.3, 200) > 0.5).astype(int)
    scorer = OutcomeScorer(non_negative=(0, 1)).fit(X, y).calibrate(X[:, 0] * 3 - 1, y)
    back, version = OutcomeScorer.from_dict(scorer.to_dict())
    assert version.startswith("outcome-logit@")
    np.testing.assert_allclose(back.predict_proba(X), scorer.predict_proba(X))
    cols = {name: X[:, k][:, None] for k, name in enumerate(FEATURES)}
    np.testing.assert_allclose(back.score_grid(cols, (200, 1))[:, 0], scorer.predict_proba(X)[:, 1])
    contrib = back.contributions(X)
    np.testing.assert_allclose(contrib.sum(axis=1), back.predict_proba(X)[:, 1])


def test_engine_protocol_refuses_a_scorer_fitted_on_other_columns():
    scorer = OutcomeScorer().fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
    with pytest.raises(ModelArtifactError, match="pair features"):
        scorer.to_dict()
