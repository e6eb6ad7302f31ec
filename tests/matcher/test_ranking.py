"""Ranking: honest scores, true explanations, deterministic order, hard filters."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.profiles import Candidate, SkillMention, Vacancy, parse_candidates, parse_vacancies
from matcher.ranking import TopK

PROPS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

FIBRE = parse_vacancies(
    [
        {
            "id": "V-FO",
            "employer_id": "E1",
            "title": "Técnico instalador de fibra óptica",
            "required_skills": [
                "empalme de fibra óptica",
                "inspeccionar cables",
                "trabajos en altura",
            ],
            "optional_skills": ["cableado estructurado"],
            "required_certifications": ["SCTR"],
            "languages": ["es"],
            "region": "Lima",
            "min_experience_years": 1,
        }
    ]
)[0]


def cand(cid: str, skills, **kw) -> Candidate:
    base = {
        "id": cid,
        "skills": list(skills),
        "region": "Lima",
        "certifications": ["SCTR vigente"],
        "languages": ["es"],
        "experience_years": 3,
    }
    return parse_candidates([{**base, **kw}])[0]


def test_the_candidate_with_the_required_skills_ranks_first(engine):
    pool = [
        cand("A", ["Empalme de fibra optica", "inspección de cables", "trabajo en altura"]),
        cand("B", ["gestión de residuos", "reciclaje"]),
        cand("C", ["empalme de fibra óptica"]),
    ]
    ranked = engine.rank_candidates(FIBRE, pool, top_k=3)
    assert [m.candidate_id for m in ranked] == ["A", "C", "B"]
    assert ranked[0].score > 0.7 and ranked[2].score < 0.3


def test_no_skills_scores_zero_with_no_matched_skills(engine):
    ranked = engine.rank_candidates(
        FIBRE, [cand("E", [], past_job_titles=["Instalador de fibra óptica"])]
    )
    assert ranked[0].score == 0.0 and ranked[0].matched == ()
    assert "0" in ranked[0].explanation["es"] and "no skill" in ranked[0].explanation["en"].lower()


def test_missing_required_skills_are_the_training_gap(engine):
    ranked = engine.rank_candidates(FIBRE, [cand("C", ["empalme de fibra óptica"])])
    gap = {g.label_en for g in ranked[0].missing}
    assert gap == {"inspect cables", "follow safety procedures when working at heights"}
    assert "inspect cables" in ranked[0].explanation["en"]
    assert "inspeccionar cables" in ranked[0].explanation["es"]


def test_hard_constraints_filter_pairs_and_say_why(engine):
    pool = [
        cand("OK", ["empalme de fibra óptica"]),
        cand("NOCERT", ["empalme de fibra óptica"], certifications=["Licencia A-I"]),
        cand("FAR", ["empalme de fibra óptica"], region="Cusco", willing_to_relocate=False),
        cand("MOVES", ["empalme de fibra óptica"], region="Cusco", willing_to_relocate=True),
        cand("NOLANG", ["empalme de fibra óptica"], languages=["en"]),
    ]
    eligible = engine.rank_candidates(FIBRE, pool, top_k=10)
    assert [m.candidate_id for m in eligible] == ["OK", "MOVES"]
    everyone = engine.rank_candidates(FIBRE, pool, top_k=10, include_filtered=True)
    reasons = {m.candidate_id: m.filtered for m in everyone if not m.eligible}
    assert reasons == {
        "NOCERT": ("missing_certification",),
        "FAR": ("location",),
        "NOLANG": ("missing_language",),
    }
    remote = dataclasses.replace(FIBRE, remote=True)
    assert "FAR" in [m.candidate_id for m in engine.rank_candidates(remote, pool, top_k=10)]


def test_rank_vacancies_is_the_other_direction(engine, demo_vacancies):
    person = cand(
        "R",
        ["instalación de paneles fotovoltaicos", "mantenimiento de sistemas solares"],
        willing_to_relocate=True,
        certifications=["SCTR", "Trabajos en altura"],
    )
    ranked = engine.rank_vacancies(person, demo_vacancies, top_k=3)
    assert len(ranked) == 3 and ranked[0].score >= ranked[1].score >= ranked[2].score
    assert all(m.candidate_id == "R" for m in ranked)
    titles = {v.id: v.title.lower() for v in demo_vacancies}
    assert "solar" in titles[ranked[0].vacancy_id] or "fotovolt" in titles[ranked[0].vacancy_id]


def test_explanations_are_true_on_random_pairs(engine, demo_candidates, demo_vacancies):
    """Every matched skill is one the candidate wrote (normalised to that concept);
    every missing skill is one the vacancy requires."""
    rng = random.Random(7)
    tax = engine.taxonomy
    for _ in range(40):
        c = rng.choice(demo_candidates)
        v = rng.choice(demo_vacancies)
        match = engine.rank_candidates(v, [c], include_filtered=True)[0]
        written = {s.text for s in c.skills}
        required_texts = {s.text for s in v.required_skills}
        asked = {s.text for s in (*v.required_skills, *v.optional_skills)}
        for s in match.matched:
            assert s.candidate_text in written
            assert s.requirement in asked
            found = engine.normaliser.match([s.candidate_text], top_k=1)[0][0]
            assert tax.concepts.at[found.concept, "uri"] == s.uri
            req = engine.normaliser.match([s.requirement], top_k=1)[0][0]
            assert tax.concepts.at[req.concept, "uri"] == s.uri
        for g in match.missing:
            assert g.requirement in required_texts
            req = engine.normaliser.match([g.requirement], top_k=1)[0][0]
            assert tax.concepts.at[req.concept, "uri"] == g.uri
        assert not {g.uri for g in match.missing} & {s.uri for s in match.matched}


def test_explaining_many_pairs_at_once_equals_one_at_a_time(
    engine, demo_candidates, demo_vacancies
):
    from matcher.ranking import explain, explain_pairs

    scored = engine.score(
        engine.encode_candidates(demo_candidates[:12]),
        engine.encode_vacancies(demo_vacancies[:5]),
    )
    rows = [i for i in range(12) for _ in range(5)]
    cols = [j for _ in range(12) for j in range(5)]
    ranks = list(range(1, 61))
    together = explain_pairs(engine, scored, rows, cols, ranks)
    alone = [explain(engine, scored, i, j, rank=r) for i, j, r in zip(rows, cols, ranks)]
    assert together == alone
    assert any(m.missing for m in together) and any(m.matched for m in together)
    # One language only, when only one is read (a batch table).
    spanish = explain_pairs(engine, scored, rows[:3], cols[:3], ranks[:3], langs=("es",))
    assert [set(m.explanation) for m in spanish] == [{"es"}] * 3
    assert [m.explanation["es"] for m in spanish] == [m.explanation["es"] for m in alone[:3]]


def test_a_gap_names_the_strongest_related_skill_held(engine):
    """The related experience shown for a missing skill is the held skill giving the most
    credit towards it (``engine.space.relatives``), whatever order it was written in."""
    tax = engine.taxonomy
    related = engine.space.related.tocsc()
    asked = int(np.argmax(np.diff(related.indptr)))  # a concept with many relatives
    lo, hi = related.indptr[asked], related.indptr[asked + 1]
    weights = dict(zip(related.indices[lo:hi].tolist(), related.data[lo:hi].tolist()))
    ranked = sorted(weights, key=lambda k: -weights[k])
    strong, weak = ranked[0], ranked[-1]
    assert weights[strong] > weights[weak]
    vacancy = dataclasses.replace(
        FIBRE,
        required_skills=(SkillMention(tax.label(asked, "en")),),
        optional_skills=(),
        required_certifications=(),
    )
    for order in ((weak, strong), (strong, weak)):
        person = cand("R1", [tax.label(k, "en") for k in order])
        match = engine.rank_candidates(vacancy, [person], include_filtered=True)[0]
        (gap,) = match.missing
        assert gap.related_text == tax.label(strong, "en")


skill_texts = st.lists(
    st.sampled_from(
        [
            "empalme de fibra óptica",
            "inspeccionar cables",
            "trabajos en altura",
            "soldadura TIG",
            "gestión de residuos",
            "instalación de paneles solares",
            "cableado estructurado",
            "OTDR",
            "manejo de residuos peligrosos",
            "xx",
        ]
    ),
    max_size=6,
)


@given(
    skills=skill_texts,
    years=st.floats(0, 30),
    region=st.sampled_from(["Lima", "Cusco", ""]),
    relocate=st.booleans(),
)
@PROPS
def test_scores_are_between_0_and_1(engine, skills, years, region, relocate):
    c = cand("P", skills, experience_years=years, region=region, willing_to_relocate=relocate)
    for m in engine.rank_candidates(FIBRE, [c], include_filtered=True):
        assert 0.0 <= m.score <= 1.0


@given(
    skills=skill_texts,
    extra=st.sampled_from(["empalme de fibra óptica", "inspeccionar cables", "trabajos en altura"]),
)
@PROPS
def test_adding_a_required_skill_never_lowers_the_score(engine, skills, extra):
    before = engine.rank_candidates(FIBRE, [cand("P", skills)], include_filtered=True)[0].score
    after = engine.rank_candidates(FIBRE, [cand("P", [*skills, extra])], include_filtered=True)[
        0
    ].score
    assert after >= before - 1e-12


@given(seed=st.integers(0, 10_000))
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_shuffling_candidates_does_not_change_the_ranking(
    engine, demo_candidates, demo_vacancies, seed
):
    pool = list(demo_candidates[:120])
    vac = demo_vacancies[seed % len(demo_vacancies)]
    first = [(m.candidate_id, m.score) for m in engine.rank_candidates(vac, pool, top_k=10)]
    random.Random(seed).shuffle(pool)
    again = [(m.candidate_id, m.score) for m in engine.rank_candidates(vac, pool, top_k=10)]
    assert first == again


def test_ties_are_broken_by_id(engine):
    twins = [cand(cid, ["empalme de fibra óptica"]) for cid in ("b", "c", "a")]
    assert [m.candidate_id for m in engine.rank_candidates(FIBRE, twins)] == ["a", "b", "c"]


def test_min_years_on_a_required_skill_reduces_its_credit(engine):
    strict = dataclasses.replace(
        FIBRE, required_skills=(SkillMention("empalme de fibra óptica", years=4.0),)
    )
    junior = parse_candidates(
        [
            {
                "id": "J",
                "skills": [{"text": "empalme de fibra óptica", "years": 1}],
                "region": "Lima",
                "certifications": ["SCTR"],
                "languages": ["es"],
            }
        ]
    )[0]
    senior = parse_candidates(
        [
            {
                "id": "S",
                "skills": [{"text": "empalme de fibra óptica", "years": 6}],
                "region": "Lima",
                "certifications": ["SCTR"],
                "languages": ["es"],
            }
        ]
    )[0]
    ranked = {m.candidate_id: m for m in engine.rank_candidates(strict, [junior, senior])}
    assert ranked["S"].features["required_coverage"] == pytest.approx(1.0)
    assert ranked["J"].features["required_coverage"] == pytest.approx(0.25)


def test_topk_accumulator_equals_a_full_sort():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=(500, 7)).astype(float) / 4  # many ties
    keep = rng.random((500, 7)) > 0.2
    ids = [f"c{i:04d}" for i in rng.permutation(500)]
    acc = TopK(7, 10)
    for lo in range(0, 500, 64):
        acc.update(scores[lo : lo + 64], ids[lo : lo + 64], keep[lo : lo + 64])
    for j in range(7):
        expected = sorted((-scores[i, j], ids[i]) for i in range(500) if keep[i, j])[:10]
        assert acc.result(j) == [(cid, -s) for s, cid in expected]


def test_vacancy_without_recognised_skills_uses_what_it_has(engine):
    vague = Vacancy(
        id="V", employer_id="E", title="Gasfitero", required_skills=(SkillMention("zzz qqq"),)
    )
    ranked = engine.rank_candidates(vague, [cand("G", ["instalación de tuberías", "gasfitería"])])
    assert ranked[0].unassessed == ("zzz qqq",)
    assert ranked[0].score > 0
