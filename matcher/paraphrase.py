"""Paraphrase rules learnt from the taxonomy itself.

ESCO writes the same concept many ways, and it does so systematically: "understand
spoken Greek" / "make sense of spoken Greek", "types of wood" / "sorts of wood",
"mantener equipos" / "reparar equipos". Two labels of one concept that differ in a
short span give a rewrite rule (``make sense -> understand``); a rule seen in
several concepts is general. The normaliser adds the rewrites of every label to
its index, so a mention written with a paraphrase that the taxonomy lists for
*other* concepts still finds its concept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

__all__ = ["apply_rules", "group_rules", "merge_rules", "mine_rules", "template_variants"]

Rule = tuple[tuple[str, ...], tuple[str, ...]]


def _diff(a: Sequence[str], b: Sequence[str]) -> Rule | None:
    p = 0
    while p < len(a) and p < len(b) and a[p] == b[p]:
        p += 1
    s = 0
    while s < len(a) - p and s < len(b) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    mid_a, mid_b = tuple(a[p : len(a) - s]), tuple(b[p : len(b) - s])
    if not (1 <= len(mid_a) <= 3 and 1 <= len(mid_b) <= 3) or p + s == 0:
        return None
    return mid_a, mid_b


def mine_rules(
    labels: Sequence[str],
    concepts: Sequence[int],
    langs: Sequence[str],
    *,
    min_support: int = 2,
    max_per_lhs: int = 4,
    max_labels_per_concept: int = 40,
) -> dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, ...], int]]]:
    """Rewrite rules ``(lang, lhs) -> [(rhs, support), ...]`` from labels of the same concept.

    ``labels`` are token strings (folded, stop words removed); support counts
    the distinct concepts in which a rule appears.

    >>> rules = mine_rules(
    ...     ["understand spoken greek", "make sense spoken greek",
    ...      "understand spoken czech", "make sense spoken czech"],
    ...     [0, 0, 1, 1], ["en"] * 4)
    >>> rules[("en", ("understand",))]
    [(('make', 'sense'), 2)]
    """
    groups: dict[tuple[int, str], list[tuple[str, ...]]] = defaultdict(list)
    for text, concept, lang in zip(labels, concepts, langs):
        toks = tuple(text.split())
        group = groups[(int(concept), lang)]
        if toks and toks not in group and len(group) < max_labels_per_concept:
            group.append(toks)
    support: dict[tuple[str, Rule], set[int]] = defaultdict(set)
    for (concept, lang), forms in groups.items():
        for i in range(len(forms)):
            for j in range(i + 1, len(forms)):
                rule = _diff(forms[i], forms[j])
                if rule is None:
                    continue
                support[(lang, rule)].add(concept)
                support[(lang, (rule[1], rule[0]))].add(concept)
    table: dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, ...], int]]] = defaultdict(list)
    for (lang, (lhs, rhs)), seen in support.items():
        if len(seen) >= min_support:
            table[(lang, lhs)].append((rhs, len(seen)))
    return {
        key: sorted(options, key=lambda o: (-o[1], o[0]))[:max_per_lhs]
        for key, options in table.items()
    }


def apply_rules(
    text: str,
    lang: str,
    rules: dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, ...], int]]],
    *,
    max_variants: int = 12,
) -> list[str]:
    """Every single-rule rewrite of ``text``, best-supported first.

    >>> rules = {("en", ("understand",)): [(("make", "sense"), 5)]}
    >>> apply_rules("understand spoken greek", "en", rules)
    ['make sense spoken greek']
    """
    toks = text.split()
    found: dict[str, int] = {}
    for n in (3, 2, 1):
        for i in range(len(toks) - n + 1):
            for rhs, sup in rules.get((lang, tuple(toks[i : i + n])), ()):
                variant = " ".join([*toks[:i], *rhs, *toks[i + n :]])
                if variant != text and found.get(variant, 0) < sup:
                    found[variant] = sup
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return [v for v, _ in ranked[:max_variants]]


def group_rules(
    groups: Sequence[tuple[str, Sequence[str]]], *, support: int = 3
) -> dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, ...], int]]]:
    """Rules from hand-written groups of interchangeable words, each with a fixed support.

    >>> group_rules([("es", ["instalar", "colocar"])])[("es", ("instalar",))]
    [(('colocar',), 3)]
    """
    table: dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, ...], int]]] = defaultdict(list)
    for lang, words in groups:
        forms = [tuple(w.split()) for w in words if w.split()]
        for a in forms:
            for b in forms:
                if a != b:
                    table[(lang, a)].append((b, support))
    return dict(table)


def merge_rules(
    *tables: dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, ...], int]]],
    max_per_lhs: int = 4,
) -> dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, ...], int]]]:
    """Union of rule tables, keeping the best-supported right-hand sides per left-hand side."""
    merged: dict[tuple[str, tuple[str, ...]], dict[tuple[str, ...], int]] = defaultdict(dict)
    for table in tables:
        for key, options in table.items():
            slot = merged[key]
            for rhs, sup in options:
                slot[rhs] = max(slot.get(rhs, 0), sup)
    return {
        key: sorted(slot.items(), key=lambda o: (-o[1], o[0]))[:max_per_lhs]
        for key, slot in merged.items()
    }


#: A label with its concept's preferred label replaced, at every place, by ``_SLOT``.
Template = tuple[str, ...]
_SLOT = "\x00"


def _template(toks: tuple[str, ...], pref: tuple[str, ...]) -> Template | None:
    out: list[str] = []
    i, n, found = 0, len(pref), False
    while i < len(toks):
        if toks[i : i + n] == pref:
            out.append(_SLOT)
            i += n
            found = True
        else:
            out.append(toks[i])
            i += 1
    return tuple(out) if found and len(out) > 1 else None


def template_variants(
    labels: Sequence[str],
    concepts: Sequence[int],
    langs: Sequence[str],
    preferred: Sequence[bool],
    *,
    min_support: int = 5,
    max_extra: int = 12,
) -> list[tuple[int, str, str]]:
    """Labels a concept lacks but whose pattern its family of concepts shares.

    ESCO writes whole families of concepts from one pattern around the preferred
    label: every language has "competent in {X}" and "ability to comprehend spoken
    and written {X} and to speak and write in {X}". A pattern (the label with the
    preferred label left out wherever it occurs) seen in ``min_support`` concepts is
    given to each concept that lacks it but already has another pattern that occurs
    together with it in ``min_support`` concepts, its family. Returns ``(concept,
    lang, text)`` for each new label; ``labels`` are token strings as in
    :func:`mine_rules`.

    >>> langs_ = ["polish", "russian", "greek", "czech", "hindi"]
    >>> labels, concepts = [], []
    >>> for c, x in enumerate(langs_):
    ...     forms = [x, f"competent {x}", f"speak {x} write {x}"]
    ...     if x == "greek":
    ...         forms.remove("competent greek")
    ...     labels += forms
    ...     concepts += [c] * len(forms)
    >>> pref = [t in langs_ for t in labels]
    >>> template_variants(labels, concepts, ["en"] * len(labels), pref, min_support=4)
    [(2, 'en', 'competent greek')]
    """
    pref: dict[tuple[int, str], tuple[str, ...]] = {}
    for text, concept, lang, is_pref in zip(labels, concepts, langs, preferred):
        if is_pref and text:
            pref.setdefault((int(concept), lang), tuple(text.split()))
    has: dict[tuple[int, str], set[Template]] = defaultdict(set)
    for text, concept, lang in zip(labels, concepts, langs):
        key = (int(concept), lang)
        p = pref.get(key)
        toks = tuple(text.split())
        if p is None or len(toks) <= len(p) or len(toks) - len(p) > max_extra:
            continue
        t = _template(toks, p)
        if t is not None:
            has[key].add(t)
    support: dict[tuple[str, Template], int] = defaultdict(int)
    together: dict[tuple[str, Template, Template], int] = defaultdict(int)
    for (_, lang), templates in has.items():
        for t in templates:
            support[(lang, t)] += 1
            for u in templates:
                if u != t:
                    together[(lang, t, u)] += 1
    kept = sorted(key for key, n in support.items() if n >= min_support)
    out: list[tuple[int, str, str]] = []
    for (concept, lang), p in sorted(pref.items()):
        own = {t for t in has.get((concept, lang), ()) if (lang, t) in support}
        own = {t for t in own if support[(lang, t)] >= min_support}
        if not own:
            continue
        for lg, t in kept:
            if lg != lang or t in own:
                continue
            if any(together.get((lang, t, u), 0) >= min_support for u in own):
                text = " ".join(" ".join(p) if w == _SLOT else w for w in t)
                out.append((concept, lang, text))
    return out
