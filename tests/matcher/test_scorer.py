from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from matcher.config import FEATURES
from matcher.scorer import DEFAULT_WEIGHTS, MatchScorer

COL = {n: i for i, n in enumerate(FEATURES)}


def rows(**values):
    x = np.zeros((1, len(FEATURES)))
    for name in (
        "has_skills",
        "has_required",
        "has_optional",
        "has_occupation",
        "experience_fit",
        "location_fit",
    ):
        x[0, COL[name]] = 1.0
    for name, v in values.items():
        x[0, COL[name]] = v
    return x


def test_all_listed_skills_give_full_score_whatever_the_implicit_evidence():
    s = MatchScorer.default()
    assert s.predict(rows(required_coverage=1, optional_coverage=1))[0] == pytest.approx(1.0)


def test_required_skills_weigh_more_than_nice_to_haves():
    s = MatchScorer.default()
    assert s.predict(rows(required_coverage=1))[0] > s.predict(rows(optional_coverage=1))[0]


def test_no_skills_means_zero_even_with_a_matching_title():
    s = MatchScorer.default()
    assert s.predict(rows(title_fit=1, has_skills=0))[0] == 0.0


def test_contributions_sum_to_the_score():
    s = MatchScorer.default()
    x = np.random.default_rng(0).random((50, len(FEATURES)))
    x[:, COL["has_skills"]] = 1
    assert np.allclose(s.contributions(x).sum(axis=1), s.predict(x))


def test_fit_learns_non_negative_weights_and_predict_needs_fit():
    with pytest.raises(NotFittedError):
        MatchScorer().predict(rows())
    rng = np.random.default_rng(1)
    x = rng.random((400, len(FEATURES)))
    x[:, COL["has_skills"]] = 1
    x[:, COL["has_required"]] = 1
    x[:, COL["has_optional"]] = 1
    y = (rng.random(400) < x[:, COL["optional_coverage"]]).astype(float)  # outcomes follow optional
    fitted = MatchScorer().fit(x, y)
    assert fitted.weights_.min() >= 0
    table = fitted.weight_table
    assert table["optional_coverage"] > DEFAULT_WEIGHTS["optional_coverage"]


def test_negative_weights_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        MatchScorer(weights={"title_fit": -1}).fit(rows(), [1])


def test_grid_scoring_equals_row_scoring(engine, demo_candidates, demo_vacancies):
    """The broadcast grid path and the row-by-row estimator path give the same scores."""
    scored = engine.score(
        engine.encode_candidates(demo_candidates[:80]), engine.encode_vacancies(demo_vacancies)
    )
    rows = engine.scorer.predict(scored.features.matrix()).reshape(scored.scores.shape)
    assert np.abs(rows - scored.scores).max() < 1e-12
    i, j = 3, 5
    assert engine.scorer.predict(scored.features.pair(i, j)[None, :])[0] == pytest.approx(
        scored.scores[i, j], abs=1e-12
    )


def test_vectorised_features_equal_the_per_pair_reference(engine, demo_candidates, demo_vacancies):
    from matcher.config import FEATURES
    from matcher.reference import ReferenceScorer

    cb = engine.encode_candidates(demo_candidates[:60])
    vb = engine.encode_vacancies(demo_vacancies)
    scored = engine.score(cb, vb)
    ref = ReferenceScorer(engine.space, engine.regions, engine.config, engine.scorer)
    cand, vac = ref.prepare(cb, vb)
    pairs = [(i, j) for i in range(len(cb)) for j in range(len(vb))]
    scores, masks = ref.score_pairs(cand, vac, pairs)
    assert np.abs(scores - scored.scores.ravel()).max() < 1e-9
    assert (masks == scored.features.filtered.ravel()).all()
    for i, j in pairs[::97]:
        x, _ = ref.features(cand[i], vac[j])
        assert np.allclose(x, scored.features.pair(i, j), atol=1e-9), dict(zip(FEATURES, x))
