"""Held-out surface forms: the evaluation sets the normaliser is judged on.

A share of the alternative labels is removed from the index before it is built
and used as queries, clean and with one random typo and accents stripped. The
shipped index keeps every label; only evaluation builds one without them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matcher.taxonomy import SkillTaxonomy
from matcher.text import fold

LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class HeldOut:
    taxonomy: SkillTaxonomy  # index without the held-out forms
    queries: pd.DataFrame  # text, lang, kind, gold (frozenset of concept positions)


def add_typo(text: str, rng: random.Random) -> str:
    """One random edit (substitute, delete, insert or swap) inside a word of 4+ letters."""
    words = text.split()
    spots = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    op = rng.choice(("sub", "del", "ins", "swap"))
    if op == "sub":
        w = w[:j] + rng.choice(LETTERS.replace(w[j], "")) + w[j + 1 :]
    elif op == "del":
        w = w[:j] + w[j + 1 :]
    elif op == "ins":
        w = w[:j] + rng.choice(LETTERS) + w[j:]
    else:
        w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def strip_accents(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def hold_out_alt_labels(
    taxonomy: SkillTaxonomy, *, kind: str = "skill", share: float = 0.2, random_state: int = 0
) -> HeldOut:
    """Remove ``share`` of the alternative forms of ``kind`` concepts from the index.

    A form is a (concept, folded text) pair; every label row with that folded
    text is removed together, so no accent or case variant of a query stays in
    the index. Forms equal to the concept's preferred label are never held out.
    """
    labels = taxonomy.labels
    kinds = taxonomy.concepts["kind"].to_numpy()[labels["concept"].to_numpy()]
    folded = labels["text"].map(fold)
    pref = set(
        zip(
            labels.loc[labels["source"] == "preferred", "concept"],
            folded[labels["source"] == "preferred"],
        )
    )
    form_key = list(zip(labels["concept"], folded))
    eligible = (labels["source"] == "alt").to_numpy() & (kinds == kind)
    forms = sorted(
        {
            (c, f, lang)
            for (c, f), lang, ok in zip(form_key, labels["lang"], eligible)
            if ok and (c, f) not in pref
        }
    )
    rng = np.random.default_rng(random_state)
    chosen = [forms[i] for i in rng.permutation(len(forms))[: round(share * len(forms))]]
    chosen_keys = {(c, f) for c, f, _ in chosen}
    mask = np.array([k in chosen_keys for k in form_key])

    # Gold: every concept that has the form in the full taxonomy.
    owners: dict[str, set[int]] = {}
    for (c, f), k in zip(form_key, kinds):
        if k == kind:
            owners.setdefault(f, set()).add(int(c))
    text_of = {}
    for (c, f), text, m in zip(form_key, labels["text"], mask):
        if m:
            text_of.setdefault((c, f), text)
    rows = [
        {"text": text_of[(c, f)], "lang": lang, "kind": kind, "gold": frozenset(owners[f])}
        for c, f, lang in chosen
    ]
    return HeldOut(taxonomy=taxonomy.without_labels(mask), queries=pd.DataFrame(rows))


def hold_out_concepts(
    taxonomy: SkillTaxonomy, *, kind: str = "skill", share: float = 0.05, random_state: int = 0
) -> HeldOut:
    """Remove every label of ``share`` of the ``kind`` concepts; their labels become queries
    whose right answer is not in the index (gold is empty): what an unknown skill looks like.
    """
    labels = taxonomy.labels
    kinds = taxonomy.concepts["kind"].to_numpy()[labels["concept"].to_numpy()]
    pool = np.flatnonzero(taxonomy.concepts["kind"].to_numpy() == kind)
    rng = np.random.default_rng(random_state)
    chosen = set(rng.choice(pool, size=round(share * len(pool)), replace=False).tolist())
    mask = labels["concept"].isin(chosen).to_numpy() & (kinds == kind)
    queries = labels.loc[mask & (labels["source"] != "synonym").to_numpy(), ["text", "lang"]].copy()
    queries["kind"] = kind
    queries["gold"] = [frozenset()] * len(queries)
    return HeldOut(taxonomy=taxonomy.without_labels(mask), queries=queries.reset_index(drop=True))


def typo_variant(texts: pd.Series, *, random_state: int = 0) -> pd.Series:
    """Each text with accents stripped and one random typo."""
    rng = random.Random(random_state)
    return texts.map(lambda t: add_typo(strip_accents(t), rng))


#: Words people put around a skill in a CV or a job ad ("experiencia en ...").
FILLERS = {
    "es": (
        "experiencia en {}",
        "manejo de {}",
        "conocimientos de {}",
        "{} (nivel intermedio)",
        "capacidad para {}",
        "{} - 2 años",
        "curso de {}",
        "nociones de {}",
    ),
    "en": (
        "experience in {}",
        "knowledge of {}",
        "{} (intermediate)",
        "ability to {}",
        "{} - 2 years",
        "skilled in {}",
        "course in {}",
        "hands-on {}",
    ),
}


def realistic_variant(texts: pd.Series, langs: pd.Series, *, random_state: int = 0) -> pd.Series:
    """Each text as a CV carries it: accents often dropped, a filler phrase, sometimes a typo."""
    rng = random.Random(random_state)

    def one(text: str, lang: str) -> str:
        if rng.random() < 0.5:
            text = strip_accents(text)
        if rng.random() < 0.3:
            text = add_typo(text, rng)
        if rng.random() < 0.7:
            text = rng.choice(FILLERS.get(lang, FILLERS["en"])).format(text)
        return text.upper() if rng.random() < 0.1 else text

    return pd.Series([one(t, lg) for t, lg in zip(texts, langs)], index=texts.index)
