from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.exceptions import ConfigError
from matcher.normalise import NORMALISE_COLUMNS

SLOW = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _strip(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def best(normaliser, text, **kw):
    return normaliser.match([text], top_k=1, **kw)[0][0]


@pytest.mark.parametrize(
    ("mention", "expected_en"),
    [
        ("instalacion de paneles fotovoltaicos", "mount photovoltaic panels"),
        ("empalme de fibra optica", "splice cable"),
        ("gestión de residuos", "waste management"),
        ("wind turbine maintanance", "maintain wind turbines"),
        ("Gasfitería", "install plumbing systems"),
        ("OTDR", "operate electronic measuring instruments"),
        ("experiencia en soldadura TIG", "perform tungsten inert gas welding"),
    ],
)
def test_realistic_mentions_find_their_concept(normaliser, taxonomy, mention, expected_en):
    assert taxonomy.label(best(normaliser, mention).concept, "en") == expected_en


def test_methods_say_how_the_match_was_made(normaliser):
    assert best(normaliser, "Gestión de Residuos").method == "exact"
    assert best(normaliser, "gasfiteria").method == "synonym"
    assert best(normaliser, "residuos gestion").method in {"exact", "inflection"}
    # "maintanance" is corrected to "maintenance", interchangeable with "maintain".
    assert best(normaliser, "wind turbine maintanance").method == "synonym"
    assert best(normaliser, "inspeccion visual de palas de turbinas eolicas").method == "fuzzy"


def test_interchangeable_words_match_as_synonyms(normaliser, taxonomy):
    """Job-ad wording that differs from ESCO only by listed interchangeable words."""
    found = normaliser.match(
        ["Uso de equipos de prueba", "Experiencia en instalación de equipos de telecomunicaciones"],
        top_k=1,
    )
    assert [taxonomy.label(f[0].concept, "en") for f in found] == [
        "use testing equipment",
        "assemble telecommunications devices",
    ]
    assert all(f[0].method == "synonym" and 90 <= f[0].score < 95 for f in found)


def test_unknown_mention_is_unmatched_but_keeps_its_guesses(normaliser):
    table = normaliser.normalise(["zzqx blorf"], top_k=3)
    assert list(table.columns) == NORMALISE_COLUMNS
    assert not table["matched"].any()
    assert set(table["method"]) == {"unmatched"}


def test_empty_mention_gives_one_unmatched_row(normaliser):
    table = normaliser.normalise(["", "   ", "!!!"], top_k=3)
    assert len(table) == 3
    assert (table["rank"] == 0).all() and (table["uri"] == "").all()


def test_occupation_titles_in_employment_service_style(normaliser, taxonomy):
    found = normaliser.match(
        ["INSTALADORES DE FIBRA ÓPTICA, EN GENERAL", "Gasfiteros"], kind="occupation", top_k=1
    )
    assert taxonomy.label(found[0][0].concept, "en") == "fibre optic installer"
    assert taxonomy.label(found[1][0].concept, "en") == "plumber"


def test_cache_returns_the_same_answer(normaliser):
    first = normaliser.match(["mantenimiento de subestaciones"], top_k=3)
    again = normaliser.match(["mantenimiento de subestaciones"], top_k=3)
    assert first == again


def test_bad_options_raise_config_error(normaliser):
    with pytest.raises(ConfigError, match="kind"):
        normaliser.match(["x"], kind="vacancy")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="top_k"):
        normaliser.match(["x"], top_k=0)


@st.composite
def concept_labels(draw, taxonomy, kind):
    positions = taxonomy.concepts.index[taxonomy.concepts["kind"] == kind]
    pos = draw(st.sampled_from(list(positions)))
    lang = draw(st.sampled_from(["es", "en"]))
    return pos, taxonomy.label(pos, lang)


@given(data=st.data())
@SLOW
def test_normalising_an_output_label_gives_back_its_concept(normaliser, taxonomy, data):
    kind = data.draw(st.sampled_from(["skill", "occupation"]))
    _, label = data.draw(concept_labels(taxonomy, kind))
    first = best(normaliser, label, kind=kind)
    out_label = taxonomy.label(first.concept, data.draw(st.sampled_from(["es", "en"])))
    assert best(normaliser, out_label, kind=kind).concept == first.concept


@given(data=st.data())
@SLOW
def test_accents_and_case_never_change_the_result(normaliser, taxonomy, data):
    _, label = data.draw(concept_labels(taxonomy, "skill"))
    variants = [label, label.upper(), _strip(label), _strip(label).lower().title()]
    results = normaliser.match(variants, top_k=3)
    assert all(r == results[0] for r in results)


@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
@SLOW
def test_scores_are_between_0_and_100_for_any_text(normaliser, texts):
    table = normaliser.normalise(texts, top_k=3)
    assert table["score"].between(0, 100).all()
    assert set(table["mention"]) <= set(texts)


def test_best_concept_alone_equals_the_head_of_the_full_answer(taxonomy):
    """``top_k=1`` may skip retrieval for a label equal to the mention; the answer must not move."""
    from matcher.normalise import SkillNormaliser

    mentions = [
        "Gestión de Residuos",  # an ESCO label: decided without retrieval
        "gasfiteria",  # synonym layer
        "residuos gestion",  # same stems, another order: needs retrieval
        "wind turbine maintanance",
        "zzqx blorf",
    ]
    alone = SkillNormaliser(taxonomy).match(mentions, top_k=1)
    fresh = SkillNormaliser(taxonomy)
    full = fresh.match(mentions, top_k=5)
    assert alone == [f[:1] for f in full]
    # The shortcut answer is cached for top_k=1 only: a longer list is then computed in full.
    norm = SkillNormaliser(taxonomy)
    assert norm.match(mentions, top_k=1) == alone
    assert norm.match(mentions, top_k=5) == full


def test_mentions_of_one_form_share_an_answer(normaliser):
    found = normaliser.match(
        ["Experiencia en gestión de residuos", "gestion de residuos", "GESTIÓN DE RESIDUOS"],
        top_k=3,
    )
    assert found[0] == found[1] == found[2]
    assert found[0] is not found[1]  # each mention gets its own list


def test_matching_leaves_the_garbage_collector_as_it_was(normaliser):
    import gc

    assert gc.isenabled()
    normaliser.match(["soldadura tig"], top_k=1)
    assert gc.isenabled()
    gc.disable()
    try:
        normaliser.match(["soldadura mig"], top_k=1)
        assert not gc.isenabled()
    finally:
        gc.enable()
