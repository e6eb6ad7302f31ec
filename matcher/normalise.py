"""Free-text skill and occupation mentions -> ranked ESCO concepts.

The pipeline, per batch of mentions:

1. **Text processing** (:mod:`matcher.text`): fold case and accents, drop stop
   words, clean catalogue noise from occupation titles, correct misspelt words
   against the label vocabulary, stem in the mention's language.
2. **Exact alias index**: a folded label (ESCO or the Peru/Latin-American
   synonym layer) or the same stems in any order is an exact hit.
3. **Candidate generation**, vectorised for the whole batch: character n-gram
   TF-IDF (robust to typos) and stemmed-word TF-IDF (robust to inflection and
   word order), one sparse product with a fused top-n (``sparse_dot_topn``).
4. **Re-rank** the candidates with ``rapidfuzz`` and aggregate labels to concepts.

Repeated mentions are answered from an LRU cache.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sparse_dot_topn import sp_matmul_topn

from matcher.config import RERANK_FEATURES, NormaliseConfig
from matcher.exceptions import ConfigError
from matcher.paraphrase import apply_rules, group_rules, merge_rules, mine_rules
from matcher.taxonomy import SkillTaxonomy
from matcher.text import clean_occupation_title, content_tokens, detect_language, fold, stem

__all__ = ["NORMALISE_COLUMNS", "ConceptMatch", "SkillNormaliser"]

Kind = Literal["skill", "occupation"]
Lang = Literal["es", "en", "auto"]

#: Columns of :meth:`SkillNormaliser.normalise` output, in order.
NORMALISE_COLUMNS = ["mention", "rank", "uri", "label_es", "label_en", "score", "method", "matched"]

_SOURCE_RANK = {"preferred": 0, "alt": 1, "synonym": 2, "paraphrase": 3}
# A generated paraphrase is weaker evidence than a label someone wrote.
_PARAPHRASE_FACTOR = 0.97
# A label in another language than the mention's (when that is known).
_OTHER_LANGUAGE_FACTOR = 0.92


@dataclass(frozen=True)
class ConceptMatch:
    """One candidate concept for a mention."""

    concept: int
    score: float
    method: str
    label: int  # the label row that matched best


@dataclass(frozen=True)
class _Prepared:
    content: str
    stems: str
    lang: str


def _analyzer_split(text: str) -> list[str]:
    return text.split()


class _KindIndex:
    """The searchable labels of one kind of concept."""

    def __init__(self, taxonomy: SkillTaxonomy, kind: Kind, config: NormaliseConfig) -> None:
        self.kind = kind
        self.config = config
        labels = taxonomy.labels
        labels = labels[taxonomy.concepts["kind"].to_numpy()[labels["concept"].to_numpy()] == kind]
        clean = clean_occupation_title if kind == "occupation" else fold
        folded = [clean(t) for t in labels["text"]]
        content = [" ".join(content_tokens(f)) or f for f in folded]
        concept = labels["concept"].tolist()
        lang = labels["lang"].tolist()
        source = labels["source"].tolist()
        n_real = len(content)
        # Paraphrases learnt from the labels themselves, added as weaker labels.
        lexicon = [
            (str(lg), [" ".join(content_tokens(fold(w))) for w in str(words).split("|")])
            for lg, words in zip(taxonomy.word_groups["lang"], taxonomy.word_groups["words"])
        ]
        rules = merge_rules(mine_rules(content, concept, lang), group_rules(lexicon))
        seen = set(zip(concept, content))
        for i in range(n_real):
            for variant in apply_rules(
                content[i], lang[i], rules, max_variants=config.max_paraphrases
            ):
                if (concept[i], variant) not in seen:
                    seen.add((concept[i], variant))
                    content.append(variant)
                    concept.append(concept[i])
                    lang.append(lang[i])
                    source.append("paraphrase")
        self.n_real = n_real
        self.content = content
        self.concept = np.asarray(concept, dtype=np.int64)
        self.source = np.asarray(source)
        self.source_rank = np.array([_SOURCE_RANK[s] for s in source], dtype=np.int8)
        self.lang = np.asarray(lang)

        vocab: dict[str, set[str]] = {"es": set(), "en": set()}
        for text, lang in zip(self.content, self.lang):
            vocab[lang].update(text.split())
        self.vocab_es = frozenset(vocab["es"])
        self.vocab_en = frozenset(vocab["en"])
        self.vocab_all = self.vocab_es | self.vocab_en
        by_len: dict[int, list[str]] = {}
        for tok in self.vocab_all:
            by_len.setdefault(len(tok), []).append(tok)
        self._vocab_by_len = by_len

        self.stems = [
            " ".join(stem(t, lang) for t in text.split())
            for text, lang in zip(self.content, self.lang)
        ]
        self.stem_sets = [frozenset(x.split()) for x in self.stems]
        n_labels = np.bincount(self.concept[: self.n_real], minlength=len(taxonomy.concepts))
        self.concept_prior = np.log1p(n_labels).astype(np.float64)
        self.exact: dict[str, list[int]] = {}
        self.stem_key: dict[str, list[int]] = {}
        for i, (text, stems) in enumerate(zip(self.content[:n_real], self.stems)):
            self.exact.setdefault(text, []).append(i)
            self.stem_key.setdefault(" ".join(sorted(set(stems.split()))), []).append(i)

        lo, hi = config.char_ngram_range
        self.char_vec = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(lo, hi),
            sublinear_tf=True,
            dtype=np.float32,
            max_df=config.char_max_df,
        )
        self.word_vec = TfidfVectorizer(
            analyzer=_analyzer_split, sublinear_tf=True, dtype=np.float32
        )
        char_m = self.char_vec.fit_transform(self.content)
        word_m = self.word_vec.fit_transform(self.stems)
        total = config.char_weight + config.word_weight
        self._wc = math.sqrt(config.char_weight / total)
        self._ww = math.sqrt(config.word_weight / total)
        self.matrix_t = sparse.hstack([char_m * self._wc, word_m * self._ww]).T.tocsr()
        self.word_matrix_t = word_m.T.tocsr()

    # -------------------------------------------------------------- queries
    def correct(self, token: str) -> str:
        """The vocabulary word closest to an unknown ``token`` (itself if none is close)."""
        return _correct_token(self, token)

    def prepare(self, mention: str, lang: Lang) -> _Prepared:
        clean = clean_occupation_title if self.kind == "occupation" else fold
        folded = clean(mention)
        tokens = content_tokens(folded) or folded.split()
        tokens = [t if t in self.vocab_all else self.correct(t) for t in tokens]
        content = " ".join(tokens)
        used = lang if lang != "auto" else detect_language(folded, self.vocab_es, self.vocab_en)
        if used == "auto":
            stems = {stem(t, "es") for t in tokens} | {stem(t, "en") for t in tokens}
            stem_str = " ".join(sorted(stems))
        else:
            stem_str = " ".join(stem(t, used) for t in tokens)
        return _Prepared(content=content, stems=stem_str, lang=used)

    def stems_of(self, tokens: Iterable[str], lang: str) -> str:
        """Stems of folded tokens in ``lang`` (both languages when ``"auto"``)."""
        tokens = list(tokens)
        if lang == "auto":
            return " ".join(
                sorted({stem(t, "es") for t in tokens} | {stem(t, "en") for t in tokens})
            )
        return " ".join(stem(t, lang) for t in tokens)

    def bag_similarity(self, stem_strings: Sequence[str], top_n: int = 30) -> sparse.csr_matrix:
        """Cosine of each bag of stems with every label (stems only, order-free), top ``top_n``."""
        query = self.word_vec.transform(list(stem_strings))
        return sp_matmul_topn(query, self.word_matrix_t, top_n=top_n, threshold=0.05, n_threads=2)

    def candidates(self, prepared: Sequence[_Prepared]) -> list[_Candidates]:
        """Candidate concepts of each prepared mention with their re-rank features."""
        if not prepared:
            return []
        q_char = self.char_vec.transform([p.content for p in prepared]) * self._wc
        q_word = self.word_vec.transform([p.stems for p in prepared]) * self._ww
        query = sparse.hstack([q_char, q_word]).tocsr()
        hits = sp_matmul_topn(
            query, self.matrix_t, top_n=self.config.n_candidates, threshold=0.05, n_threads=2
        )
        indptr, indices, data = hits.indptr, hits.indices, hits.data
        out: list[_Candidates] = []
        for row, prep in enumerate(prepared):
            lo, hi = indptr[row], indptr[row + 1]
            labels = indices[lo:hi]
            sims = np.minimum(data[lo:hi].astype(np.float64), 1.0)
            exact_labels = self.exact.get(prep.content, [])
            stem_labels = self.stem_key.get(" ".join(sorted(set(prep.stems.split()))), [])
            extra = [lab for lab in (*exact_labels, *stem_labels) if lab not in set(labels)]
            if extra:
                labels = np.concatenate([labels, np.asarray(extra, dtype=labels.dtype)])
                sims = np.concatenate([sims, np.ones(len(extra))])
            if len(labels) == 0:
                out.append(_Candidates.empty())
                continue
            texts = [self.content[lab] for lab in labels]
            sort_r = process.cdist([prep.content], texts, scorer=fuzz.token_sort_ratio)[0] / 100.0
            set_r = process.cdist([prep.content], texts, scorer=fuzz.token_set_ratio)[0] / 100.0
            plain_r = process.cdist([prep.content], texts, scorer=fuzz.ratio)[0] / 100.0
            q_stems = set(prep.stems.split())
            overlap = np.array(
                [_overlap(q_stems, self.stem_sets[lab]) for lab in labels], dtype=np.float64
            ).reshape(-1, 3)
            para = (labels >= self.n_real).astype(np.float64)
            other = (
                (self.lang[labels] != prep.lang).astype(np.float64)
                if prep.lang != "auto"
                else np.zeros(len(labels))
            )
            syn = (self.source[labels] == "synonym").astype(np.float64)
            concepts = self.concept[labels]
            label_feats = np.column_stack([sims, sort_r, set_r, plain_r, overlap, para, other, syn])
            hand = label_feats @ _HAND_LABEL_WEIGHTS
            # Aggregate labels to concepts: the best label speaks, the others add evidence.
            order = np.lexsort((self.source_rank[labels], -hand))
            uniq, first = np.unique(concepts[order], return_index=True)
            best_label_pos = order[first]
            counts = np.bincount(np.searchsorted(uniq, concepts), minlength=len(uniq))
            concept_hand = hand[best_label_pos]
            lead = concept_hand - _best_other(concept_hand)
            feats = np.column_stack(
                [
                    label_feats[best_label_pos],
                    np.log1p(counts),
                    sims.max() - sims[best_label_pos],
                    self.concept_prior[uniq],
                    lead,
                    lead * label_feats[best_label_pos, 4],
                ]
            )
            method = np.full(len(uniq), "fuzzy", dtype=object)
            floor = np.zeros(len(uniq))
            pos_of = {int(c): i for i, c in enumerate(uniq)}
            chosen = labels[best_label_pos].copy()
            for lab in stem_labels:
                i = pos_of[int(self.concept[lab])]
                method[i], floor[i], chosen[i] = "inflection", 95.0, lab
            for lab in exact_labels:
                i = pos_of[int(self.concept[lab])]
                method[i] = "synonym" if self.source[lab] == "synonym" else "exact"
                floor[i], chosen[i] = 100.0, lab
            out.append(_Candidates(uniq, chosen, feats, method, floor))
        return out

    def search(self, prepared: Sequence[_Prepared], top_k: int) -> list[list[ConceptMatch]]:
        found = self.candidates(prepared)
        if not found:
            return []
        coef = np.asarray(self.config.rerank_coef, dtype=np.float64)
        all_feats = np.concatenate([c.features for c in found]) if found else np.zeros((0, 11))
        logits = all_feats @ coef + self.config.rerank_intercept
        probs = 100.0 / (1.0 + np.exp(-logits))
        out: list[list[ConceptMatch]] = []
        start = 0
        for cand in found:
            n = len(cand.concepts)
            prob = probs[start : start + n]
            # Exact hits score 100; same-stem hits 95-99.99, ordered among themselves by the
            # re-rank; everything else is the re-rank's estimate.
            score = np.where(
                cand.floor >= 100.0,
                100.0,
                np.where(cand.floor > 0, cand.floor + 0.0499 * prob, prob),
            )
            start += n
            # Ties: a concept matched through its preferred label first, then the lower id.
            order = np.lexsort((cand.concepts, self.source_rank[cand.labels], -score))[:top_k]
            out.append(
                [
                    ConceptMatch(
                        concept=int(cand.concepts[i]),
                        score=round(float(score[i]), 2),
                        method=str(cand.method[i]),
                        label=int(cand.labels[i]),
                    )
                    for i in order
                ]
            )
        return out


def _best_other(values: np.ndarray) -> np.ndarray:
    """For each entry, the largest of the *other* entries (0 when there is none)."""
    if len(values) < 2:
        return np.zeros_like(values)
    top2 = np.partition(values, -2)[-2:]
    first, second = top2[1], top2[0]
    return np.where(values >= first, second, first)


def _overlap(a: set[str], b: frozenset[str]) -> tuple[float, float, float]:
    """Jaccard, share of the label covered, share of the mention covered (stems)."""
    if not a or not b:
        return (0.0, 0.0, 0.0)
    inter = len(a & b)
    return (inter / (len(a) + len(b) - inter), inter / len(b), inter / len(a))


# Picks the best label of a concept before the learnt re-rank (cosine and fuzzy ratio, small
# penalties for generated paraphrases and labels in another language).
_HAND_LABEL_WEIGHTS = np.array([0.65, 0.35, 0.0, 0.0, 0.0, 0.0, 0.0, -0.03, -0.08, 0.0])


@dataclass(frozen=True)
class _Candidates:
    concepts: np.ndarray
    labels: np.ndarray
    features: np.ndarray
    method: np.ndarray
    floor: np.ndarray

    @classmethod
    def empty(cls) -> _Candidates:
        return cls(
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, len(RERANK_FEATURES))),
            np.zeros(0, dtype=object),
            np.zeros(0),
        )


@lru_cache(maxsize=100_000)
def _correct_cached(index_id: int, token: str) -> str:  # pragma: no cover - replaced per index
    return token


def _correct_token(index: _KindIndex, token: str) -> str:
    cache = index.__dict__.setdefault("_corrections", {})
    hit = cache.get(token)
    if hit is not None:
        return hit
    result = token
    if len(token) >= 4 and not token.isdigit():
        pool: list[str] = []
        for n in range(len(token) - 1, len(token) + 2):
            pool.extend(index._vocab_by_len.get(n, ()))
        found = process.extractOne(token, pool, scorer=fuzz.ratio, score_cutoff=80.0)
        if found is not None:
            result = found[0]
    cache[token] = result
    return result


class SkillNormaliser:
    """Maps free-text mentions onto ESCO concepts of a :class:`SkillTaxonomy`.

    Parameters
    ----------
    taxonomy : SkillTaxonomy
        Concepts and labels to search.
    config : NormaliseConfig, optional
        Weights, cut-off and cache size.

    Examples
    --------
    >>> from matcher.io import load_taxonomy
    >>> norm = SkillNormaliser(load_taxonomy())
    >>> best = norm.normalise(["instalacion de paneles fotovoltaicos"], top_k=1)
    >>> best.loc[0, "label_en"]
    'mount photovoltaic panels'
    >>> bool(best.loc[0, "matched"])
    True
    """

    def __init__(self, taxonomy: SkillTaxonomy, config: NormaliseConfig | None = None) -> None:
        self.taxonomy = taxonomy
        self.config = config or NormaliseConfig()
        self._indexes: dict[str, _KindIndex] = {}
        self._caches: dict[tuple[str, str], OrderedDict[str, list[ConceptMatch]]] = {}

    def _index(self, kind: str) -> _KindIndex:
        if kind not in ("skill", "occupation"):
            raise ConfigError(f"kind must be 'skill' or 'occupation', got {kind!r}")
        index = self._indexes.get(kind)
        if index is None:
            index = _KindIndex(self.taxonomy, kind, self.config)  # type: ignore[arg-type]
            self._indexes[kind] = index
        return index

    def match(
        self,
        mentions: Iterable[str],
        *,
        kind: Kind = "skill",
        lang: Lang = "auto",
        top_k: int = 5,
    ) -> list[list[ConceptMatch]]:
        """Ranked candidate concepts for each mention (the engine's internal form).

        The same mention always gives the same answer; repeated mentions are
        served from the cache.
        """
        if lang not in ("es", "en", "auto"):
            raise ConfigError(f"lang must be 'es', 'en' or 'auto', got {lang!r}")
        if top_k < 1:
            raise ConfigError(f"top_k must be >= 1, got {top_k}")
        index = self._index(kind)
        cache = self._caches.setdefault((kind, lang), OrderedDict())
        mentions = list(mentions)
        width = max(top_k, 10)
        results: list[list[ConceptMatch] | None] = [None] * len(mentions)
        todo: dict[str, list[int]] = {}
        for i, mention in enumerate(mentions):
            hit = cache.get(mention)
            if hit is not None:
                cache.move_to_end(mention)
                results[i] = hit[:top_k]
            else:
                todo.setdefault(mention, []).append(i)
        if todo:
            keys = list(todo)
            prepared = [index.prepare(m, lang) for m in keys]
            nonempty = [i for i, p in enumerate(prepared) if p.content]
            found = index.search([prepared[i] for i in nonempty], width)
            answers: list[list[ConceptMatch]] = [[] for _ in keys]
            for i, matches in zip(nonempty, found):
                answers[i] = matches
            for key, answer in zip(keys, answers):
                cache[key] = answer
                for i in todo[key]:
                    results[i] = answer[:top_k]
            while len(cache) > self.config.cache_size:
                cache.popitem(last=False)
        return [r if r is not None else [] for r in results]

    def normalise(
        self,
        mentions: Iterable[str],
        *,
        kind: Kind = "skill",
        lang: Lang = "auto",
        top_k: int = 5,
        score_cutoff: float | None = None,
    ) -> pd.DataFrame:
        """Normalise mentions into a tidy table, ``top_k`` rows per mention.

        Returns a DataFrame with :data:`NORMALISE_COLUMNS`. ``matched`` is true
        when the best concept scores at least ``score_cutoff`` (default from the
        config); otherwise every row of that mention is a guess and its
        ``method`` reads ``"unmatched"``. A mention with no candidate at all
        (empty text) yields one row with rank 0 and no URI.
        """
        mentions = list(mentions)
        cutoff = self.config.score_cutoff if score_cutoff is None else float(score_cutoff)
        found = self.match(mentions, kind=kind, lang=lang, top_k=top_k)
        concepts = self.taxonomy.concepts
        uris = concepts["uri"].to_numpy()
        les = concepts["label_es"].to_numpy()
        len_ = concepts["label_en"].to_numpy()
        rows = []
        for mention, matches in zip(mentions, found):
            if not matches:
                rows.append((mention, 0, "", "", "", 0.0, "unmatched", False))
                continue
            ok = matches[0].score >= cutoff
            for rank, m in enumerate(matches, start=1):
                rows.append(
                    (
                        mention,
                        rank,
                        uris[m.concept],
                        les[m.concept] or len_[m.concept],
                        len_[m.concept],
                        m.score,
                        m.method if ok else "unmatched",
                        ok,
                    )
                )
        return pd.DataFrame(rows, columns=NORMALISE_COLUMNS)
