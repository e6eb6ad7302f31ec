"""Skill extraction from free text (vacancy descriptions, CV paragraphs).

Every short span of a sentence (one to six content words, also with one word
skipped, which covers "instalación y mantenimiento de paneles") is normalised
in one vectorised batch; each concept keeps its best-scoring span as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from matcher.normalise import Lang, SkillNormaliser
from matcher.text import STOPWORDS, fold

__all__ = ["EXTRACT_COLUMNS", "ExtractedSkill", "extract_skills"]

#: Columns of :func:`extract_skills` output, in order.
EXTRACT_COLUMNS = ["line", "rank", "uri", "label_en", "label_es", "score", "evidence"]

_SENTENCE = re.compile(r"[.;:!?\n\r•·\u2022()\[\]|]+|\s[-–—]\s")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_STOP = (
    STOPWORDS["es"]
    | STOPWORDS["en"]
    | frozenset(
        [
            "experiencia",
            "experience",
            "conocimiento",
            "conocimientos",
            "knowledge",
            "manejo",
            "capacidad",
            "ability",
            "able",
            "deseable",
            "indispensable",
            "requisito",
            "requisitos",
            "required",
            "requirement",
            "must",
            "minimo",
            "minima",
            "years",
            "anos",
            "ano",
            "year",
            "con",
            "contar",
            "tener",
            "have",
            "having",
            "strong",
            "solid",
            "good",
            "buen",
            "buena",
            "buenos",
            "amplia",
            "amplio",
        ]
    )
)


_SPAN_FACTOR = {1: 0.6, 2: 0.85}
# Job ads mostly ask for competences; a knowledge concept needs a cue ("knowledge of",
# "conocimientos de") to rank as high as a competence matched as well.
_KNOWLEDGE_FACTOR = 0.85
_BAG_WEIGHT = 0.45
_KNOWLEDGE_CUE = re.compile(
    r"\b(?:knowledge|understanding|familiar|familiarity|principles|theory|conocimientos?|"
    r"nociones|principios|teoria|dominio)\b"
)


@dataclass(frozen=True)
class ExtractedSkill:
    """One skill found in a text, with the span that evidences it."""

    concept: int
    score: float
    start: int
    end: int
    evidence: str


def _spans(text: str, max_len: int) -> list[tuple[int, int, str]]:
    """Candidate spans ``(start, end, words)`` of ``text``, sentence by sentence."""
    out: list[tuple[int, int, str]] = []
    pos = 0
    for piece in _SENTENCE.split(text):
        begin = text.find(piece, pos)
        pos = begin + len(piece)
        words = [
            (m.start() + begin, m.end() + begin, fold(m.group())) for m in _WORD.finditer(piece)
        ]
        words = [w for w in words if w[2] and w[2] not in _STOP]
        n = len(words)
        for i in range(n):
            for j in range(i + 1, min(i + max_len, n) + 1):
                seg = words[i:j]
                out.append((seg[0][0], seg[-1][1], " ".join(w[2] for w in seg)))
                # The same span without one inner word ("instalación [y mantenimiento] de paneles").
                for k in range(1, len(seg) - 1):
                    kept = seg[:k] + seg[k + 1 :]
                    out.append((seg[0][0], seg[-1][1], " ".join(w[2] for w in kept)))
    return out


def extract_skills(
    texts: Iterable[str],
    normaliser: SkillNormaliser,
    *,
    lang: Lang = "auto",
    top_k: int = 10,
    min_score: float = 35.0,
    max_span: int = 6,
) -> list[list[ExtractedSkill]]:
    """ESCO skills mentioned in each text, best first, each with its evidence span.

    Parameters
    ----------
    texts : iterable of str
        Vacancy descriptions, CV paragraphs, job-ad lines.
    normaliser : SkillNormaliser
        Does the matching; its cache is shared with other calls.
    lang : {"es", "en", "auto"}
        Language of the texts, or detect per span.
    top_k : int
        Skills kept per text.
    min_score : float
        Spans whose best concept scores below this (0-100) evidence nothing.

    Examples
    --------
    >>> from matcher.io import load_taxonomy
    >>> norm = SkillNormaliser(load_taxonomy())
    >>> found = extract_skills(["Experiencia en empalme de fibra óptica con OTDR."], norm)
    >>> norm.taxonomy.label(found[0][0].concept, "en")
    'splice cable'
    """
    texts = list(texts)
    per_text = [_spans(t, max_span) for t in texts]
    flat = [s[2] for spans in per_text for s in spans]
    matches = normaliser.match(flat, kind="skill", lang=lang, top_k=3)
    is_knowledge = normaliser.taxonomy.concepts["skill_type"].eq("knowledge").to_numpy()
    index = normaliser._index("skill")
    # Whole-text evidence: the bag of stems of each text against every label.
    bags = [
        index.stems_of({w for _, _, words in spans for w in words.split()}, lang)
        for spans in per_text
    ]
    bag_sims = index.bag_similarity(bags)
    results: list[list[ExtractedSkill]] = []
    cursor = 0
    for t_i, (text, spans) in enumerate(zip(texts, per_text)):
        best: dict[int, ExtractedSkill] = {}
        asks_knowledge = bool(_KNOWLEDGE_CUE.search(fold(text)))
        for start, end, words in spans:
            # One or two words are weak evidence, however well they match a label.
            factor = _SPAN_FACTOR.get(words.count(" ") + 1, 1.0)
            for m in matches[cursor]:
                score = m.score * factor
                if is_knowledge[m.concept] and not asks_knowledge:
                    score *= _KNOWLEDGE_FACTOR
                if score < min_score:
                    continue
                cur = best.get(m.concept)
                width = end - start
                if cur is None or (score, -width) > (cur.score, -(cur.end - cur.start)):
                    best[m.concept] = ExtractedSkill(
                        m.concept, round(score, 2), start, end, text[start:end]
                    )
            cursor += 1
        lo, hi = bag_sims.indptr[t_i], bag_sims.indptr[t_i + 1]
        bag: dict[int, float] = {}
        for lab, sim in zip(bag_sims.indices[lo:hi], bag_sims.data[lo:hi]):
            c = int(index.concept[lab])
            bag[c] = max(bag.get(c, 0.0), float(sim))
        best = {
            c: ExtractedSkill(
                c,
                round((1 - _BAG_WEIGHT) * e.score + _BAG_WEIGHT * 100 * bag.get(c, 0.0), 2),
                e.start,
                e.end,
                e.evidence,
            )
            for c, e in best.items()
        }
        ranked = sorted(best.values(), key=lambda e: (-e.score, e.start, e.concept))
        results.append(ranked[:top_k])
    return results


def extract_frame(
    texts: Iterable[str],
    normaliser: SkillNormaliser,
    *,
    lang: Lang = "auto",
    top_k: int = 10,
) -> pd.DataFrame:
    """:func:`extract_skills` as a table with :data:`EXTRACT_COLUMNS` (``line`` counts from 1)."""
    tax = normaliser.taxonomy
    rows = []
    for line, found in enumerate(extract_skills(texts, normaliser, lang=lang, top_k=top_k), 1):
        for rank, e in enumerate(found, 1):
            rows.append(
                (
                    line,
                    rank,
                    tax.concepts.at[e.concept, "uri"],
                    tax.label(e.concept, "en"),
                    tax.label(e.concept, "es"),
                    e.score,
                    e.evidence,
                )
            )
    return pd.DataFrame(rows, columns=EXTRACT_COLUMNS)
