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


@pytest.mark.parametrize(
    ("title", "expected_en"),
    [
        ("Se necesita Técnico Electricista - Lima", "electrician"),
        ("TECNICO ELECTRICISTA (TURNO NOCHE)", "electrician"),
        ("Ingeniero(a) Electricista Sr. con experiencia en subestaciones", "electrical engineer"),
        ("Técnico de Fibra Óptica para Arequipa", "fibre optic installer"),
        ("URGENTE: Albañil con experiencia", "bricklayer"),
    ],
)
def test_job_board_titles_are_read_without_their_wrapping(normaliser, taxonomy, title, expected_en):
    """A call, a place, a shift or a requirement around the title names no occupation."""
    found = normaliser.match([title], kind="occupation", top_k=1)[0][0]
    assert taxonomy.label(found.concept, "en") == expected_en
    assert found.score >= normaliser.config.score_cutoff


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


# ----------------------------------------------------------------- misspellings


@pytest.mark.parametrize(
    ("mention", "expected"),
    [
        ("team lader", "team leader"),  # the same misspelling, read in context
        ("lader cutting", "laser cutting"),
        ("operate front lader", "operate front loader"),
        ("abckup data", "backup data"),  # two letters swapped count as one slip
        ("rinsing galss", "rinsing glass"),
    ],
)
def test_misspelt_words_are_corrected_in_context(normaliser, mention, expected):
    assert normaliser._index("skill").prepare(mention, "en").content == expected


def test_words_far_from_the_vocabulary_are_left_alone(normaliser):
    index = normaliser._index("skill")
    assert index.prepare("zzqx blorf", "auto").content == "zzqx blorf"
    assert index.correct("zzqx") == "zzqx"


# ------------------------------------------------- concept-level and pivot features


def test_learn_pivot_pairs_words_that_two_languages_use_for_the_same_concepts():
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    from matcher.pivot import learn_pivot

    labels = [
        ("desmontar motores", "es", 0),
        ("disassemble engines", "en", 0),
        ("desmontar bombas", "es", 1),
        ("disassemble pumps", "en", 1),
        ("reparar motores", "es", 2),
        ("repair engines", "en", 2),
        ("reparar bombas", "es", 3),
        ("repair pumps", "en", 3),
    ]
    vec = CountVectorizer()
    stems = vec.fit_transform([text for text, _, _ in labels]).tocsr()
    pivot = learn_pivot(
        stems,
        np.array([c for _, _, c in labels]),
        [lang for _, lang, _ in labels],
        n_concepts=4,
        per_stem=1,
    )
    at = vec.vocabulary_
    inverse = {i: w for w, i in at.items()}

    def partners(word: str) -> set[str]:
        return {inverse[j] for j in pivot[at[word]].indices}

    assert partners("desmontar") == {"disassemble"}
    assert partners("motores") == {"engines"}
    assert partners("repair") == {"reparar"}  # both ways


def test_learn_related_needs_two_shared_concepts():
    import numpy as np
    from scipy import sparse

    from matcher.pivot import learn_related

    # Concepts x words: words 0 and 1 label concepts 0 and 1 together; word 2 shares one only.
    vocabulary = sparse.csr_matrix(np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1]], dtype=np.float32))
    related = learn_related(vocabulary).toarray()
    assert related[0, 1] and related[1, 0]
    assert not related[0, 2] and not related[2, 0]
    assert not related.diagonal().any()


def test_pivot_lets_a_spanish_word_agree_with_the_english_labels(normaliser, taxonomy):
    """The word "administrar" is in no Spanish label of *cost management*, but it translates
    "manage", which its English labels use: the pivot covers it, the plain vocabulary not."""
    from matcher.config import RERANK_FEATURES

    index = normaliser._index("skill")
    column = {name: i for i, name in enumerate(RERANK_FEATURES)}
    (found,) = index.candidates([index.prepare("administrar costes", "es")])
    target = next(
        i for i, c in enumerate(found.concepts) if taxonomy.label(c, "en") == "cost management"
    )
    assert found.features[target, column["concept_covered"]] == 0.5
    assert found.features[target, column["pivot_covered"]] == 1.0


def test_features_against_the_best_candidate_are_zero_for_the_best(normaliser):
    import numpy as np

    from matcher.config import RERANK_FEATURES

    index = normaliser._index("skill")
    found = index.candidates(
        [index.prepare(m, "auto") for m in ("soldadura tig", "install solar panels")]
    )
    relative = [i for i, name in enumerate(RERANK_FEATURES) if name.endswith("_vs_best")]
    for cand in found:
        assert cand.features.shape[1] == len(RERANK_FEATURES)
        assert np.all(cand.features[:, relative] <= 0)
        assert np.allclose(cand.features[:, relative].max(axis=0), 0)


# ----------------------------------------------------------------- learnt re-rank


def _hidden_config(scale: float):
    """The shipped config with one hidden unit whose output weight is ``scale``."""
    import dataclasses

    from matcher.config import RERANK_FEATURES, NormaliseConfig

    n = len(RERANK_FEATURES)
    return dataclasses.replace(
        NormaliseConfig(),
        rerank_hidden_coef=((1.0,) * n,),
        rerank_hidden_intercept=(-1.0,),
        rerank_hidden_out=(scale,),
    )


def test_hidden_units_add_a_relu_of_the_features_to_the_logit():
    import numpy as np

    from matcher.normalise import _Rerank

    config = _hidden_config(2.0)
    features = np.array([[0.0] * len(config.rerank_coef), [0.1] * len(config.rerank_coef)])
    linear = features @ np.asarray(config.rerank_coef) + config.rerank_intercept
    hidden = 2.0 * np.maximum(features.sum(axis=1) - 1.0, 0.0)
    assert np.allclose(_Rerank(config).logit(features), linear + hidden)


def test_hidden_unit_weights_must_match_the_features():
    import dataclasses

    from matcher.config import NormaliseConfig

    with pytest.raises(ConfigError, match="hidden unit"):
        dataclasses.replace(NormaliseConfig(), rerank_hidden_coef=((1.0, 2.0),))
    with pytest.raises(ConfigError, match="one entry per hidden unit"):
        dataclasses.replace(_hidden_config(1.0), rerank_hidden_out=())


def test_only_labels_equal_to_the_mention_score_100_whatever_the_weights(taxonomy):
    """Learnt weights that push every candidate to certainty still leave exact hits first,
    so answering them without retrieval gives what the full pipeline gives."""
    from matcher.normalise import SkillNormaliser

    loud = SkillNormaliser(taxonomy, _hidden_config(1_000.0))
    mentions = ["Gestión de Residuos", "residuos gestion", "inspeccion de palas eolicas"]
    full = loud.match(mentions, top_k=5)
    assert all(m.score < 100 for found in full for m in found if m.method != "exact")
    alone = SkillNormaliser(taxonomy, _hidden_config(1_000.0)).match(mentions, top_k=1)
    assert alone == [f[:1] for f in full]


# ------------------------------------------------------------ concept descriptions


def test_taxonomy_keeps_the_esco_descriptions(taxonomy):
    concepts = taxonomy.concepts
    skills = concepts[concepts["kind"] == "skill"]
    occupations = concepts[concepts["kind"] == "occupation"]
    assert (skills["description_en"].str.len() > 0).mean() > 0.99
    assert (occupations["description_es"].str.len() > 0).all()
    assert skills["description_es"].eq("").all()  # ESCO's skills are described in English
    # An evaluation index without some labels keeps every description.
    held = taxonomy.without_labels(taxonomy.labels["source"].eq("alt").to_numpy())
    assert held.concepts["description_en"].equals(concepts["description_en"])


def _described_taxonomy(with_descriptions: bool = True, rows=None, alt_en=None):
    """Four skills; the words "trenchers" and "wrench" are in descriptions only."""
    import pandas as pd

    from matcher.taxonomy import SkillTaxonomy

    rows = rows or [
        ("s1", "operate digging equipment", "manejar equipos de excavación",
         "Operate construction equipment such as backhoes, trenchers or cable ploughs."),
        ("s2", "operate forklift", "manejar carretillas elevadoras",
         "Drive a forklift truck to lift and move goods in a warehouse."),
        ("s3", "use spanners", "utilizar llaves de ajuste",
         "Use a wrench or a spanner to adjust machinery and equipment."),
        ("s4", "French", "francés", "The French language."),
    ]  # fmt: skip
    skills = pd.DataFrame(
        {
            "conceptUri": [r[0] for r in rows],
            "preferredLabel_en": [r[1] for r in rows],
            "preferredLabel_es": [r[2] for r in rows],
            "altLabels_en": alt_en or ["", "", "", "speak French"],
            "altLabels_es": [""] * len(rows),
        }
    )
    if with_descriptions:
        skills["description_en"] = [r[3] for r in rows]
    occupations = pd.DataFrame(
        {
            "conceptUri": ["o1"],
            "preferredLabel_en": ["construction worker"],
            "preferredLabel_es": ["obrero de la construcción"],
            "iscoGroup": ["9313"],
        }
    )
    relations = pd.DataFrame(
        {"occupationUri": ["o1"], "skillUri": ["s1"], "relationType": ["essential"]}
    )
    return SkillTaxonomy.from_frames(skills=skills, occupations=occupations, relations=relations)


def test_a_word_only_the_description_uses_finds_the_concept():
    """No label of *operate digging equipment* says "trenchers"; its description does. The
    concept is proposed through the description, and the description features say so."""
    from matcher.config import RERANK_FEATURES
    from matcher.normalise import SkillNormaliser

    tax = _described_taxonomy()
    norm = SkillNormaliser(tax)
    index = norm._index("skill")
    column = {name: i for i, name in enumerate(RERANK_FEATURES)}
    (found,) = index.candidates([index.prepare("trenchers", "en")])
    assert 0 in found.concepts.tolist()
    row = found.concepts.tolist().index(0)
    assert found.features[row, column["description_covered"]] == 1.0
    assert found.features[row, column["labels_or_description_covered_idf"]] == 1.0
    assert found.features[row, column["concept_covered"]] == 0.0
    others = [i for i in range(len(found.concepts)) if i != row]
    assert all(found.features[i, column["description_covered"]] == 0.0 for i in others)
    assert 0 in [m.concept for m in norm.match(["trenchers"], top_k=3)[0]]

    # Without descriptions nothing brings the concept in.
    bare = SkillNormaliser(_described_taxonomy(with_descriptions=False))._index("skill")
    (found,) = bare.candidates([bare.prepare("trenchers", "en")])
    assert 0 not in found.concepts.tolist()


def test_a_spanish_word_reaches_an_english_description_through_the_pivot():
    """ "desmontar" pairs with "disassemble" (two concepts are labelled with both); no label
    of *service engines* uses either, its description says "Disassemble": a Spanish mention
    with "desmontar" is covered by that description."""
    from matcher.config import RERANK_FEATURES
    from matcher.normalise import SkillNormaliser

    rows = [
        ("s1", "disassemble pumps", "desmontar bombas", "Take pumps apart."),
        ("s2", "disassemble valves", "desmontar válvulas", "Take valves apart."),
        ("s3", "service engines", "revisar motores", "Disassemble and inspect engines."),
        ("s4", "paint walls", "pintar paredes", "Apply paint to walls."),
    ]
    tax = _described_taxonomy(rows=rows, alt_en=["", "", "", ""])
    index = SkillNormaliser(tax)._index("skill")
    column = {name: i for i, name in enumerate(RERANK_FEATURES)}
    (found,) = index.candidates([index.prepare("desmontar motores", "es")])
    row = found.concepts.tolist().index(2)
    assert found.features[row, column["concept_covered"]] == 0.5  # "motores" only
    # "desmontar" through "disassemble" (the description is in English only).
    assert found.features[row, column["description_covered"]] == 0.5
    paint = SkillNormaliser(tax)._index("skill")
    (found,) = paint.candidates([paint.prepare("desmontar paredes", "es")])
    row = found.concepts.tolist().index(3)
    assert found.features[row, column["description_covered"]] == 0.0


def test_description_words_are_not_misspellings_but_can_be_corrected_to():
    from matcher.normalise import SkillNormaliser

    index = SkillNormaliser(_described_taxonomy())._index("skill")
    # "wrench" is one letter from the label word "french", but a description uses it.
    assert index.prepare("apply a wrench", "en").content == "apply wrench"
    # A misspelling of a word only a description uses is corrected to it.
    assert index.prepare("operate trenchres", "en").content == "operate trenchers"
    # Label words still come first at the same distance.
    assert index.prepare("speak frennch", "en").content == "speak french"

    bare = SkillNormaliser(_described_taxonomy(with_descriptions=False))._index("skill")
    assert bare.prepare("apply a wrench", "en").content == "apply french"


def test_a_gendered_one_word_title_as_esco_displays_it_is_its_occupation(normaliser, taxonomy):
    """ "soldador/soldadora" (the Spanish display label of *welder*) is one title, not two
    words that other occupations' labels ("soldadora de soldadura blanda") share."""
    welder = taxonomy.concepts.index[taxonomy.concepts["label_en"] == "welder"][0]
    found = best(normaliser, taxonomy.label(welder, "es"), kind="occupation")
    assert taxonomy.label(welder, "es") == "soldador/soldadora"
    assert (found.concept, found.method) == (welder, "exact")


def test_same_stems_in_the_other_language_are_not_an_inflection(normaliser, taxonomy):
    """es "lectura" and en "lecture" share the stem "lectur": a coincidence of two stemmers."""
    found = normaliser.match(["lectura"], lang="es", top_k=3)[0]
    assert all(m.method != "inflection" for m in found)
    # In its own language the same stems still are one: "lectures" is "lecture".
    assert best(normaliser, "lectures", lang="en").method == "inflection"


def test_a_spanish_word_is_not_corrected_to_an_english_only_word(normaliser):
    """es "correctivo" is one edit from en "corrective", which no Spanish label uses."""
    index = normaliser._index("skill")
    prepared = index.prepare("mantenimiento preventivo y correctivo", "es")
    assert "correctivo" in prepared.content.split()
    assert index.prepare("corective maintenance", "en").content.split()[0] == "corrective"


def test_everyday_words_are_not_taken_for_typos(taxonomy):
    """en "screen" is one edit from the label word "screed" but is a word of its own."""
    import dataclasses

    from matcher.normalise import SkillNormaliser

    assert "screen" in taxonomy.real_words
    with_words = SkillNormaliser(taxonomy)._index("skill")
    assert "screen" not in with_words.vocab_all
    assert with_words.prepare("replace the screen", "en").content == "replace screen"
    # Without the word list, the label vocabulary alone would "correct" it.
    bare = SkillNormaliser(dataclasses.replace(taxonomy, real_words=frozenset()))._index("skill")
    assert bare.prepare("replace the screen", "en").content == "replace screed"
    # A misspelling is still corrected: it is not an everyday word.
    assert with_words.prepare("wind turbine maintanance", "en").content.endswith("maintenance")


@pytest.mark.parametrize(
    ("mention", "expected_en"),
    [
        (
            "Mantenimiento preventivo y correctivo de equipos eléctricos",
            "maintain electrical equipment",
        ),
        ("instalación de paneles solares (on-grid y off-grid)", "mount photovoltaic panels"),
    ],
)
def test_what_cvs_add_around_a_skill_does_not_hide_it(normaliser, taxonomy, mention, expected_en):
    found = best(normaliser, mention)
    assert taxonomy.label(found.concept, "en") == expected_en
    assert found.score >= normaliser.config.score_cutoff


def test_a_pattern_of_the_concept_family_gives_the_label_the_concept_lacks(taxonomy):
    """Every language concept reads "competent in {X}": one that lost that label gets it back."""
    from matcher.normalise import SkillNormaliser

    labels = taxonomy.labels
    reduced = taxonomy.without_labels((labels["text"] == "competent in Polish").to_numpy())
    assert not (reduced.labels["text"] == "competent in Polish").any()
    found = SkillNormaliser(reduced).match(["competent in Polish"], top_k=1)[0][0]
    assert reduced.label(found.concept, "en") == "Polish"
    assert (found.score, found.method) == (100.0, "synonym")
