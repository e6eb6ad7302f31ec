from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.extract import _clauses, _spans, extract_frame, extract_skills

SLOW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def span_words(text: str) -> set[str]:
    return {s.words for s in _spans(_clauses(text), 6)}


def concept_of(taxonomy, label_en: str) -> int:
    hits = taxonomy.concepts.index[taxonomy.concepts["label_en"] == label_en]
    assert len(hits) == 1, label_en
    return int(hits[0])


# ------------------------------------------------------------------ span proposals
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # two verbs share one object
        ("Install and maintain solar panels.", {"install solar panels", "maintain solar panels"}),
        # one verb over two objects
        (
            "Install plasterboard partitions and suspended ceilings.",
            {"install plasterboard partitions", "install suspended ceilings"},
        ),
        # a verb over a comma list
        ("Install, wire and program alarm panels", {"install alarm panels", "wire alarm panels"}),
        # shared modifier ("hot and cold water systems")
        (
            "Install hot and cold water systems",
            {"install hot water systems", "install water systems"},
        ),
        # Spanish nominal coordination, also with "y/o"
        (
            "Instalación y mantenimiento de paneles solares",
            {"instalacion paneles solares", "mantenimiento paneles solares"},
        ),
        ("Montaje y/o reparación de tableros eléctricos", {"montaje tableros electricos"}),
    ],
)
def test_coordinations_are_distributed_over_what_they_share(text, expected):
    assert expected <= span_words(text)


def test_boilerplate_words_never_reach_the_normaliser():
    words = {
        w
        for s in _spans(
            _clauses("Proven experience in and excellent knowledge of, ability to weld pipes"), 6
        )
        for w in s.words.split()
    }
    assert words == {"weld", "pipes"}


def test_spans_stay_inside_their_clause():
    text = "Weld pipes. Paint walls; lay bricks"
    for s in _spans(_clauses(text), 6):
        assert not {".", ";"} & set(text[s.start : s.end])


def test_a_span_across_a_conjunction_counts_less_than_one_within_a_conjunct():
    spans = {s.words: s.weight for s in _spans(_clauses("install and maintain solar panels"), 6)}
    assert spans["maintain solar panels"] == 1.0
    assert spans["install maintain solar panels"] < 1.0
    # a distributed coordination is not a crossing
    assert spans["install solar panels"] == 1.0


# ---------------------------------------------------------------------- extraction
def test_verb_coordination_finds_the_skill_of_the_second_object(normaliser, taxonomy):
    found = extract_skills(
        ["Install split air conditioning systems and heat pumps in homes."], normaliser
    )[0]
    concepts = [e.concept for e in found]
    assert concept_of(taxonomy, "install heat pump") in concepts
    assert concept_of(taxonomy, "install air conditioning device") in concepts[:3]


def test_spanish_requirement_line(normaliser, taxonomy):
    line = (
        "Experiencia en instalación, mantenimiento y reparación de equipos de aire acondicionado."
    )
    found = extract_skills([line], normaliser)[0]
    assert found[0].concept == concept_of(taxonomy, "install air conditioning device")


def test_results_are_ranked_bounded_and_evidenced(normaliser):
    texts = [
        "Carry out routine maintenance on pumps, blowers and dosing equipment.",
        "Realizar tendido de cable de fibra óptica y empalmes por fusión; manejo de OTDR.",
        "",
        "   ",
    ]
    found = extract_skills(texts, normaliser, top_k=4, min_score=20.0)
    assert found[2] == [] and found[3] == []
    for text, skills in zip(texts, found):
        assert len(skills) <= 4
        assert len({e.concept for e in skills}) == len(skills)
        assert [e.score for e in skills] == sorted((e.score for e in skills), reverse=True)
        for e in skills:
            assert 20.0 <= e.score <= 100.0
            assert text[e.start : e.end] == e.evidence


def test_a_text_is_extracted_the_same_alone_or_in_a_batch(normaliser):
    texts = [
        "Install and commission gas boilers and radiators.",
        "Operación de planta de tratamiento de agua potable.",
        "Climb towers to install antennas.",
    ]
    together = extract_skills(texts, normaliser)
    alone = [extract_skills([t], normaliser)[0] for t in texts]
    assert together == alone


def test_a_knowledge_cue_lifts_knowledge_concepts(normaliser, taxonomy):
    is_knowledge = taxonomy.concepts["skill_type"].eq("knowledge").to_numpy()
    plain, cued = extract_skills(
        ["Electrical wiring diagrams.", "Knowledge of electrical wiring diagrams."], normaliser
    )
    plain_scores = {e.concept: e.score for e in plain if is_knowledge[e.concept]}
    cued_scores = {e.concept: e.score for e in cued if is_knowledge[e.concept]}
    shared = plain_scores.keys() & cued_scores.keys()
    assert shared
    assert all(cued_scores[c] > plain_scores[c] for c in shared)


def test_extract_frame_has_one_row_per_skill(normaliser):
    frame = extract_frame(["Install heat pumps.", ""], normaliser, top_k=3)
    assert set(frame["line"]) == {1}
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))


_WORDS = [
    "install",
    "maintain",
    "y",
    "and",
    ",",
    "de",
    "of",
    "paneles",
    "solar",
    "panels",
    "cable",
    "fibra",
    ";",
    ".",
    "(",
    ")",
    "/",
    "tuberías",
    "pipes",
    "weld",
    "soldar",
    "-",
    "experiencia",
    "knowledge",
]


@SLOW
@given(st.lists(st.sampled_from(_WORDS), max_size=25))
def test_any_text_gives_valid_offsets_and_scores(normaliser, tokens):
    text = " ".join(tokens)
    for e in extract_skills([text], normaliser)[0]:
        assert 0.0 <= e.score <= 100.0
        assert text[e.start : e.end] == e.evidence


def test_what_the_ad_offers_is_no_evidence(normaliser):
    """Pay, benefits and a person's availability are not skills the candidate must have."""
    text = (
        "Instalación de paneles solares. Se ofrece: planilla con todos los beneficios de ley, "
        "movilidad y línea de carrera. Disponibilidad para viajar."
    )
    offer_starts = text.index("Se ofrece")
    found = extract_skills([text], normaliser, min_score=0.0)[0]
    assert found, "the skill before the offer is still found"
    assert all(e.end <= offer_starts for e in found), [e.evidence for e in found]


def test_a_spanish_clause_does_not_take_credit_from_an_english_false_friend(normaliser, taxonomy):
    """es "lectura" (reading) and en "lecture" share a stem; no public speaking here."""
    found = extract_skills(["Lectura de planos eléctricos."], normaliser)[0]
    assert "address an audience" not in {taxonomy.label(e.concept, "en") for e in found}
