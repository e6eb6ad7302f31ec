"""The ranking benchmark itself: generator, grades, metrics and baselines (small sizes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evals import ranking
from evals.ranking import (
    RANKING_COLUMNS,
    bm25_rank,
    evaluate,
    make_benchmark,
    score_rankings,
    tfidf_rank,
)
from matcher.text import fold

pytestmark = pytest.mark.eval

SIZES = {"n_vacancies": 8, "n_candidates": 160}
CANDIDATE_FIELDS = {
    "id",
    "skills",
    "past_job_titles",
    "experience_years",
    "region",
    "willing_to_relocate",
    "certifications",
    "languages",
    "consent_to_share",
}
VACANCY_FIELDS = {
    "id",
    "employer_id",
    "title",
    "sector",
    "description",
    "required_skills",
    "optional_skills",
    "required_certifications",
    "languages",
    "region",
    "remote",
    "openings",
    "monthly_wage_pen",
    "min_experience_years",
}


@pytest.fixture(scope="module")
def bench(taxonomy):
    return make_benchmark(taxonomy, random_state=3, **SIZES)


def _ranker_from_scores(score_of):
    """A rank function that orders all candidates by ``score_of(vacancy_id, candidate_id)``."""

    def rank(_taxonomy, vacancies, candidates, k):
        rows = []
        for v in vacancies:
            scored = sorted(
                ((score_of(v["id"], c["id"]), c["id"]) for c in candidates),
                key=lambda t: -t[0],
            )
            rows += [
                {"vacancy_id": v["id"], "rank": r, "candidate_id": cid, "score": s}
                for r, (s, cid) in enumerate(scored[:k], 1)
            ]
        return pd.DataFrame(rows, columns=list(RANKING_COLUMNS))

    return rank


def test_generator_is_deterministic_for_a_seed(taxonomy, bench):
    again = make_benchmark(taxonomy, random_state=3, **SIZES)
    assert again.vacancies == bench.vacancies
    assert again.candidates == bench.candidates
    assert again.relevance == bench.relevance
    assert again.candidate_occupation == bench.candidate_occupation
    other = make_benchmark(taxonomy, random_state=4, **SIZES)
    assert other.candidates != bench.candidates


def test_records_follow_the_data_contract_and_leak_nothing(taxonomy, bench):
    gendered_pairs = {fold(t) for t in taxonomy.concepts["label_es"] if "/" in t}
    assert len(bench.vacancies) == SIZES["n_vacancies"]
    assert len(bench.candidates) == SIZES["n_candidates"]
    for v in bench.vacancies:
        assert set(v) == VACANCY_FIELDS
        assert 4 <= len(v["required_skills"]) <= 8
        assert v["optional_skills"] and len(v["optional_skills"]) <= 4
        assert v["sector"] in {"energy", "telecom", "environment", "other"}
        assert 1 <= v["openings"] <= 5 and 0 <= v["min_experience_years"] <= 3
        assert v["title"] and fold(v["title"]) not in gendered_pairs  # pairs are split
    for c in bench.candidates:
        assert set(c) == CANDIDATE_FIELDS
        assert c["skills"] and all(isinstance(s, str) and s for s in c["skills"])
        assert len(c["past_job_titles"]) <= 2
        assert 0 <= c["experience_years"] <= 15 and c["consent_to_share"] is True
    text = repr(bench.vacancies) + repr(bench.candidates)
    assert "esco" not in text and "http" not in text
    assert len({c["id"] for c in bench.candidates}) == len(bench.candidates)


def test_skills_are_written_with_held_out_forms_languages_and_noise(bench):
    forms = [f for rows in bench.written_skills.values() for _, _, f in rows]
    share = {kind: np.mean([f.startswith(kind) for f in forms]) for kind in ("heldout", "alt")}
    assert share["heldout"] > 0.08 and share["alt"] > 0.03
    spanish = np.mean([f.endswith("_es") for f in forms])
    assert 0.4 < spanish < 0.8
    # Held-out forms are really missing from the index the engine is built on.
    index = set(bench.taxonomy.labels["text"].map(fold))
    held = [t for rows in bench.written_skills.values() for t, _, f in rows if f == "heldout_en"]
    assert held and np.mean([fold(t) not in index for t in held]) > 0.5
    skills = [s for c in bench.candidates for s in c["skills"]]
    assert any(s != fold(s) and s.isupper() for s in skills)  # some capitals
    assert any("experiencia en" in s.lower() or "experience in" in s.lower() for s in skills)


def test_grades_follow_the_isco_rule(taxonomy, bench):
    concepts = taxonomy.concepts.set_index("uri")
    seen = set()
    for v in bench.vacancies:
        v_uri = bench.vacancy_occupation[v["id"]]
        v_isco = concepts.at[v_uri, "isco_group"]
        for c in bench.candidates:
            c_uri = bench.candidate_occupation[c["id"]]
            c_isco = concepts.at[c_uri, "isco_group"]
            if c_uri == v_uri:
                expected = 3
            elif c_isco == v_isco:
                expected = 2
            elif c_isco[:3] == v_isco[:3]:
                expected = 1
            else:
                expected = 0
            assert bench.grade(v["id"], c["id"]) == expected
            seen.add(expected)
    assert seen == {0, 1, 2, 3}
    grades = bench.grade_matrix()
    assert (grades == 3).any(axis=1).all()  # every vacancy has a candidate of its occupation
    assert ranking.relevance_grade("7411", "7412", False) == 1


def test_oracle_scores_one_and_worse_rankers_score_clearly_lower(bench):
    oracle = _ranker_from_scores(lambda v, c: bench.grade(v, c))
    reverse = _ranker_from_scores(lambda v, c: -bench.grade(v, c))
    rng = np.random.default_rng(0)
    noise = {c["id"]: rng.random() for c in bench.candidates}
    shuffled = _ranker_from_scores(lambda v, c: noise[c])
    table = evaluate(
        {"oracle": oracle, "reverse": reverse, "random": shuffled}, benchmark=bench
    ).set_index("ranker")
    assert table.at["oracle", "ndcg_at_10"] == pytest.approx(1.0)
    assert table.at["oracle", "mrr"] == pytest.approx(1.0)
    assert table.at["reverse", "ndcg_at_10"] == pytest.approx(0.0)
    assert table.at["reverse", "mrr"] == pytest.approx(0.0)
    assert table.at["random", "ndcg_at_10"] < 0.5
    assert set(table.columns) >= {"ndcg_at_10", "mrr", "n_vacancies", "n_candidates", "seconds"}
    assert (table["n_candidates"] == SIZES["n_candidates"]).all()


@pytest.mark.parametrize("rank_fn", [bm25_rank, tfidf_rank])
def test_baselines_return_ranks_one_to_k_and_beat_chance(bench, rank_fn):
    out = rank_fn(bench.taxonomy, bench.vacancies, bench.candidates, 10)
    assert list(out.columns) == list(RANKING_COLUMNS)
    assert set(out["vacancy_id"]) == {v["id"] for v in bench.vacancies}
    for _, group in out.groupby("vacancy_id"):
        assert group["rank"].tolist() == list(range(1, 11))
        assert group["candidate_id"].is_unique
        assert group["score"].is_monotonic_decreasing
    per_vacancy = score_rankings(bench, out)
    assert per_vacancy["ndcg"].mean() > 0.4


def test_short_lists_get_no_credit_for_the_places_they_leave_empty(bench):
    grades = bench.grade_matrix()
    ids = [c["id"] for c in bench.candidates]
    v0 = bench.vacancies[0]["id"]
    top3 = [ids[j] for j in np.argsort(-grades[0], kind="stable")[:3]]  # three grade-3s
    short = pd.DataFrame(
        {"vacancy_id": v0, "rank": [1, 2, 3], "candidate_id": top3, "score": [3.0, 2.0, 1.0]}
    )
    scored = score_rankings(bench, short).set_index("vacancy_id")
    ideal = np.sort(grades[0])[::-1][:10]
    discounts = 1 / np.log2(np.arange(2, 12))
    expected = float((ideal[:3] * discounts[:3]).sum() / (ideal * discounts).sum())
    assert scored.at[v0, "ndcg"] == pytest.approx(expected)
    assert scored.at[v0, "rr"] == 1.0 and scored.at[v0, "n_returned"] == 3
    # Vacancies the ranker left out score 0; one irrelevant id scores 0, not the mean of the rest.
    assert (scored.drop(index=v0)["ndcg"] == 0).all()
    zero = ids[int(np.flatnonzero(grades[0] == 0)[0])]
    one = pd.DataFrame({"vacancy_id": [v0], "rank": [1], "candidate_id": [zero], "score": [1.0]})
    assert score_rankings(bench, one).set_index("vacancy_id").at[v0, "ndcg"] == 0.0


def test_ranking_with_unknown_ids_or_missing_columns_is_refused(bench):
    with pytest.raises(ValueError, match="unknown candidate"):
        score_rankings(
            bench,
            pd.DataFrame(
                {"vacancy_id": ["x"], "rank": [1], "candidate_id": ["nobody"], "score": 1}
            ),
        )
    with pytest.raises(ValueError, match="lacks column"):
        score_rankings(bench, pd.DataFrame({"vacancy_id": ["x"]}))


def test_main_without_an_engine_prints_the_baselines_and_fails(monkeypatch, capsys):
    monkeypatch.setattr(ranking, "load_engine_rank_fn", lambda: (None, "not built yet"))
    code = ranking.main(["--n-vacancies", "5", "--n-candidates", "80"])
    out = capsys.readouterr().out
    assert code == 1
    assert "bm25" in out and "tfidf" in out and "not built yet" in out
