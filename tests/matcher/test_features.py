"""Encoding people into matrices: what a search needs, and what explanations read."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from matcher.features import MentionMemo, _max_matrix
from matcher.profiles import parse_candidates

PEOPLE = parse_candidates(
    [
        {"id": "A", "skills": ["empalme de fibra optica", "OTDR", "trabajos en altura"]},
        {"id": "B", "skills": ["gestión de residuos", "empalme de fibra optica", "xx"]},
        {"id": "C", "skills": [], "past_job_titles": ["electricista"]},
    ]
)


def _same_matrix(a: sparse.csr_matrix, b: sparse.csr_matrix) -> bool:
    return a.shape == b.shape and (a != b).nnz == 0


def test_a_search_encoding_has_the_same_matrices_without_the_mentions(engine):
    full = engine.encode_candidates(PEOPLE)
    lean = engine.encode_candidates(PEOPLE, mentions=False)
    for name in ("skills", "expanded", "years", "titles"):
        assert _same_matrix(getattr(full, name), getattr(lean, name)), name
    assert lean.mentions == ((),) * 3 and lean.title_mentions == ((),) * 3
    assert [m.text for m in full.mentions[1]] == [
        "gestión de residuos",
        "empalme de fibra optica",
        "xx",
    ]
    assert full.mentions[1][2].concept == -1  # unrecognised, kept for the explanation


def test_re_encoding_the_same_people_asks_the_normaliser_nothing_new(engine):
    engine.encode_candidates(PEOPLE, mentions=False)
    calls = []
    real = engine.normaliser.match

    def counting(texts, **kw):
        calls.append(list(texts))
        return real(texts, **kw)

    engine.normaliser.match = counting
    try:
        again = engine.encode_candidates(PEOPLE)
    finally:
        del engine.normaliser.match
    assert calls == []
    assert again.mentions[0][0].concept >= 0


def test_the_memo_answers_like_the_normaliser_and_stays_bounded(normaliser):
    memo = MentionMemo(limit=3)
    texts = ["OTDR", "empalme de fibra optica", "gestion de residuos"]
    concept, score = memo.lookup(normaliser, texts, "skill")
    expected = [normaliser.match([t], kind="skill", top_k=1)[0][0] for t in texts]
    assert concept.tolist() == [m.concept for m in expected]
    assert score.tolist() == [m.score for m in expected]
    assert len(memo) == 3
    memo.lookup(normaliser, ["trabajos en altura"], "skill")
    assert len(memo) == 1  # past its limit it starts afresh
    # The same text as a skill and as an occupation are different questions.
    memo.lookup(normaliser, ["electricista"], "occupation")
    memo.lookup(normaliser, ["electricista"], "skill")
    assert len(memo) == 3


def test_max_matrix_keeps_the_largest_value_of_each_cell():
    rng = np.random.default_rng(3)
    rows = np.sort(rng.integers(0, 40, 2_000))
    cols = rng.integers(0, 30, 2_000)
    vals = rng.random(2_000)
    got = _max_matrix(rows, cols, vals, (40, 30)).toarray()
    want = np.zeros((40, 30))
    np.maximum.at(want, (rows, cols), vals)
    assert np.array_equal(got, want)
    assert _max_matrix([], [], [], (2, 3)).nnz == 0


def test_related_credit_is_the_same_whatever_the_block_of_rows(engine, monkeypatch):
    import matcher.features as features

    whole = engine.encode_candidates(PEOPLE, mentions=False).expanded
    monkeypatch.setattr(features, "_EXPAND_ROWS", 1)
    engine.memo._answers.clear()
    blocked = engine.encode_candidates(PEOPLE, mentions=False).expanded
    assert _same_matrix(whole, blocked)
    # Related credit was added (the test would prove nothing on skills alone).
    assert whole.nnz > engine.encode_candidates(PEOPLE, mentions=False).skills.nnz
