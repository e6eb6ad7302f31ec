"""Ranking quality on the generated ESCO benchmark, engine against BM25 and TF-IDF in one run."""

from __future__ import annotations

import pytest

from evals.ranking import TARGET_MARGIN, TARGET_NDCG, bm25_rank, engine_rank, evaluate, tfidf_rank

pytestmark = pytest.mark.eval


def test_engine_ndcg_beats_target_and_baselines():
    table = evaluate({"engine": engine_rank, "bm25": bm25_rank, "tfidf": tfidf_rank}).set_index(
        "ranker"
    )
    print(table.to_string())
    best_baseline = table.loc[["bm25", "tfidf"], "ndcg_at_10"].max()
    assert table.at["engine", "ndcg_at_10"] >= TARGET_NDCG
    assert table.at["engine", "ndcg_at_10"] >= best_baseline + TARGET_MARGIN
    assert table.at["engine", "mrr"] > table.loc[["bm25", "tfidf"], "mrr"].max()
