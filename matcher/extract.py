"""Skill extraction from free text (vacancy descriptions, CV paragraphs).

Each text is cut into clauses and every clause proposes short spans: runs of one
to six content words, the same runs with one inner word left out ("instalación
[y mantenimiento] de paneles"), and coordinations distributed over what they
share ("install [and maintain] solar panels", "install [plasterboard partitions
and] suspended ceilings"). All spans are normalised in one vectorised batch;
each concept keeps its best-scoring span as evidence, and its score blends that
span with how well the concept's label words co-occur in one clause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import pandas as pd

from matcher.normalise import Lang, SkillNormaliser
from matcher.text import CONJUNCTIONS, STOPWORDS, detect_language, fold

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
            # Praise and requirement words of ads that no skill label uses.
            "excellent",
            "excelente",
            "excelentes",
            "proven",
            "demonstrable",
            "essential",
            "preferred",
            "preferably",
            "desirable",
            "valid",
            "etc",
            "responsible",
            "responsable",
            "responsables",
            "encargado",
            "encargada",
            "valorable",
            "comprobada",
            "comprobable",
            "solida",
            "solido",
            "vigente",
            "including",
            "incluyendo",
            # What an ad asks of a person's circumstances, not of their skills.
            "disponibilidad",
            "disponible",
            "availability",
            "available",
        ]
    )
)

# What an ad offers (pay, benefits, contract) is no skill the candidate must have: from such
# a heading or opening word to the end of its sentence or line, the text is left out. Only
# at the start of a sentence, line or bullet ("benefits" or "compensation" inside a sentence
# may be the skill: "explain the benefits of solar energy", "reactive power compensation"),
# except Peru's set phrase "beneficios de ley".
_OFFER = re.compile(
    r"(?i)(?:(?:^|(?<=[.;:!?\n•·\-–]))\s*(?:se\s+ofrece|(?:te\s+|les\s+)?ofrecemos|"
    r"beneficios|remuneraci[oó]n|sueldo|salario|we\s+offer|what\s+we\s+offer|benefits|"
    r"salary)(?!\w)|(?<!\w)beneficios\s+de\s+ley(?!\w))[^.\n]*"
)


# One or two words are weak evidence, however well they match a label.
_SPAN_FACTOR = {1: 0.6, 2: 0.85}
_LONE_FUZZY_FACTOR = 0.7
# Job ads mostly ask for competences; a knowledge concept needs a cue in the text
# ("knowledge of", "conocimientos de") to rank as high as a competence matched as well.
_KNOWLEDGE_FACTOR = 0.7
_KNOWLEDGE_CUES = frozenset(
    [
        "knowledge",
        "understanding",
        "familiar",
        "familiarity",
        "principles",
        "theory",
        "conocimiento",
        "conocimientos",
        "nociones",
        "principios",
        "teoria",
        "dominio",
    ]
)
# Share of the final score that comes from the clause's bag of words (the rest is the span).
_BAG_WEIGHT = 0.45
# Span matches weaker than this (0-100, after the factors above) are no evidence at all.
_SPAN_FLOOR = 5.0
# Spans with one inner word left out are made from runs of at most this many words.
_MAX_SKIP_LEN = 5
# Coordinations: a left-out run that starts with or holds a conjunction is at most
# _MAX_LEFT_GAP words (a second verb or modifier: "install [and commission] PV systems",
# "install [hot and cold] water systems"), one that ends before a conjunction at most _MAX_GAP
# (earlier list items); at most _MAX_HEAD words are kept in front of the gap ("install",
# "program home") and _MAX_TAIL after it.
_MAX_LEFT_GAP = 2
_MAX_GAP = 4
_MAX_HEAD = 2
_MAX_TAIL = 3
# Each conjunction inside a span (not distributed over) mixes two conjuncts
# ("windows and composite doors"); such a span counts a little less.
_CROSS_WEIGHT = 0.9
_PUNCT_COORDINATION = re.compile(r"[,/&+]")


@dataclass(frozen=True)
class ExtractedSkill:
    """One skill found in a text, with the span that evidences it."""

    concept: int
    score: float
    start: int
    end: int
    evidence: str


class _Span(NamedTuple):
    start: int  # character offsets in the text
    end: int
    words: str  # folded content words sent to the normaliser
    weight: float


class _Clause(NamedTuple):
    words: list[tuple[int, int, str]]  # (start, end, folded) of each content word
    coord: list[bool]  # coord[k]: a conjunction, comma or slash stands before word k
    asks_knowledge: bool  # holds a knowledge cue ("knowledge of", "conocimientos de")


def _is_coordination(between: str) -> bool:
    if _PUNCT_COORDINATION.search(between):
        return True
    return any(w in CONJUNCTIONS for w in fold(between).split())


def _without_offers(text: str) -> str:
    """``text`` with what the ad offers blanked out (same length, so offsets hold).

    >>> _without_offers("Manejo de OTDR. Se ofrece: planilla y beneficios de ley.").split()
    ['Manejo', 'de', 'OTDR.', '.']
    >>> _without_offers("Reactive power compensation and its benefits.") == (
    ...     "Reactive power compensation and its benefits.")
    True
    """
    return _OFFER.sub(lambda m: " " * len(m.group()), text)


def _clauses(text: str) -> list[_Clause]:
    """Content words of each clause of ``text`` (split at sentence punctuation and bullets)."""
    text = _without_offers(text)
    out: list[_Clause] = []
    pos = 0
    for piece in _SENTENCE.split(text):
        begin = text.find(piece, pos)
        pos = begin + len(piece)
        words: list[tuple[int, int, str]] = []
        coord: list[bool] = []
        asks = False
        last_end = 0
        for m in _WORD.finditer(piece):
            w = fold(m.group())
            asks = asks or w in _KNOWLEDGE_CUES
            if not w or w in _STOP:
                continue
            coord.append(bool(words) and _is_coordination(piece[last_end : m.start()]))
            words.append((begin + m.start(), begin + m.end(), w))
            last_end = m.end()
        if words:
            out.append(_Clause(words, coord, asks))
    return out


def _spans(clauses: list[_Clause], max_len: int) -> list[_Span]:
    """Candidate spans of every clause (see the module docstring)."""
    out: list[_Span] = []
    seen: set[tuple[int, int, str]] = set()
    for words, coord, _ in clauses:
        n = len(words)
        runs: list[list[int]] = []
        for i in range(n):
            for j in range(i + 1, min(i + max_len, n) + 1):
                run = list(range(i, j))
                runs.append(run)
                if len(run) <= _MAX_SKIP_LEN:
                    runs.extend(run[:k] + run[k + 1 :] for k in range(1, len(run) - 1))
        # Left-out runs [a, b) at a coordination.
        for a in range(1, n - 1):
            for b in range(a + 1, min(a + _MAX_GAP, n - 1) + 1):
                if not coord[b] and not (b - a <= _MAX_LEFT_GAP and any(coord[a:b])):
                    continue
                for i in range(max(0, a - _MAX_HEAD), a):
                    for j in range(b + 1, min(b + _MAX_TAIL, b + max_len - (a - i), n) + 1):
                        runs.append(list(range(i, a)) + list(range(b, j)))
        for kept in runs:
            start, end = words[kept[0]][0], words[kept[-1]][1]
            text = " ".join(words[k][2] for k in kept)
            if (start, end, text) in seen:
                continue
            seen.add((start, end, text))
            crossed = sum(1 for p, q in pairwise(kept) if q == p + 1 and coord[q])
            out.append(_Span(start, end, text, _CROSS_WEIGHT**crossed))
    return out


def extract_skills(
    texts: Iterable[str],
    normaliser: SkillNormaliser,
    *,
    lang: Lang = "auto",
    top_k: int = 10,
    min_score: float = 15.0,
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
        Skills scoring below this (0-100) are left out.
    max_span : int
        Most content words in one span.

    Examples
    --------
    >>> from matcher.io import load_taxonomy
    >>> norm = SkillNormaliser(load_taxonomy())
    >>> found = extract_skills(["Experiencia en empalme de fibra óptica con OTDR."], norm)
    >>> norm.taxonomy.label(found[0][0].concept, "en")
    'splice cable'
    """
    texts = list(texts)
    per_text_clauses = [_clauses(t) for t in texts]
    per_text = [_spans(clauses, max_span) for clauses in per_text_clauses]
    matches = normaliser.match(
        [s.words for spans in per_text for s in spans], kind="skill", lang=lang, top_k=3
    )
    is_knowledge = normaliser.taxonomy.concepts["skill_type"].eq("knowledge").to_numpy()
    index = normaliser._index("skill")
    # Clause-level evidence: the bag of stems of each clause against every label (label
    # words spread over one clause count, spread over a long ad they do not).
    clause_words = [
        {t for _, _, w in clause.words for t in w.split()}
        for clauses in per_text_clauses
        for clause in clauses
    ]
    # Each clause's language (Spanish and English labels can share a stem by chance:
    # es "lectura", en "lecture"); "auto" when the words do not tell.
    clause_lang = [
        lang if lang != "auto" else detect_language(" ".join(ws), index.vocab_es, index.vocab_en)
        for ws in clause_words
    ]
    bag_rows = [index.stems_of(ws, lg) for ws, lg in zip(clause_words, clause_lang)]
    bag_sims = index.bag_similarity(bag_rows) if bag_rows else None
    label_lang = index._label_lang
    results: list[list[ExtractedSkill]] = []
    cursor = 0
    row = 0
    for text, clauses, spans in zip(texts, per_text_clauses, per_text):
        best: dict[int, ExtractedSkill] = {}
        asks_knowledge = any(c.asks_knowledge for c in clauses)
        for span in spans:
            n_words = span.words.count(" ") + 1
            factor = span.weight * _SPAN_FACTOR.get(n_words, 1.0)
            for m in matches[cursor]:
                score = m.score * factor
                if n_words == 1 and m.method == "fuzzy":
                    # A lone word is evidence when it is a label (up to inflection), not
                    # when it only resembles part of one ("string", "screen", "corporativos").
                    score *= _LONE_FUZZY_FACTOR
                if is_knowledge[m.concept] and not asks_knowledge:
                    score *= _KNOWLEDGE_FACTOR
                if score < _SPAN_FLOOR:
                    continue
                cur = best.get(m.concept)
                width = span.end - span.start
                if cur is None or (score, -width) > (cur.score, -(cur.end - cur.start)):
                    evidence = text[span.start : span.end]
                    best[m.concept] = ExtractedSkill(
                        m.concept, round(score, 2), span.start, span.end, evidence
                    )
            cursor += 1
        bag: dict[int, float] = {}
        if bag_sims is not None:
            for r in range(row, row + len(clauses)):
                lo, hi = bag_sims.indptr[r], bag_sims.indptr[r + 1]
                own = clause_lang[r]
                for lab, sim in zip(
                    bag_sims.indices[lo:hi].tolist(), bag_sims.data[lo:hi].tolist()
                ):
                    if own != "auto" and label_lang[lab] != own:
                        continue
                    c = int(index.concept[lab])
                    bag[c] = max(bag.get(c, 0.0), sim)
        row += len(clauses)
        scored = (
            ExtractedSkill(
                c,
                round((1 - _BAG_WEIGHT) * e.score + _BAG_WEIGHT * 100 * bag.get(c, 0.0), 2),
                e.start,
                e.end,
                e.evidence,
            )
            for c, e in best.items()
        )
        ranked = sorted(
            (e for e in scored if e.score >= min_score),
            key=lambda e: (-e.score, e.start, e.concept),
        )
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
