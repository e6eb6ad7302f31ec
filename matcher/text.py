"""Text processing shared by the normaliser, the extractor and the baselines.

Everything here is a pure function of its input; per-token work is cached
because real inputs repeat the same few thousand words over and over.
"""

from __future__ import annotations

import re
import unicodedata

import snowballstemmer

__all__ = [
    "CONJUNCTIONS",
    "STOPWORDS",
    "clean_occupation_title",
    "content_tokens",
    "detect_language",
    "fold",
    "occupation_title_variants",
    "skill_mention_variants",
    "stem",
]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACE = re.compile(r"\s+")

STOPWORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        [
            "a",
            "al",
            "ante",
            "con",
            "de",
            "del",
            "desde",
            "e",
            "el",
            "en",
            "entre",
            "hacia",
            "la",
            "las",
            "lo",
            "los",
            "o",
            "para",
            "por",
            "segun",
            "sin",
            "sobre",
            "su",
            "sus",
            "u",
            "un",
            "una",
            "unos",
            "unas",
            "y",
            "que",
            "se",
            "como",
            "mi",
            "mis",
            "tu",
            "etc",
        ]
    ),
    "en": frozenset(
        [
            "a",
            "an",
            "and",
            "as",
            "at",
            "by",
            "for",
            "from",
            "in",
            "into",
            "of",
            "on",
            "or",
            "the",
            "their",
            "its",
            "to",
            "with",
            "within",
            "via",
            "etc",
        ]
    ),
}
# Words that wrap a skill in CVs and job ads without changing it ("experiencia en ...",
# "knowledge of ...", "(nivel avanzado)"). Dropped from mentions and labels alike.
FILLERS = frozenset(
    [
        "experiencia",
        "experiencias",
        "experience",
        "experienced",
        "conocimiento",
        "conocimientos",
        "knowledge",
        "nociones",
        "nocion",
        "notions",
        "nivel",
        "level",
        "basico",
        "basica",
        "basic",
        "intermedio",
        "intermedia",
        "intermediate",
        "avanzado",
        "avanzada",
        "advanced",
        "experto",
        "experta",
        "expert",
        "solido",
        "solida",
        "solid",
        "amplio",
        "amplia",
        "anos",
        "ano",
        "years",
        "year",
        "meses",
        "months",
        "curso",
        "cursos",
        "course",
        "courses",
        "hands",
        "skilled",
        "deseable",
        "indispensable",
    ]
)
_ALL_STOPWORDS = STOPWORDS["es"] | STOPWORDS["en"] | FILLERS


class _CombiningMarks(dict[int, int | None]):
    """``str.translate`` table deleting combining marks, filled as characters are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_DROP_COMBINING = _CombiningMarks()


# Memos of fold and stem: plain str -> str dicts, emptied when full. Unlike lru_cache's
# linked nodes they hold no objects the garbage collector has to scan.
_MEMO_SIZE = 200_000
_FOLDED: dict[str, str] = {}
_STEMMED: dict[str, dict[str, str]] = {"es": {}, "en": {}}


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse white space.

    Examples
    --------
    >>> fold("  Instalación de PANELES fotovoltaicos!! ")
    'instalacion de paneles fotovoltaicos'
    >>> fold("Gestión/Tratamiento de residuos (RR.SS.)")
    'gestion tratamiento de residuos rr ss'
    """
    hit = _FOLDED.get(text)
    if hit is not None:
        return hit
    lowered = text.lower()
    if lowered.isascii():  # nothing to decompose (most mentions): skip the Unicode work
        ascii_only = lowered
    else:
        decomposed = unicodedata.normalize("NFKD", lowered)
        ascii_only = decomposed.translate(_DROP_COMBINING).replace("ñ", "n")
    out = _SPACE.sub(" ", _NON_ALNUM.sub(" ", ascii_only)).strip()
    if len(_FOLDED) >= _MEMO_SIZE:
        _FOLDED.clear()
    _FOLDED[text] = out
    return out


_STEMMERS = {
    "es": snowballstemmer.stemmer("spanish"),
    "en": snowballstemmer.stemmer("english"),
}


def stem(token: str, lang: str) -> str:
    """Snowball stem of one folded token (``lang`` is ``"es"`` or ``"en"``).

    Gender and number collapse to one stem, which is what makes
    "técnicos" match "técnica" and "paneles" match "panel".

    >>> stem("instaladores", "es") == stem("instaladora", "es")
    True
    >>> stem("turbines", "en")
    'turbin'
    """
    memo = _STEMMED.setdefault(lang, {})
    hit = memo.get(token)
    if hit is None:
        hit = token if len(token) <= 3 or token.isdigit() else str(_STEMMERS[lang].stemWord(token))
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[token] = hit
    return hit


def content_tokens(folded: str) -> list[str]:
    """Tokens of folded text without Spanish or English stop words or CV filler words.

    >>> content_tokens("instalacion de paneles en techos y azoteas")
    ['instalacion', 'paneles', 'techos', 'azoteas']
    >>> content_tokens("experiencia en soldadura tig 2 anos")
    ['soldadura', 'tig', '2']
    """
    return [t for t in folded.split() if t not in _ALL_STOPWORDS]


def detect_language(folded: str, es_vocab: frozenset[str], en_vocab: frozenset[str]) -> str:
    """Guess ``"es"`` or ``"en"`` from stop words and vocabulary; ``"auto"`` when unsure.

    ``es_vocab`` and ``en_vocab`` are the tokens seen in each language's labels.

    >>> detect_language("mantenimiento de turbinas", frozenset({"mantenimiento"}), frozenset())
    'es'
    """
    score = 0.0
    for tok in folded.split():
        in_es = tok in STOPWORDS["es"] or tok in es_vocab
        in_en = tok in STOPWORDS["en"] or tok in en_vocab
        if in_es and not in_en:
            score += 1.0
        elif in_en and not in_es:
            score -= 1.0
    if score > 0:
        return "es"
    if score < 0:
        return "en"
    return "auto"


# Fragments that classification catalogues and job boards add to occupation titles
# and that carry no meaning for matching ("EN GENERAL", "N.C.O.P.", "EXCEPTO ...").
_TITLE_NOISE = re.compile(
    r"\b(?:en general|y afines|y similares|n c o p|ncop|n e p|nep|nca|de primera|de segunda|"
    r"de tercera|de 1ra|de 2da|de 3ra|1ra|2da|3ra|in general|not elsewhere classified|nec|"
    r"junior|senior|sr|jr|practicante|trainee)\b"
)
_TITLE_EXCEPT = re.compile(r"\b(?:excepto|except|salvo|excluding|no incluye)\b.*$")
_GENDER_SUFFIX = re.compile(r"(\w)(?:/as|/a|/os|\(as\)|\(a\)|\(os\)|\(o\))\b", re.IGNORECASE)


_GENDERED_PAIR = re.compile(r"^\s*([^/]+\s[^/]+)/([^/]+\s[^/]+)\s*$")
_GENDERED_WORDS = re.compile(r"^\s*(\w+)/(\w+)\s*$")


def _same_word_gendered(a: str, b: str) -> bool:
    """Two forms of one word that differ only in the ending ("soldador", "soldadora")."""
    a, b = a.lower(), b.lower()
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n >= 4 and n >= min(len(a), len(b)) - 2


def clean_occupation_title(text: str) -> str:
    """Strip catalogue noise from an occupation title, keeping its meaning.

    >>> clean_occupation_title("TÉCNICOS/AS ELECTRICISTAS, EN GENERAL")
    'tecnicos electricistas'
    >>> clean_occupation_title("técnico de telecomunicación/técnica de telecomunicación")
    'tecnico de telecomunicacion'
    >>> clean_occupation_title("Operadores de plantas de agua, excepto potabilizadoras")
    'operadores de plantas de agua'
    >>> clean_occupation_title("soldador/soldadora")
    'soldador'
    """
    pair = _GENDERED_PAIR.match(text)  # "técnico de X/técnica de X": one form is enough
    if pair:
        text = pair.group(1)
    words = _GENDERED_WORDS.match(text)  # "soldador/soldadora", as ESCO displays it
    if words and _same_word_gendered(words.group(1), words.group(2)):
        text = words.group(1)
    text = _GENDER_SUFFIX.sub(r"\1", text)
    folded = fold(text)
    folded = _TITLE_EXCEPT.sub("", folded)
    folded = _TITLE_NOISE.sub(" ", folded)
    return _SPACE.sub(" ", folded).strip()


# Job boards wrap a title in words that name no occupation: a call in front ("Se necesita",
# "URGENTE:", "We are hiring"), and after it a place, a shift or a requirement ("- Lima",
# "(turno noche)", "para Arequipa", "con experiencia en subestaciones").
_AD_LEAD = re.compile(
    r"^\s*(?:(?:se\s+)?(?:necesita|necesitan|requiere|requieren|busca|buscan|solicita|solicitan)"
    r"|buscamos|requerimos|necesitamos|solicitamos|contratamos|urgente|convocatoria(?:\s+para)?"
    r"|oferta\s+(?:laboral|de\s+empleo|de\s+trabajo)|vacante|empleo|puesto|(?:we\s+are\s+|now\s+)?hiring"
    r"|wanted|urgently\s+(?:required|needed)|job\s+opening|job)\b\s*(?:[:!\-–—]+\s*)?(?:de\s+|:\s*)?",
    re.IGNORECASE,
)
_AD_SEPARATOR = re.compile(r"\s[-–—|/]\s|\s*[|:;,]\s*|\s[-–—]|[-–—]\s")
_AD_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_AD_TAIL = re.compile(
    r"\s(?:con\s+o\s+sin|con|sin)\s+(?:experiencia|licencia|brevete|movilidad|disponibilidad)\b.*$"
    r"|\s(?:with|without)\s+(?:experience|licen[cs]e)\b.*$",
    re.IGNORECASE,
)
# "para Arequipa", "en Lima", "zona Sur": a place is a capitalised name or two at the end
# ("Técnico en refrigeración" names a field, not a place, and keeps it).
_AD_PLACE = re.compile(r"\s(?:para|en|in|for|zona|sede)\s+(?:[A-ZÁÉÍÓÚÑ][\w-]*\s*){1,2}$")


def occupation_title_variants(text: str) -> list[str]:
    """The title itself, then shorter readings of it without the wrapping of a job ad.

    The normaliser keeps a shorter reading's answer only when it is clearly surer of it
    than of the whole title's, so a catalogue title keeps its own answer.

    >>> occupation_title_variants("Se necesita Técnico Electricista - Lima")[1:]
    ['Técnico Electricista - Lima', 'Técnico Electricista']
    >>> occupation_title_variants("Albañil con experiencia")
    ['Albañil con experiencia', 'Albañil']
    >>> occupation_title_variants("Técnico de fibra óptica para Arequipa")[-1]
    'Técnico de fibra óptica'
    >>> occupation_title_variants("Técnico en refrigeración")
    ['Técnico en refrigeración']
    """
    out = [text]
    core = _AD_LEAD.sub("", text, count=1).strip()
    if core and core != text:
        out.append(core)
    gender_kept = _GENDER_SUFFIX.sub(r"\1", core)
    unbracketed = _SPACE.sub(" ", _AD_BRACKETS.sub(" ", gender_kept)).strip()
    head = _AD_SEPARATOR.split(unbracketed, maxsplit=1)[0].strip()
    short = _AD_TAIL.sub("", head).strip()
    if not short.isupper():  # in upper case every word looks like a name
        short = _AD_PLACE.sub("", short).strip()
    for variant in (unbracketed, head, short):
        if variant and variant not in out and fold(variant):
            out.append(variant)
    return out


# What CV and ad lines add after a skill that names no other one: a parenthesised list
# ("Office (Word, Excel)"), "incl. ..." / "including ...", and the pair "preventivo y
# correctivo" that only says "all of it" about maintenance.
_SKILL_TAIL = re.compile(
    r"\s(?:incl|including|incluye|incluyendo|e\.g|eg|such as|como)\b.*$", re.IGNORECASE
)
_BOTH_KINDS = re.compile(
    r"\b(?:preventivos?|preventivas?|correctivos?|correctivas?|predictivos?|predictivas?)"
    r"(?:\s*(?:,|y|e|/|and|&)\s*(?:preventivos?|preventivas?|correctivos?|correctivas?"
    r"|predictivos?|predictivas?))+\b"
    r"|\b(?:preventive|corrective|predictive|planned|reactive)"
    r"(?:\s*(?:,|and|&|/)\s*(?:preventive|corrective|predictive|planned|reactive))+\b",
    re.IGNORECASE,
)


def skill_mention_variants(text: str) -> list[str]:
    """The mention itself, then readings without what CVs add around a skill.

    >>> skill_mention_variants("Microsoft Office (Word, Excel) a nivel intermedio")
    ['Microsoft Office (Word, Excel) a nivel intermedio', 'Microsoft Office a nivel intermedio']
    >>> skill_mention_variants("Mantenimiento preventivo y correctivo de tableros")
    ['Mantenimiento preventivo y correctivo de tableros', 'Mantenimiento de tableros']
    >>> skill_mention_variants("soldadura TIG")
    ['soldadura TIG']
    """
    out = [text]
    core = _SPACE.sub(" ", _AD_BRACKETS.sub(" ", text)).strip()
    core = _SPACE.sub(" ", _BOTH_KINDS.sub(" ", core)).strip()
    core = _SKILL_TAIL.sub("", core).strip()
    for variant in (core, *_one_conjunct(core)):
        if variant and variant not in out and fold(variant):
            out.append(variant)
    return out


#: Words (and signs) that coordinate two conjuncts, in either language.
CONJUNCTIONS = frozenset(["and", "or", "nor", "plus", "y", "e", "o", "u", "ni", "&", "/", "+"])


def _one_conjunct(text: str) -> list[str]:
    """The text with one side of its first coordination of two words left out.

    >>> _one_conjunct("toma de muestras de agua y suelo")
    ['toma de muestras de agua', 'toma de muestras de suelo']
    >>> _one_conjunct("instalación y mantenimiento de redes")
    ['instalación de redes', 'mantenimiento de redes']
    """
    words = text.replace(",", " , ").split()
    for i in range(1, len(words) - 1):
        if words[i].lower() in CONJUNCTIONS and words[i - 1] != "," and words[i + 1] != ",":
            return [
                " ".join(words[:i] + words[i + 2 :]).replace(" , ", ", "),
                " ".join(words[: i - 1] + words[i + 1 :]).replace(" , ", ", "),
            ]
    return []
