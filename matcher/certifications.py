"""Certifications as people write them ("SCTR vigente", "Curso de trabajos en altura (8h)")."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from matcher.text import STOPWORDS, fold

__all__ = ["certification_key", "holds_certification"]

# Words that say *how* a certificate is held, not *which* one it is.
_NOISE = (
    frozenset(
        [
            "curso",
            "cursos",
            "certificado",
            "certificacion",
            "certificaciones",
            "capacitacion",
            "constancia",
            "carne",
            "carnet",
            "seguro",
            "vigente",
            "vigencia",
            "actualizado",
            "aprobado",
            "basico",
            "horas",
            "hrs",
            "h",
            "hora",
            "course",
            "certificate",
            "certified",
            "certification",
            "card",
            "valid",
        ]
    )
    | STOPWORDS["es"]
    | STOPWORDS["en"]
)
_HOURS = re.compile(r"\b\d+\s*(?:h|hrs?|horas|hours)\b")


def certification_key(text: str) -> frozenset[str]:
    """The words that identify a certification.

    >>> sorted(certification_key("Curso de Trabajos en Altura (8h)"))
    ['altura', 'trabajos']
    >>> certification_key("SCTR vigente") == certification_key("sctr")
    True
    """
    folded = _HOURS.sub(" ", fold(text))
    words = [w for w in folded.split() if w not in _NOISE]
    return frozenset(words or folded.split())


def _word_in(word: str, held: frozenset[str]) -> bool:
    if word in held:
        return True
    # Long words tolerate a typo; codes and classes ("a-iib" vs "a-iiib") must be exact.
    return len(word) >= 6 and any(len(h) >= 6 and fuzz.ratio(word, h) >= 80 for h in held)


def holds_certification(required: frozenset[str], held: Iterable[frozenset[str]]) -> bool:
    """True when one of the held certifications has every identifying word of ``required``.

    >>> req = certification_key("Licencia de conducir A-IIb")
    >>> holds_certification(req, [certification_key("licencia de conducir a-iib vigente")])
    True
    >>> holds_certification(req, [certification_key("Licencia de conducir A-IIIb")])
    False
    """
    return any(all(_word_in(w, h) for w in required) for h in held)
