"""Realistic skill mentions for benchmarks: ESCO labels as CVs and job ads write them.

Spanish and English labels and the Peru/Latin-American synonym layer, wrapped in
CV filler ("experiencia en ...", "knowledge of ..."), often without accents,
sometimes with one typo, in mixed case. Deterministic for a given seed.
"""

from __future__ import annotations

import random

from matcher.taxonomy import SkillTaxonomy
from training.heldout import FILLERS, add_typo, strip_accents

__all__ = ["realistic_mentions"]

_CASES = (str, str, str, str.lower, str.capitalize, str.title, str.upper)


def _dress(text: str, lang: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        text = strip_accents(text)
    if rng.random() < 0.3:
        text = add_typo(text, rng)
    if rng.random() < 0.6:
        text = rng.choice(FILLERS.get(lang, FILLERS["en"])).format(text)
    return rng.choice(_CASES)(text)


def realistic_mentions(
    taxonomy: SkillTaxonomy, n: int, *, seed: int = 0, kind: str = "skill"
) -> list[str]:
    """``n`` distinct mentions of ``kind`` concepts (labels dressed as a CV writes them).

    About a third are Spanish and one in twenty comes from the synonym layer
    (Peruvian terms such as "gasfitería" or "pozo a tierra").
    """
    labels = taxonomy.labels
    kinds = taxonomy.concepts["kind"].to_numpy()[labels["concept"].to_numpy()]
    labels = labels[kinds == kind]
    pools = {
        "en": labels[(labels["lang"] == "en") & (labels["source"] != "synonym")],
        "es": labels[(labels["lang"] == "es") & (labels["source"] != "synonym")],
        "syn": labels[labels["source"] == "synonym"],
    }
    pools = {k: list(zip(v["text"], v["lang"])) for k, v in pools.items() if len(v)}
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        r = rng.random()
        pool = pools.get("syn") if r < 0.05 else pools["es"] if r < 0.40 else pools["en"]
        text, lang = rng.choice(pool or pools["en"])
        mention = _dress(text, lang, rng)
        if mention not in seen:
            seen.add(mention)
            out.append(mention)
    return out
