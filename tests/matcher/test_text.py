from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from matcher.text import clean_occupation_title, content_tokens, detect_language, fold, stem


def test_fold_strips_accents_case_and_punctuation():
    assert fold("GESTIÓN de Residuos Sólidos (RR.SS.)") == "gestion de residuos solidos rr ss"
    assert fold("Ñandú") == "nandu"


@given(st.text())
def test_fold_is_idempotent_and_ascii(text):
    once = fold(text)
    assert fold(once) == once
    assert once == once.lower()
    assert all((ch.isalnum() and ch.isascii()) or ch == " " for ch in once)


def test_stem_merges_gender_and_number():
    assert stem("tecnicos", "es") == stem("tecnica", "es")
    assert stem("paneles", "es") == stem("panel", "es")
    assert stem("installing", "en") == stem("install", "en")


def test_content_tokens_drop_stopwords_and_cv_fillers():
    assert content_tokens("experiencia en manejo de residuos") == ["manejo", "residuos"]
    assert content_tokens("knowledge of the grid") == ["grid"]


def test_clean_occupation_title_drops_catalogue_noise():
    assert clean_occupation_title("ELECTRICISTAS DE CONSTRUCCIÓN, EN GENERAL") == (
        "electricistas de construccion"
    )
    assert (
        clean_occupation_title("Técnicos/as en energía solar N.C.O.P.")
        == "tecnicos en energia solar"
    )
    assert clean_occupation_title("Peones, excepto de la construcción") == "peones"


def test_detect_language_uses_stopwords_and_vocabulary():
    es, en = frozenset({"turbinas"}), frozenset({"turbines"})
    assert detect_language("mantenimiento de turbinas", es, en) == "es"
    assert detect_language("maintenance of turbines", es, en) == "en"
    assert detect_language("otdr", es, en) == "auto"
