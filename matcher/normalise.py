"""Free-text skill and occupation mentions -> ranked ESCO concepts.

The pipeline, per batch of mentions:

1. **Text processing** (:mod:`matcher.text`): fold case and accents, drop stop
   words, clean catalogue noise from occupation titles, correct misspelt words
   against the label vocabulary (words of the concepts' descriptions are real words,
   left alone, and corrections too), stem in the mention's language.
2. **Exact alias index**: a folded label (ESCO or the Peru/Latin-American
   synonym layer) or the same stems in any order is an exact hit.
3. **Candidate generation**, vectorised for the whole batch: character n-gram
   TF-IDF (robust to typos) and stemmed-word TF-IDF (robust to inflection and
   word order), one sparse product with a fused top-n (``sparse_dot_topn``); plus
   the few concepts whose ESCO descriptions use most of the mention's words.
4. **Re-rank** the candidates with ``rapidfuzz`` and aggregate labels to concepts,
   for every (mention, label) pair of the batch at once. Besides the best label's
   similarities, a concept is judged by all its labels together (which of the
   mention's words any of them uses, directly or through the Spanish<->English
   word pivot of :mod:`matcher.pivot`), by its description's words, and against the
   mention's other candidates.

Mentions that process to the same form (case, accents, filler words, a corrected
typo) are answered once, and repeated mentions and forms from LRU caches. When
only the best concepts are asked for and labels equal to the mention decide them
(they score 100, which nothing else can), steps 3-4 are skipped: the answer is
the one the full pipeline gives.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from typing import Literal, NamedTuple, cast

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sparse_dot_topn import sp_matmul_topn

from matcher.config import RERANK_FEATURES, NormaliseConfig
from matcher.exceptions import ConfigError
from matcher.gcpause import collector_paused
from matcher.paraphrase import (
    apply_rules,
    group_rules,
    merge_rules,
    mine_rules,
    template_variants,
)
from matcher.pivot import concept_vocabulary, learn_pivot, learn_related, pivot_vocabulary
from matcher.taxonomy import SkillTaxonomy
from matcher.text import (
    clean_occupation_title,
    content_tokens,
    detect_language,
    fold,
    occupation_title_variants,
    skill_mention_variants,
    stem,
)

__all__ = ["NORMALISE_COLUMNS", "ConceptMatch", "SkillNormaliser"]

Kind = Literal["skill", "occupation"]
Lang = Literal["es", "en", "auto"]

#: Columns of :meth:`SkillNormaliser.normalise` output, in order.
NORMALISE_COLUMNS = ["mention", "rank", "uri", "label_es", "label_en", "score", "method", "matched"]

_SOURCE_RANK = {"preferred": 0, "alt": 1, "synonym": 2, "template": 3, "paraphrase": 4}
_LANG_CODE = {"es": 0, "en": 1, "auto": 2}
# Threads for the sparse product and the fuzzy scorers (worth it on large batches only).
_THREADS = 2
_PARALLEL_PAIRS = 20_000
# Two-stage candidate retrieval (see ``_KindIndex._retrieve``): character n-grams found in
# more than ``_COMMON_DF`` of the labels are left out of the first stage, which keeps the
# ``_DEPTH`` best labels of each mention; the exact cosine is then computed for the first
# ``_HEAD`` and for every other one that could still make the cut. A mention whose vector is
# mostly (``_FULL_SHARE`` of its squared norm) common n-grams gets the full product.
_COMMON_DF = 0.01
_DEPTH = 200
_HEAD = 40
_FULL_SHARE = 0.5
_DENSE_QUERIES = 1_024
_QUERY_BLOCK = 8_192
# Concepts per mention that the words of their descriptions propose (see
# ``_KindIndex._description_pairs``).
_DESC_CANDIDATES = 3
# Unknown tokens corrected per rapidfuzz.cdist block (bounds its score matrix).
_CORRECT_BLOCK = 512
_MAX_CORRECTIONS = 200_000
# The highest score of a concept without a label equal to the mention.
_NOT_EXACT_MAX = 99.99
# A shorter reading of a mention (without its brackets, a call around a title, one side of
# a coordination) replaces the whole mention's answer only if it scores more than this much
# higher: it says less than the mention did ("install doors and windows" is not "install
# doors"). Below 0.95 held-out ESCO labels with a conjunction lose nothing.
_READING_DISCOUNT = 0.9
# Equally close spellings kept per misspelt word (the context picks one).
_MAX_SPELLINGS = 8


@dataclass(frozen=True, slots=True)
class ConceptMatch:
    """One candidate concept for a mention."""

    concept: int
    score: float
    method: str
    label: int  # the label row that matched best


class _Prepared(NamedTuple):
    """A mention after text processing; equal forms get equal answers (a cache key)."""

    content: str
    stems: str
    lang: str


@dataclass(frozen=True, slots=True)
class _Answer:
    """A cached answer. ``complete`` is false for an exact-label shortcut (see ``exact_answer``),
    which is valid only for ``top_k <= len(matches)``."""

    matches: list[ConceptMatch]
    complete: bool

    def serves(self, top_k: int) -> bool:
        return self.complete or top_k <= len(self.matches)


def _char_wb_grams(token: str, lo: int, hi: int) -> list[str]:
    """Character n-grams of one word padded with spaces (scikit-learn's ``char_wb``)."""
    w = f" {token} "
    n_w = len(w)
    out: list[str] = []
    for n in range(lo, hi + 1):
        if n_w <= n:  # a short word counts once, whole
            out.append(w)
            break
        out.extend([w[i : i + n] for i in range(n_w - n + 1)])
    return out


def _whole_token(token: str) -> list[str]:
    return [token]


class _Tfidf:
    """Sublinear TF-IDF over white-space tokens, each token expanded into features.

    The same matrices as ``TfidfVectorizer(analyzer=..., sublinear_tf=True,
    dtype=np.float32, max_df=...)``: features are numbered in sorted order and
    the weighting is scikit-learn's own :class:`TfidfTransformer`. What differs
    is speed: a token's feature ids are computed once and cached, and a
    document's counts are the concatenation of its tokens' ids.
    """

    def __init__(self, expand: Callable[[str], list[str]], *, max_df: float = 1.0) -> None:
        self.expand = expand
        self.max_df = max_df
        self.vocabulary_: dict[str, int] = {}
        self._ids: dict[str, np.ndarray] = {}
        self._n_fitted = 0
        self._tfidf = TfidfTransformer(sublinear_tf=True)

    def _token_ids(self, token: str) -> np.ndarray:
        ids = self._ids.get(token)
        if ids is None:
            vocab = self.vocabulary_
            ids = np.array([vocab[g] for g in self.expand(token) if g in vocab], dtype=np.int32)
            if len(self._ids) > self._n_fitted + 500_000:  # bound the cache of query tokens
                self._ids = {t: a for t, a in list(self._ids.items())[: self._n_fitted]}
            self._ids[token] = ids
        return ids

    @staticmethod
    def _counts(
        docs: Sequence[str], ids_of: Callable[[str], np.ndarray], n_features: int
    ) -> sparse.csr_matrix:
        tokens = [doc.split() for doc in docs]
        per_doc = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        arrays = list(map(ids_of, chain.from_iterable(tokens)))
        sizes = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        ends = np.concatenate([[0], np.cumsum(sizes)])
        indptr = ends[np.concatenate([[0], np.cumsum(per_doc)])]
        indices = np.concatenate(arrays) if arrays else np.zeros(0, np.int32)
        counts = sparse.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices.astype(np.int32), indptr),
            shape=(len(docs), n_features),
        )
        counts.sum_duplicates()
        return counts

    def fit_transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        provisional: dict[str, int] = {}
        token_ids: dict[str, np.ndarray] = {}
        for doc in docs:
            for tok in doc.split():
                if tok not in token_ids:
                    token_ids[tok] = np.array(
                        [provisional.setdefault(g, len(provisional)) for g in self.expand(tok)],
                        dtype=np.int32,
                    )
        counts = self._counts(docs, token_ids.__getitem__, len(provisional))
        df = np.bincount(counts.indices, minlength=len(provisional))
        keep = df >= 1
        if self.max_df < 1.0:
            keep &= df <= self.max_df * len(docs)
        terms = sorted(t for t, i in provisional.items() if keep[i])
        if not terms:
            raise ConfigError("normaliser: no features left to index")
        remap = np.full(len(provisional), -1, dtype=np.int32)
        remap[[provisional[t] for t in terms]] = np.arange(len(terms), dtype=np.int32)
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        self._ids = {}
        for tok, ids in token_ids.items():
            new = remap[ids]
            self._ids[tok] = new[new >= 0]
        self._n_fitted = len(self._ids)
        # Renumber in place, keeping each row's entries in first-seen order as
        # scikit-learn does (the order the row norms are summed in).
        indices = remap[counts.indices]
        kept = indices >= 0
        indptr = counts.indptr
        if not kept.all():
            rows = np.repeat(np.arange(len(docs)), np.diff(indptr))[kept]
            indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(docs)))])
        counts = sparse.csr_matrix(
            (counts.data[kept], indices[kept], indptr), shape=(len(docs), len(terms))
        )
        self._tfidf.fit(counts)
        return self._weigh(counts)

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        return self._weigh(self._counts(docs, self._token_ids, len(self.vocabulary_)))

    def _weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        return sparse.csr_matrix(self._tfidf.transform(counts, copy=False))


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


@dataclass(frozen=True)
class _CandidateBatch:
    """Candidate concepts of a batch of mentions; mention ``i`` owns rows ``ptr[i]:ptr[i+1]``."""

    ptr: np.ndarray
    concepts: np.ndarray
    labels: np.ndarray  # the label that speaks for each concept
    features: np.ndarray
    method: np.ndarray
    floor: np.ndarray

    def split(self) -> list[_Candidates]:
        p = self.ptr
        return [
            _Candidates(
                self.concepts[p[i] : p[i + 1]],
                self.labels[p[i] : p[i + 1]],
                self.features[p[i] : p[i + 1]],
                self.method[p[i] : p[i + 1]],
                self.floor[p[i] : p[i + 1]],
            )
            if p[i + 1] > p[i]
            else _Candidates.empty()
            for i in range(len(p) - 1)
        ]


def _segment_ptr(owner: np.ndarray, n: int) -> np.ndarray:
    """CSR-style pointers of a sorted owner array over ``n`` segments."""
    return np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))]).astype(np.int64)


class _CoverageShares:
    """Per candidate, the share of its mention's stems that a flag marks as covered:
    plain (over the mention's stem count) or idf-weighted (stems the index does not know
    count as uncovered, with the largest idf). ``own`` maps each (candidate, stem) row to
    its candidate; ``size`` is each candidate's mention length, ``known`` how many of its
    stems the index knows."""

    def __init__(self, own, n, size, known, idf, idf_max) -> None:
        self.own, self.n, self.size, self.idf = own, n, size, idf
        unknown = np.maximum(size - known, 0) * idf_max
        self.weight = np.bincount(own, weights=idf, minlength=n) + unknown

    def plain(self, covered: np.ndarray) -> np.ndarray:
        total = np.bincount(self.own, weights=covered, minlength=self.n)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.size > 0, total / self.size, 0.0)

    def weighted(self, covered: np.ndarray) -> np.ndarray:
        total = np.bincount(self.own, weights=self.idf * covered, minlength=self.n)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.weight > 0, total / self.weight, 0.0)


def _expand_ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(owner, position)`` for the concatenation of ranges ``starts[i]:starts[i]+lengths[i]``."""
    owner = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else lengths
    pos = np.arange(owner.size) - np.repeat(offsets, lengths) + np.repeat(starts, lengths)
    return owner, pos


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
        # Labels of a family's shared pattern that a concept lacks ("competent in {X}"):
        # as sure as the family's own labels, so they count as labels (method "synonym").
        seen = set(zip(concept, content))
        for c, lg, variant in template_variants(
            content, concept, lang, [x == "preferred" for x in source]
        ):
            if (c, variant) not in seen:
                seen.add((c, variant))
                content.append(variant)
                concept.append(c)
                lang.append(lg)
                source.append("template")
        n_real = len(content)
        # Paraphrases learnt from the labels themselves, added as weaker labels.
        lexicon = [
            (str(lg), [" ".join(content_tokens(fold(w))) for w in str(words).split("|")])
            for lg, words in zip(taxonomy.word_groups["lang"], taxonomy.word_groups["words"])
        ]
        rules = merge_rules(mine_rules(content, concept, lang), group_rules(lexicon))
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
        tokens = [text.split() for text in content]
        self._sorted_content = [" ".join(sorted(toks)) for toks in tokens]
        self._content_arr = np.array(content, dtype=object)
        self._sorted_arr = np.array(self._sorted_content, dtype=object)
        self.concept = np.asarray(concept, dtype=np.int64)
        self.source = np.asarray(source)
        self.source_rank = np.array([_SOURCE_RANK[s] for s in source], dtype=np.int8)
        self.lang = np.asarray(lang)
        self._label_lang = list(lang)
        self._lang_code = np.array([_LANG_CODE[lg] for lg in lang], dtype=np.int8)
        self._is_synonym = np.isin(self.source, ["synonym", "template"])

        vocab: dict[str, set[str]] = {"es": set(), "en": set()}
        for toks, lg in zip(tokens, lang):
            vocab[lg].update(toks)
        self.vocab_es = frozenset(vocab["es"])
        self.vocab_en = frozenset(vocab["en"])
        self.vocab_all = self.vocab_es | self.vocab_en
        self._real_words = taxonomy.real_words
        # Spelling correction looks at words of about the same length; on equal similarity
        # the word used in more labels wins, then the alphabetically first (deterministic).
        freq: dict[str, int] = {}
        for toks in tokens:
            for tok in toks:
                freq[tok] = freq.get(tok, 0) + 1
        by_len: dict[int, list[str]] = {}
        for tok in sorted(self.vocab_all, key=lambda t: (-freq[t], t)):
            by_len.setdefault(len(tok), []).append(tok)
        self._vocab_by_len = by_len
        self._freq = freq
        self._pools: dict[int, list[str]] = {}
        # The real labels each word appears in (to choose a misspelling's correction).
        labels_with: dict[str, set[int]] = {}
        for i, toks in enumerate(tokens[:n_real]):
            for tok in toks:
                labels_with.setdefault(tok, set()).add(i)
        self._labels_with = {tok: frozenset(ids) for tok, ids in labels_with.items()}
        self._corrections: dict[str, tuple[str, ...]] = {}
        self._prepared: dict[tuple[str, str], _Prepared] = {}

        stem_cache: dict[tuple[str, str], str] = {}

        def stem_of(tok: str, lg: str) -> str:
            key = (tok, lg)
            hit = stem_cache.get(key)
            if hit is None:
                hit = stem_cache[key] = stem(tok, lg)
            return hit

        self.stems = [" ".join([stem_of(t, lg) for t in toks]) for toks, lg in zip(tokens, lang)]
        n_concepts = len(taxonomy.concepts)
        n_labels = np.bincount(self.concept[: self.n_real], minlength=n_concepts)
        self.concept_prior = np.log1p(n_labels).astype(np.float64)
        self.exact: dict[str, list[int]] = {}
        self.stem_key: dict[str, list[int]] = {}
        for i, (text, stems) in enumerate(zip(self.content[:n_real], self.stems)):
            self.exact.setdefault(text, []).append(i)
            self.stem_key.setdefault(" ".join(sorted(set(stems.split()))), []).append(i)
        # Interchangeable words (fixtures/synonyms/word_groups.csv) reduced to one canonical
        # stem: "mantenimiento de aerogeneradores" and "mantener turbinas eólicas" share a key.
        self._canon: dict[tuple[str, ...], str] = {}
        for lg, words in lexicon:
            forms = [tuple(stem_of(t, lg) for t in w.split()) for w in words if w.split()]
            if not forms:
                continue
            canonical = "~" + "_".join(forms[0])
            for form in forms:
                self._canon.setdefault(form, canonical)
        self.canon_key: dict[str, list[int]] = {}
        for i, stems in enumerate(self.stems[:n_real]):
            self.canon_key.setdefault(self.canonical_key(stems), []).append(i)
        # Per distinct stems of a query: its same-stem labels, same-canonical-key labels and
        # number of distinct stems (real inputs repeat the same stems over and over).
        self._key_hits: dict[str, tuple[Sequence[int], Sequence[int], int]] = {}
        self._exact_answers: dict[str, list[ConceptMatch]] = {}
        self._rerank = _Rerank(config)

        lo, hi = config.char_ngram_range
        self.char_vec = _Tfidf(partial(_char_wb_grams, lo=lo, hi=hi), max_df=config.char_max_df)
        self.word_vec = _Tfidf(_whole_token)
        char_m = self.char_vec.fit_transform(self.content)
        word_m = self.word_vec.fit_transform(self.stems)
        total = config.char_weight + config.word_weight
        self._wc = math.sqrt(config.char_weight / total)
        self._ww = math.sqrt(config.word_weight / total)
        self.matrix_t = sparse.hstack([char_m * self._wc, word_m * self._ww]).T.tocsr()
        self.word_matrix_t = word_m.T.tocsr()
        # The distinct stems of every label, as word-vocabulary ids (for the overlap features).
        self._label_stems = word_m.tocsr(copy=True)
        self._label_stems.sort_indices()
        # What a concept's labels say as a whole (one label may use one word of the mention,
        # another the next), and the same through the learnt Spanish<->English word pivot.
        real_stems = self._label_stems[:n_real]
        vocabulary = concept_vocabulary(real_stems, self.concept[:n_real], n_concepts)
        self._concept_vocab = vocabulary.toarray() > 0
        pivot = learn_pivot(real_stems, self.concept[:n_real], lang[:n_real], n_concepts)
        self._pivot_vocab = pivot_vocabulary(vocabulary, pivot)
        self._related_vocab = pivot_vocabulary(vocabulary, learn_related(vocabulary))
        self._stem_idf = np.asarray(self.word_vec._tfidf.idf_, dtype=np.float64)
        self._stem_idf_max = float(self._stem_idf.max(initial=1.0))
        self._build_descriptions(taxonomy, stem_of)
        self._build_retrieval(char_m.shape[1])

    def _build_descriptions(
        self,
        taxonomy: SkillTaxonomy,
        stem_of: Callable[[str, str], str],
    ) -> None:
        """The stems of each concept's ESCO description, directly or through the pivot.

        Descriptions are not surface forms (no mention is ever expected to equal one), but
        a mention often uses a word that the definition of its concept uses and none of its
        labels does ("rear loaders": *types of waste collection vehicles*, "Different types
        of heavy trucks ... such as front loaders, rear loaders"). The stem space is the
        label stems (word-vocabulary ids) followed by the stems only descriptions use; a
        Spanish mention reaches English descriptions through a word pivot learnt from the
        labels and the descriptions together.
        """
        concepts = taxonomy.concepts
        n_concepts = len(concepts)
        ext: dict[str, int] = dict(self.word_vec.vocabulary_)
        n_lab = len(ext)
        rows: list[int] = []
        cols: list[int] = []
        langs: list[str] = []
        of_kind = concepts["kind"].to_numpy() == self.kind
        words: set[str] = set()
        for lg in ("en", "es"):
            column = f"description_{lg}"
            if column not in concepts.columns:
                continue
            for c, text in enumerate(concepts[column].tolist()):
                if not isinstance(text, str) or not text:
                    continue
                toks = content_tokens(fold(text))
                words.update(toks)
                if not of_kind[c]:
                    continue
                seq = [ext.setdefault(stem_of(tok, lg), len(ext)) for tok in dict.fromkeys(toks)]
                rows.extend([c] * len(seq))
                cols.extend(seq)
                langs.extend([lg] * len(seq))
        self._ext_vocab = ext
        n_ext = len(ext)
        # Words of any description (skills' and occupations') are real words: a mention
        # using one is not misspelt even if no label uses it ("wrench" is not "french").
        # They are also spellings a misspelt word may be corrected to, after the label words
        # at the same distance ("tveater": *theater*, which only a description may use).
        described = sorted(w for w in words - self.vocab_all if not w.isdigit())
        self._known = self.vocab_all | frozenset(described)
        self._described_by_len: dict[int, list[str]] = {}
        for w in described:
            self._described_by_len.setdefault(len(w), []).append(w)
        direct = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_concepts, n_ext)
        )
        direct.sum_duplicates()
        # The pivot again, learnt from the descriptions as well as the labels: a Spanish word
        # of the labels then also pairs with the English words describing the same concepts
        # (and the Spanish ones of occupations' descriptions with English labels).
        real = self._label_stems[: self.n_real]
        parts = [
            sparse.csr_matrix((real.data, real.indices, real.indptr), shape=(self.n_real, n_ext))
        ]
        owners = [self.concept[: self.n_real]]
        part_lang = [self.lang[: self.n_real]]
        row_arr, col_arr, lang_arr = np.asarray(rows), np.asarray(cols), np.asarray(langs)
        for lg in ("en", "es"):
            sel = lang_arr == lg
            by_concept = sparse.csr_matrix(
                (np.ones(int(sel.sum()), dtype=np.float32), (row_arr[sel], col_arr[sel])),
                shape=(n_concepts, n_ext),
            )
            described_here = np.flatnonzero(np.diff(by_concept.indptr) > 0)
            parts.append(by_concept[described_here])
            owners.append(described_here)
            part_lang.append(np.full(len(described_here), lg))
        wide = learn_pivot(
            sparse.vstack(parts, format="csr"),
            np.concatenate(owners),
            np.concatenate(part_lang).tolist(),
            n_concepts,
        )
        dense = direct.toarray() > 0
        dense |= sparse.csr_matrix(direct @ wide.T).toarray() > 0
        self._desc_vocab = dense
        self._desc_t = sparse.csr_matrix(dense.T, dtype=np.float32)
        # The label that speaks for a concept found by its description, by mention language
        # (``_LANG_CODE``): its first real label in that language (the preferred one, as
        # labels come preferred first), else its first English one; -1 for other kinds.
        speaker = np.full((len(_LANG_CODE), n_concepts), -1, dtype=np.int64)
        real = np.arange(self.n_real)
        for code, lg in ((1, "en"), (0, "es")):
            rows = real[self.lang[: self.n_real] == lg]
            spoken, first = np.unique(self.concept[rows], return_index=True)
            speaker[code, spoken] = rows[first]
        speaker[0] = np.where(speaker[0] >= 0, speaker[0], speaker[1])
        speaker[2] = speaker[1]
        self._speaker = speaker
        # Weights of the extended stems: a label stem's idf, the largest for the others
        # (a word no label uses is as rare as a word can be).
        self._ext_idf = np.concatenate([self._stem_idf, np.full(n_ext - n_lab, self._stem_idf_max)])
        self._ext_ids: dict[str, np.ndarray] = {}

    def ext_stem_ids(self, stems: str) -> np.ndarray:
        """Ids of the distinct stems of ``stems`` in the label-and-description stem space."""
        hit = self._ext_ids.get(stems)
        if hit is None:
            vocab = self._ext_vocab
            hit = np.array(sorted({vocab[t] for t in stems.split() if t in vocab}), dtype=np.int64)
            if len(self._ext_ids) > _MAX_CORRECTIONS:  # bound the memory of odd inputs
                self._ext_ids.clear()
            self._ext_ids[stems] = hit
        return hit

    def _build_retrieval(self, n_char: int) -> None:
        """Split the index for two-stage retrieval (see :meth:`_retrieve`)."""
        m = self.matrix_t
        df = np.diff(m.indptr)
        common = np.zeros(m.shape[0], dtype=bool)
        common[:n_char] = df[:n_char] > _COMMON_DF * m.shape[1]
        self._common = np.flatnonzero(common)
        self._rare_t = sparse.csr_matrix(
            sparse.diags((~common).astype(np.float32)) @ m, dtype=np.float32
        )
        self._rare_t.eliminate_zeros()
        # Each label's weights on the common features, their norm, and each feature's largest.
        by_label = m[self._common].T.tocsr()
        by_label.sort_indices()
        self._common_by_label = by_label
        self._common_norm = np.sqrt(
            np.asarray(by_label.multiply(by_label).sum(axis=1), dtype=np.float64).ravel()
        )
        self._common_max = np.zeros(len(self._common), dtype=np.float64)
        if by_label.nnz:
            np.maximum.at(self._common_max, by_label.indices, by_label.data)

    # -------------------------------------------------------------- queries
    def correct(self, token: str) -> str:
        """The vocabulary word closest to an unknown ``token`` (itself if none is close)."""
        if token in self._known:
            return token
        if token not in self._corrections:
            self._correct_many([token])
        return self._corrections[token][0]

    def _correct_many(self, tokens: Iterable[str]) -> None:
        """Correction candidates of unknown tokens in bulk: one ``rapidfuzz.cdist`` per length.

        A token of ``n >= 4`` letters may be a misspelling of the vocabulary words of
        length ``n - 1`` to ``n + 1`` at the smallest edit distance from it, if that is
        1 (2 from 8 letters). The distance counts a swap of neighbouring letters as one
        edit, as people make it. Candidates are kept most frequent first (at most
        ``_MAX_SPELLINGS``); :meth:`_pick_spelling` chooses among them in context.
        Label words come first; words only descriptions use are looked at only for the
        tokens no label word is one edit from (at a tie a label word would win anyway).
        """
        by_len: dict[int, list[str]] = {}
        for tok in tokens:
            if len(tok) >= 4 and not tok.isdigit():
                by_len.setdefault(len(tok), []).append(tok)
            else:
                self._corrections[tok] = (tok,)
        for n, group in by_len.items():
            max_edits = 1 if n < 8 else 2
            found = self._closest(group, self._spelling_pool(n), max_edits)
            far = [tok for tok in group if found[tok][0] > 1]
            if far:
                described = self._closest(far, self._described_pool(n), max_edits)
                for tok in far:
                    if described[tok][0] < found[tok][0]:
                        found[tok] = described[tok]
            for tok in group:
                d, near = found[tok]
                self._corrections[tok] = near if d <= max_edits else (tok,)

    @staticmethod
    def _closest(
        group: list[str], pool: list[str], max_edits: int
    ) -> dict[str, tuple[int, tuple[str, ...]]]:
        """Each token's smallest distance to ``pool`` (``max_edits + 1`` when farther) and
        the pool's words at that distance, in pool order (at most ``_MAX_SPELLINGS``)."""
        out: dict[str, tuple[int, tuple[str, ...]]] = {}
        if not pool:
            return {tok: (max_edits + 1, ()) for tok in group}
        for start in range(0, len(group), _CORRECT_BLOCK):
            block = group[start : start + _CORRECT_BLOCK]
            dist = process.cdist(
                block,
                pool,
                scorer=OSA.distance,
                score_cutoff=max_edits,
                dtype=np.int32,
                workers=_THREADS if len(block) * len(pool) > 1_000_000 else 1,
            )
            closest = dist.min(axis=1)
            for tok, row, d in zip(block, dist, closest.tolist()):
                if d > max_edits:
                    out[tok] = (max_edits + 1, ())
                else:
                    near = np.flatnonzero(row == d)[:_MAX_SPELLINGS]
                    out[tok] = (d, tuple(pool[j] for j in near))
        return out

    def _spelling_pool(self, n: int) -> list[str]:
        """Label words of ``n - 1`` to ``n + 1`` letters, most frequent first."""
        pool = self._pools.get(n)
        if pool is None:
            words = [w for m in (n - 1, n, n + 1) for w in self._vocab_by_len.get(m, ())]
            pool = self._pools[n] = sorted(words, key=lambda w: (-self._freq[w], w))
        return pool

    def _described_pool(self, n: int) -> list[str]:
        """Words of ``n - 1`` to ``n + 1`` letters that only descriptions use, sorted."""
        pool = self._pools.get(-n)
        if pool is None:
            words = (w for m in (n - 1, n, n + 1) for w in self._described_by_len.get(m, ()))
            pool = self._pools[-n] = sorted(words)
        return pool

    def _pick_spelling(
        self, token: str, candidates: tuple[str, ...], context: Sequence[str], lang: str = "auto"
    ) -> str:
        """The candidate spelling used in most labels together with the mention's known
        words ("lader cut": *laser*, not *leader*); on a tie, the most frequent. A
        spelling of the mention's language goes before one only the other language uses
        (es "correctivo": *correctiva*, not *corrective*)."""
        if lang != "auto":
            other = self.vocab_en if lang == "es" else self.vocab_es
            vocab = self.vocab_es if lang == "es" else self.vocab_en
            own = tuple(w for w in candidates if w in vocab or w not in other)
            if not own:
                return token
            candidates = own
        if len(candidates) == 1:
            return candidates[0]
        around: set[int] = set()
        for tok in context:
            around |= self._labels_with.get(tok, frozenset())
        if not around:
            return candidates[0]
        return max(candidates, key=lambda w: len(self._labels_with.get(w, frozenset()) & around))

    def prepare_many(self, mentions: Sequence[str], lang: Lang) -> list[_Prepared]:
        """Folded, corrected and stemmed form of each mention."""
        clean = clean_occupation_title if self.kind == "occupation" else fold
        folded = [clean(m) for m in mentions]
        # Each distinct folded text is processed once (the result is a pure function of it).
        memo = self._prepared
        if len(memo) > _MAX_CORRECTIONS:  # bound the memory of odd inputs seen
            memo.clear()
        todo = [f for f in dict.fromkeys(folded) if (f, lang) not in memo]
        if todo:
            token_lists = [content_tokens(f) or f.split() for f in todo]
            vocab, corrections = self._known, self._corrections
            if len(corrections) > _MAX_CORRECTIONS:
                corrections.clear()
            unknown = {
                t for toks in token_lists for t in toks if t not in vocab and t not in corrections
            }
            real = [t for t in unknown if t in self._real_words]
            for t in real:  # spelt right, only not a word of any label
                corrections[t] = (t,)
            unknown.difference_update(real)
            if unknown:
                self._correct_many(sorted(unknown))
            for text, toks in zip(todo, token_lists):
                used = (
                    lang if lang != "auto" else detect_language(text, self.vocab_es, self.vocab_en)
                )
                if not all(t in vocab for t in toks):
                    known = [t for t in toks if t in vocab]
                    toks = [
                        t if t in vocab else self._pick_spelling(t, corrections[t], known, used)
                        for t in toks
                    ]
                memo[(text, lang)] = _Prepared(" ".join(toks), self.stems_of(toks, used), used)
        return [memo[(f, lang)] for f in folded]

    def prepare(self, mention: str, lang: Lang) -> _Prepared:
        return self.prepare_many([mention], lang)[0]

    def canonical_key(self, stems: str) -> str:
        """The sorted set of stems, with interchangeable words replaced by their group's key."""
        toks = stems.split()
        out: list[str] = []
        i = 0
        while i < len(toks):
            for n in (3, 2, 1):
                hit = self._canon.get(tuple(toks[i : i + n])) if i + n <= len(toks) else None
                if hit is not None:
                    out.append(hit)
                    i += n
                    break
            else:
                out.append(toks[i])
                i += 1
        return " ".join(sorted(set(out)))

    def key_hits(self, stems: str) -> tuple[Sequence[int], Sequence[int], int]:
        """Same-stem labels, same-canonical-key labels and distinct stem count of ``stems``."""
        hit = self._key_hits.get(stems)
        if hit is None:
            stem_set = set(stems.split())
            hit = (
                self.stem_key.get(" ".join(sorted(stem_set)), ()),
                self.canon_key.get(self.canonical_key(stems), ()),
                len(stem_set),
            )
            if len(self._key_hits) > _MAX_CORRECTIONS:  # bound the memory of odd inputs
                self._key_hits.clear()
            self._key_hits[stems] = hit
        return hit

    def exact_answer(self, content: str, top_k: int) -> list[ConceptMatch] | None:
        """The best ``top_k`` concepts of a mention, when its labels equal to it decide them.

        A concept with a label equal to the mention scores exactly 100, and no other
        concept can (:meth:`search` caps the others at 99.99), so when at least ``top_k``
        concepts have such a label they are the answer, ranked as :meth:`search`
        ranks ties (the matched label's source, then the concept). Returns every
        such concept (at least ``top_k``), or None when retrieval must decide.
        """
        ranked = self._exact_answers.get(content)
        if ranked is None and len(self.exact.get(content, ())) < top_k:
            return None  # fewer labels than top_k: fewer concepts too
        if ranked is None:
            labels = self.exact.get(content)
            if not labels:
                return None
            speaker: dict[int, int] = {}
            for lab in labels:  # the last label of a concept speaks, as in candidate_batch
                speaker[int(self.concept[lab])] = lab
            order = sorted(speaker.items(), key=lambda cl: (int(self.source_rank[cl[1]]), cl[0]))
            ranked = [
                ConceptMatch(c, 100.0, "synonym" if self._is_synonym[lab] else "exact", lab)
                for c, lab in order
            ]
            self._exact_answers[content] = ranked
        return ranked if len(ranked) >= top_k else None

    def stems_of(self, tokens: Iterable[str], lang: str) -> str:
        """Stems of folded tokens in ``lang`` (both languages when ``"auto"``)."""
        tokens = list(tokens)
        if lang == "auto":
            return " ".join(
                sorted({stem(t, "es") for t in tokens} | {stem(t, "en") for t in tokens})
            )
        return " ".join([stem(t, lang) for t in tokens])

    def bag_similarity(self, stem_strings: Sequence[str], top_n: int = 30) -> sparse.csr_matrix:
        """Cosine of each bag of stems with every label (stems only, order-free), top ``top_n``."""
        query = self.word_vec.transform(list(stem_strings))
        return sp_matmul_topn(
            query, self.word_matrix_t, top_n=top_n, threshold=0.05, n_threads=_THREADS
        )

    def candidates(self, prepared: Sequence[_Prepared]) -> list[_Candidates]:
        """Candidate concepts of each prepared mention with their re-rank features."""
        return self.candidate_batch(prepared).split()

    def candidate_batch(self, prepared: Sequence[_Prepared]) -> _CandidateBatch:
        """Candidates of a whole batch: every step below works on all (mention, label) pairs."""
        n_q = len(prepared)
        if n_q == 0:
            return _CandidateBatch(
                np.zeros(1, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros((0, len(RERANK_FEATURES))),
                np.zeros(0, dtype=object),
                np.zeros(0),
            )
        contents = [p.content for p in prepared]
        q_char = self.char_vec.transform(contents) * self._wc
        q_stems = self.word_vec.transform([p.stems for p in prepared])
        query = sparse.hstack([q_char, q_stems * self._ww]).tocsr()
        hits = self._retrieve(query)

        # (mention, label) pairs: the retrieved labels, then exact and same-stem labels missing.
        exact_q: list[int] = []
        exact_lab: list[int] = []
        stem_q: list[int] = []
        stem_lab: list[int] = []
        canon_q: list[int] = []
        canon_lab: list[int] = []
        q_len = np.zeros(n_q)
        indptr, indices = hits.indptr, hits.indices
        exact, key_hits = self.exact, self.key_hits
        label_lang = self._label_lang
        for qi, prep in enumerate(prepared):
            stem_labels, canon_labels, q_len[qi] = key_hits(prep.stems)
            if prep.lang != "auto":
                # The same stems in the other language are a coincidence of two stemmers
                # (es "lectura" and en "lecture" both stem to "lectur"), not an inflection.
                stem_labels = [lab for lab in stem_labels if label_lang[lab] == prep.lang]
                canon_labels = [lab for lab in canon_labels if label_lang[lab] == prep.lang]
            exact_labels = exact.get(prep.content, ())
            if exact_labels:
                exact_q.extend([qi] * len(exact_labels))
                exact_lab.extend(exact_labels)
            if stem_labels:
                stem_q.extend([qi] * len(stem_labels))
                stem_lab.extend(stem_labels)
            if canon_labels:
                canon_q.extend([qi] * len(canon_labels))
                canon_lab.extend(canon_labels)
        extra_q, extra_lab = self._missing_pairs(
            hits, (exact_q, exact_lab), (stem_q, stem_lab), (canon_q, canon_lab)
        )
        hit_q = np.repeat(np.arange(n_q), np.diff(indptr))
        ext_ids = [self.ext_stem_ids(p.stems) for p in prepared]
        desc_q, desc_lab, desc_sim = self._description_pairs(
            prepared, ext_ids, hit_q, indices, extra_q, extra_lab
        )
        pair_q = np.concatenate([hit_q, np.asarray(extra_q, dtype=np.int64), desc_q])
        order = np.argsort(pair_q, kind="stable")
        pair_q = pair_q[order]
        labels = np.concatenate(
            [indices.astype(np.int64), np.asarray(extra_lab, dtype=np.int64), desc_lab]
        )[order]
        sims = np.concatenate(
            [np.minimum(hits.data.astype(np.float64), 1.0), np.ones(len(extra_lab)), desc_sim]
        )[order]
        n_pairs = len(labels)
        pair_ptr = _segment_ptr(pair_q, n_q)
        workers = _THREADS if n_pairs > _PARALLEL_PAIRS else 1

        # Pick each concept's best label by cosine and word-order-free similarity.
        # token_sort_ratio is the ratio of the texts with their words sorted: sort them once.
        q_sorted = [" ".join(sorted(c.split())) for c in contents]
        sort_r = _fuzzy(fuzz.ratio, q_sorted, pair_q, self._sorted_arr, labels, workers)
        q_lang = np.array([_LANG_CODE[p.lang] for p in prepared], dtype=np.int8)[pair_q]
        para = (labels >= self.n_real).astype(np.float64)
        other = ((self._lang_code[labels] != q_lang) & (q_lang != _LANG_CODE["auto"])).astype(
            np.float64
        )
        syn = self._is_synonym[labels].astype(np.float64)
        zero = np.zeros(n_pairs)
        # Columns the hand weights ignore are zero here; they are computed below for the
        # best labels only (a zero column adds exactly nothing to the product).
        hand = (
            np.column_stack([sims, sort_r, zero, zero, zero, zero, zero, para, other, syn])
            @ _HAND_LABEL_WEIGHTS
        )
        concepts = self.concept[labels]
        n_conc = int(self.concept_prior.shape[0])
        pair_key = pair_q * n_conc + concepts
        order = np.lexsort((self.source_rank[labels], -hand, pair_q))
        uniq_key, first = np.unique(pair_key[order], return_index=True)
        best = order[first]
        counts = np.bincount(np.searchsorted(uniq_key, pair_key), minlength=len(uniq_key))
        owner_q = uniq_key // n_conc
        uniq = uniq_key - owner_q * n_conc
        ptr = _segment_ptr(owner_q, n_q)

        # The remaining label features, for the best label of each concept.
        best_q, best_lab = pair_q[best], labels[best]
        set_r = _fuzzy(fuzz.token_set_ratio, contents, best_q, self._content_arr, best_lab, workers)
        plain_r = _fuzzy(fuzz.ratio, contents, best_q, self._content_arr, best_lab, workers)
        inter = self._shared_stems(q_stems, best_q, best_lab)
        a_len, b_len = q_len[best_q], np.diff(self._label_stems.indptr)[best_lab].astype(float)
        valid = (a_len > 0) & (b_len > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            jaccard = np.where(valid, inter / (a_len + b_len - inter), 0.0)
            label_cov = np.where(valid, inter / b_len, 0.0)
            mention_cov = np.where(valid, inter / a_len, 0.0)
        best_feats = np.column_stack(
            [
                sims[best],
                sort_r[best],
                set_r,
                plain_r,
                jaccard,
                label_cov,
                mention_cov,
                para[best],
                other[best],
                syn[best],
            ]
        )
        concept_hand = hand[best]
        lead = concept_hand - _best_other(concept_hand, owner_q, ptr)
        nonempty = np.flatnonzero(np.diff(pair_ptr) > 0)
        sims_max = np.zeros(n_q)
        if n_pairs:
            sims_max[nonempty] = np.maximum.reduceat(sims, pair_ptr[nonempty])
        # Features are laid out one row per feature (then transposed, without a copy): the
        # per-mention maxima below reduce along contiguous memory.
        n_own = len(RERANK_FEATURES) // 2
        by_feature = np.empty((2 * n_own, len(uniq)))
        own = by_feature[:n_own]
        own[: best_feats.shape[1]] = best_feats.T
        at = best_feats.shape[1]
        for column in (
            np.log1p(counts),
            sims_max[owner_q] - sims[best],
            self.concept_prior[uniq],
            lead,
            lead * jaccard,
        ):
            own[at] = column
            at += 1
        n_cov = len(_COVERAGE_FEATURES)
        own[at : at + n_cov] = self._concept_coverage(q_stems, q_len, owner_q, uniq)
        own[at + n_cov :] = self._description_coverage(ext_ids, q_len, owner_q, uniq)
        # Each feature against the best value among the mention's candidates: what matters
        # is often not how well a concept fits but whether another fits better.
        has = np.flatnonzero(np.diff(ptr) > 0)
        best_of = np.zeros((n_own, n_q))
        if len(has):
            best_of[:, has] = np.maximum.reduceat(own, ptr[has], axis=1)
        np.subtract(own, best_of[:, owner_q], out=by_feature[n_own:])
        feats = by_feature.T

        # Exact and same-stem hits: the matched label speaks and sets a floor on the score.
        method = np.full(len(uniq), "fuzzy", dtype=object)
        floor = np.zeros(len(uniq))
        chosen = best_lab.copy()
        hits_by_kind = (
            (canon_q, canon_lab, "canon"),
            (stem_q, stem_lab, "stem"),
            (exact_q, exact_lab, "exact"),
        )
        for on_q, on_lab, kind in hits_by_kind:
            if not on_lab:
                continue
            lab = np.asarray(on_lab, dtype=np.int64)
            at = np.searchsorted(
                uniq_key, np.asarray(on_q, dtype=np.int64) * n_conc + self.concept[lab]
            )
            # The last hit of a concept wins, as a loop over them would leave it.
            _, last = np.unique(at[::-1], return_index=True)
            last = len(at) - 1 - last
            at, lab = at[last], lab[last]
            chosen[at] = lab
            if kind == "exact":
                method[at] = np.where(self._is_synonym[lab], "synonym", "exact")
                floor[at] = 100.0
            elif kind == "stem":
                method[at] = "inflection"
                floor[at] = 95.0
            else:  # the same words up to interchangeable ones
                method[at] = "synonym"
                floor[at] = 90.0
        return _CandidateBatch(ptr, uniq, chosen, feats, method, floor)

    def _description_pairs(
        self,
        prepared: Sequence[_Prepared],
        ids: Sequence[np.ndarray],
        hit_q: np.ndarray,
        hit_lab: np.ndarray,
        extra_q: np.ndarray,
        extra_lab: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mention, label, cosine) of concepts whose description says most of the mention.

        The ``_DESC_CANDIDATES`` concepts whose descriptions use the most of the mention's
        stems (idf-weighted, directly or through the pivot) join the candidates when no
        label brought them in; each is represented by its preferred label in the mention's
        language (English when unknown), with a cosine of 0 (retrieval found none of its
        labels close enough). Labels miss wordings the descriptions have ("operate
        trenchers": *operate digging construction equipment*, "... loaders, trenchers").
        """
        n_q = len(prepared)
        none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        lens = np.fromiter(map(len, ids), dtype=np.int64, count=n_q)
        if _DESC_CANDIDATES < 1 or not lens.sum() or not self._desc_t.nnz:
            return none
        flat = np.concatenate(ids)
        q_ext = sparse.csr_matrix(
            (self._ext_idf[flat].astype(np.float32), flat, np.concatenate([[0], np.cumsum(lens)])),
            shape=(n_q, self._desc_t.shape[0]),
        )
        top = sp_matmul_topn(
            q_ext, self._desc_t, top_n=_DESC_CANDIDATES, threshold=1e-6, n_threads=_THREADS
        )
        cand_q = np.repeat(np.arange(n_q, dtype=np.int64), np.diff(top.indptr))
        cand_c = top.indices.astype(np.int64)
        # Concepts some label already brought in are left out.
        n_conc = np.int64(len(self.concept_prior))
        have = np.concatenate(
            [
                hit_q.astype(np.int64) * n_conc + self.concept[hit_lab],
                np.asarray(extra_q, dtype=np.int64) * n_conc
                + self.concept[np.asarray(extra_lab, dtype=np.int64)],
            ]
        )
        new = ~np.isin(cand_q * n_conc + cand_c, have)
        cand_q, cand_c = cand_q[new], cand_c[new]
        if not len(cand_q):
            return none
        # The concept's preferred label in the mention's language speaks for it.
        lang = np.array([_LANG_CODE[p.lang] for p in prepared], dtype=np.int64)[cand_q]
        labs = self._speaker[lang, cand_c]
        ok = labs >= 0
        return cand_q[ok], labs[ok], np.zeros(int(ok.sum()))

    def _missing_pairs(
        self, hits: sparse.csr_matrix, *groups: tuple[list[int], list[int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Key-matched (mention, label) pairs that retrieval did not return, in order.

        Per mention: the labels of ``groups`` in order (exact, same-stem, canonical),
        each once, those already among the mention's retrieved labels left out.
        """
        q = np.concatenate([np.asarray(g[0], dtype=np.int64) for g in groups])
        lab = np.concatenate([np.asarray(g[1], dtype=np.int64) for g in groups])
        if not len(q):
            return q, lab
        order = np.argsort(q, kind="stable")  # per mention, the groups' order
        q, lab = q[order], lab[order]
        n_lab = np.int64(self.matrix_t.shape[1])
        key = q * n_lab + lab
        _, first = np.unique(key, return_index=True)
        first.sort()
        q, lab, key = q[first], lab[first], key[first]
        hit_key = np.repeat(np.arange(hits.shape[0], dtype=np.int64), np.diff(hits.indptr)) * n_lab
        hit_key += hits.indices
        hit_key.sort()
        if len(hit_key):
            at = np.minimum(np.searchsorted(hit_key, key), len(hit_key) - 1)
            missing = hit_key[at] != key
            q, lab = q[missing], lab[missing]
        return q, lab

    def _concept_coverage(
        self,
        q_stems: sparse.csr_matrix,
        q_len: np.ndarray,
        owner_q: np.ndarray,
        concepts: np.ndarray,
    ) -> np.ndarray:
        """How much of each mention its candidate concept's labels say, all labels together.

        One row per measure, one column per candidate: the share of the mention's stems
        that some label of the concept uses; the same, directly or through a translation
        (the learnt pivot); directly or through a related word (one that labels the same
        concepts, in either language); and the first two again weighted by the stems' idf
        (a rare word of the mention counts for more).
        """
        q_stems.sort_indices()
        lens = np.diff(q_stems.indptr)[owner_q].astype(np.int64)
        own, pos = _expand_ranges(q_stems.indptr[owner_q].astype(np.int64), lens)
        stem_ids = q_stems.indices[pos]
        conc = concepts[own]
        n = len(concepts)
        direct = self._concept_vocab[conc, stem_ids]
        pivoted = self._pivot_vocab[conc, stem_ids]
        related = self._related_vocab[conc, stem_ids]
        idf = self._stem_idf[stem_ids]
        # Stems the index does not know are uncovered: their idf is the largest there is.
        shares = _CoverageShares(own, n, q_len[owner_q], lens, idf, self._stem_idf_max)
        return np.vstack(
            [
                shares.plain(direct),
                shares.plain(pivoted),
                shares.plain(related),
                shares.weighted(direct),
                shares.weighted(pivoted),
            ]
        )

    def _description_coverage(
        self,
        ids: Sequence[np.ndarray],
        q_len: np.ndarray,
        owner_q: np.ndarray,
        concepts: np.ndarray,
    ) -> np.ndarray:
        """How much of each mention its candidate concept's description says.

        One row per measure, one column per candidate: the share of the mention's stems
        the description uses (directly or through the pivot), the same weighted by idf,
        and the idf-weighted share that the labels (with the pivot) or the description
        cover, together (stems no label uses count with the largest idf). ``ids`` are the
        mentions' stems in the label-and-description stem space (:meth:`ext_stem_ids`).
        """
        lens_q = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        q_ptr = np.concatenate([[0], np.cumsum(lens_q)])
        flat = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        lens = lens_q[owner_q]
        own, pos = _expand_ranges(q_ptr[owner_q], lens)
        stem_ids = flat[pos]
        conc = concepts[own]
        n = len(concepts)
        in_desc = self._desc_vocab[conc, stem_ids]
        n_lab = self._pivot_vocab.shape[1]
        labelled = stem_ids < n_lab
        in_labels = np.zeros(len(stem_ids), dtype=bool)
        in_labels[labelled] = self._pivot_vocab[conc[labelled], stem_ids[labelled]]
        idf = self._ext_idf[stem_ids]
        shares = _CoverageShares(own, n, q_len[owner_q], lens, idf, self._stem_idf_max)
        return np.vstack(
            [
                shares.plain(in_desc),
                shares.weighted(in_desc),
                shares.weighted(in_desc | in_labels),
            ]
        )

    def _shared_stems(
        self, q_stems: sparse.csr_matrix, pair_q: np.ndarray, labels: np.ndarray
    ) -> np.ndarray:
        """Number of distinct stems each (mention, label) pair shares."""
        q_stems.sort_indices()
        n_stems = q_stems.shape[1]
        q_keys = (
            np.repeat(np.arange(q_stems.shape[0], dtype=np.int64), np.diff(q_stems.indptr))
            * n_stems
            + q_stems.indices
        )
        lab_ptr = self._label_stems.indptr
        lens = (lab_ptr[labels + 1] - lab_ptr[labels]).astype(np.int64)
        owner, pos = _expand_ranges(lab_ptr[labels].astype(np.int64), lens)
        keys = pair_q[owner] * n_stems + self._label_stems.indices[pos]
        if not len(q_keys):
            return np.zeros(len(labels))
        at = np.minimum(np.searchsorted(q_keys, keys), len(q_keys) - 1)
        return np.bincount(owner, weights=q_keys[at] == keys, minlength=len(labels))

    def _retrieve(self, query: sparse.csr_matrix) -> sparse.csr_matrix:
        """The ``n_candidates`` labels of highest cosine (above 0.05) for each query row.

        A full sparse product spends most of its time on a few hundred character
        n-grams that a large share of the labels contain ("ion", "ing", "ar "). So:

        1. the product over the other features (rarer n-grams and the stemmed
           words) ranks the best ``_DEPTH`` labels of each query;
        2. the exact cosine (common n-grams added back) is computed for the first
           ``_HEAD`` of them, which sets the bar a candidate must pass (the
           ``n_candidates``-th best cosine so far), and for every other of the
           ``_DEPTH`` whose upper bound (its partial cosine plus the product of
           the common parts' norms) can pass it.

        Cosines are exact; a label is missed only if its partial cosine does not
        rank in the first ``_DEPTH``. A query made mostly of common n-grams
        (more than ``_FULL_SHARE`` of its squared norm) gets the full product.
        """
        n_top = self.config.n_candidates
        if not len(self._common):
            return sp_matmul_topn(
                query, self.matrix_t, top_n=n_top, threshold=0.05, n_threads=_THREADS
            )
        parts = [
            self._retrieve_block(query[start : start + _QUERY_BLOCK], n_top)
            for start in range(0, query.shape[0], _QUERY_BLOCK)
        ]
        return parts[0] if len(parts) == 1 else sparse.vstack(parts, format="csr")

    def _retrieve_block(self, query: sparse.csr_matrix, n_top: int) -> sparse.csr_matrix:
        n_q = query.shape[0]
        depth = max(_DEPTH, n_top)
        head_n = min(max(_HEAD, n_top), depth)
        q_common = query[:, self._common].tocsr()
        q_norm = np.sqrt(
            np.asarray(q_common.multiply(q_common).sum(axis=1), dtype=np.float64).ravel()
        )
        q_bound = np.minimum(
            q_norm * self._common_norm.max(initial=0.0),
            np.asarray(q_common @ self._common_max, dtype=np.float64).ravel(),
        )
        first = sp_matmul_topn(
            query, self._rare_t, top_n=depth, threshold=0.0, sort=True, n_threads=_THREADS
        )
        # Row q, column r: the r-th best label of query q by partial cosine (-1: none).
        rows = np.repeat(np.arange(n_q), np.diff(first.indptr))
        cols = np.arange(len(rows)) - first.indptr[rows]
        label = np.full((n_q, depth), -1, dtype=np.int64)
        label[rows, cols] = first.indices
        partial = np.zeros((n_q, depth), dtype=np.float32)
        partial[rows, cols] = first.data
        cosine = np.full((n_q, depth), -1.0, dtype=np.float32)
        # Queries made mostly of common n-grams get the full product (below) instead.
        full_rows = np.flatnonzero(q_norm**2 > _FULL_SHARE)
        label[full_rows] = -1

        head = label[:, :head_n] >= 0
        hq, hr = np.nonzero(head)
        cosine[hq, hr] = partial[hq, hr] + self._common_part(q_common, hq, label[hq, hr])
        if head_n >= n_top:
            bar = np.partition(cosine[:, :head_n], head_n - n_top, axis=1)[:, head_n - n_top]
        else:
            bar = np.full(n_q, -1.0, dtype=np.float32)
        bar = np.maximum(bar, 0.05)
        tail_label = label[:, head_n:]
        safe = np.maximum(tail_label, 0)
        bound = partial[:, head_n:] + np.minimum(
            q_norm[:, None] * self._common_norm[safe], q_bound[:, None]
        )
        tq, tr = np.nonzero((tail_label >= 0) & (bound > bar[:, None]))
        tr = tr + head_n
        cosine[tq, tr] = partial[tq, tr] + self._common_part(q_common, tq, label[tq, tr])

        # The best n_top per query, by cosine then label.
        if depth > n_top:
            pick = np.argpartition(-cosine, n_top - 1, axis=1)[:, :n_top]
        else:
            pick = np.broadcast_to(np.arange(depth), (n_q, depth))
        top_cos = np.take_along_axis(cosine, pick, axis=1).ravel()
        top_lab = np.take_along_axis(label, pick, axis=1).ravel()
        top_q = np.repeat(np.arange(n_q), pick.shape[1])
        if len(full_rows):
            exact = sp_matmul_topn(
                query[full_rows], self.matrix_t, top_n=n_top, threshold=0.05, n_threads=_THREADS
            )
            top_q = np.concatenate(
                [top_q, full_rows[np.repeat(np.arange(len(full_rows)), np.diff(exact.indptr))]]
            )
            top_lab = np.concatenate([top_lab, exact.indices.astype(np.int64)])
            top_cos = np.concatenate([top_cos, exact.data.astype(np.float32)])
        keep = top_cos > 0.05
        top_q, top_lab, top_cos = top_q[keep], top_lab[keep], top_cos[keep]
        order = np.lexsort((top_lab, -top_cos, top_q))
        return sparse.csr_matrix(
            (top_cos[order], top_lab[order].astype(np.int32), _segment_ptr(top_q, n_q)),
            shape=(n_q, self.matrix_t.shape[1]),
        )

    def _common_part(
        self, q_common: sparse.csr_matrix, pair_q: np.ndarray, pair_l: np.ndarray
    ) -> np.ndarray:
        """Dot product of each (query, label) pair over the common n-grams (``pair_q`` sorted).

        For a block of queries, their common weights are laid out densely one after the
        other; each pair's label row, shifted to its query's place, then makes one row
        of a sparse matrix whose product with that dense vector gives every pair at once.
        """
        out = np.zeros(len(pair_q), dtype=np.float32)
        n_c = q_common.shape[1]
        for q0 in range(0, q_common.shape[0], _DENSE_QUERIES):
            q1 = min(q_common.shape[0], q0 + _DENSE_QUERIES)
            lo, hi = np.searchsorted(pair_q, [q0, q1])
            if lo == hi:
                continue
            dense = q_common[q0:q1].toarray().ravel()
            rows = self._common_by_label[pair_l[lo:hi]]
            shift = np.repeat(((pair_q[lo:hi] - q0) * n_c).astype(np.int32), np.diff(rows.indptr))
            shifted = sparse.csr_matrix(
                (rows.data, rows.indices + shift, rows.indptr), shape=(hi - lo, len(dense))
            )
            out[lo:hi] = shifted @ dense
        return out

    def search(self, prepared: Sequence[_Prepared], top_k: int) -> list[list[ConceptMatch]]:
        if not prepared:
            return []
        found = self.candidate_batch(prepared)
        logits = self._rerank.logit(found.features)
        # Capped below 100 (which rounds from 99.995 up), so that only exact hits score 100
        # whatever the learnt weights: that lets ``exact_answer`` skip retrieval.
        probs = np.minimum(100.0 / (1.0 + np.exp(-logits)), _NOT_EXACT_MAX)
        # Exact hits score 100; same-stem hits 95-99.99, ordered among themselves by the
        # re-rank; everything else is the re-rank's estimate.
        floor = found.floor
        score = np.where(floor >= 100.0, 100.0, np.where(floor > 0, floor + 0.0499 * probs, probs))
        # Ties: a concept matched through its preferred label first, then the lower id.
        ptr = found.ptr
        owner = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        order = np.lexsort((found.concepts, self.source_rank[found.labels], -score, owner))
        rank = np.arange(len(order)) - ptr[owner]
        order = order[rank < top_k]
        kept_ptr = np.concatenate([[0], np.cumsum(np.minimum(np.diff(ptr), top_k))])
        matches = list(
            map(
                ConceptMatch,
                found.concepts[order].tolist(),
                [round(s, 2) for s in score[order].tolist()],
                found.method[order].tolist(),
                found.labels[order].tolist(),
            )
        )
        return [matches[kept_ptr[i] : kept_ptr[i + 1]] for i in range(len(ptr) - 1)]


def _discounted(matches: list[ConceptMatch]) -> list[ConceptMatch]:
    """A shorter reading's answer as the answer of the whole mention: its scores times
    ``_READING_DISCOUNT`` and method "fuzzy" (no label equals the mention itself)."""
    return [
        ConceptMatch(m.concept, round(m.score * _READING_DISCOUNT, 2), "fuzzy", m.label)
        for m in matches
    ]


def _fuzzy(
    scorer: Callable[..., float],
    queries: Sequence[str],
    pair_q: np.ndarray,
    texts: np.ndarray,
    labels: np.ndarray,
    workers: int,
) -> np.ndarray:
    """``scorer`` of every (query, label) pair, 0-1 (rapidfuzz's float32 divided by 100).

    ``texts`` is an object array of the label texts (fancy indexing beats a list).
    """
    if not len(labels):
        return np.zeros(0, dtype=np.float32)
    left = np.array(queries, dtype=object)[pair_q]
    return process.cpdist(left, texts[labels], scorer=scorer, workers=workers) / 100.0


def _best_other(values: np.ndarray, owner: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """For each entry, the largest of the *other* entries of its segment (0 when none)."""
    if len(values) == 0:
        return np.zeros(0)
    order = np.lexsort((-values, owner))
    size = np.diff(ptr)
    top = np.zeros(len(size))
    second = np.zeros(len(size))
    nonempty = size > 0
    top[nonempty] = values[order[ptr[:-1][nonempty]]]
    two = size > 1
    second[two] = values[order[ptr[:-1][two] + 1]]
    first_v, second_v = top[owner], second[owner]
    return np.where(size[owner] < 2, 0.0, np.where(values >= first_v, second_v, first_v))


class _Rerank:
    """The learnt re-rank of :class:`NormaliseConfig` as arrays: a logistic regression
    plus, when the config has hidden units, one layer of ReLU units."""

    def __init__(self, config: NormaliseConfig) -> None:
        self.coef = np.asarray(config.rerank_coef, dtype=np.float64)
        self.intercept = float(config.rerank_intercept)
        n = len(self.coef)
        hidden = np.asarray(config.rerank_hidden_coef, dtype=np.float64).reshape(-1, n)
        self.hidden = np.ascontiguousarray(hidden.T)  # features x units
        self.hidden_intercept = np.asarray(config.rerank_hidden_intercept, dtype=np.float64)
        self.hidden_out = np.asarray(config.rerank_hidden_out, dtype=np.float64)

    def logit(self, features: np.ndarray) -> np.ndarray:
        out = features @ self.coef + self.intercept
        if self.hidden_out.size:
            units = features @ self.hidden
            units += self.hidden_intercept
            np.maximum(units, 0.0, out=units)
            out += units @ self.hidden_out
        return out


#: Rows of ``_KindIndex._concept_coverage`` (the last own features but those of the
#: description), in ``RERANK_FEATURES`` order.
_COVERAGE_FEATURES = (
    "concept_covered",
    "pivot_covered",
    "related_covered",
    "concept_covered_idf",
    "pivot_covered_idf",
)


# Picks the best label of a concept before the learnt re-rank (cosine and fuzzy ratio, small
# penalties for generated paraphrases and labels in another language).
_HAND_LABEL_WEIGHTS = np.array([0.65, 0.35, 0.0, 0.0, 0.0, 0.0, 0.0, -0.03, -0.08, 0.0])


@dataclass(frozen=True)
class _AnswerCache:
    """Answers of one (kind, lang) by raw mention and by processed form, each an LRU."""

    by_mention: OrderedDict[str, _Answer] = field(default_factory=OrderedDict)
    by_form: OrderedDict[_Prepared, _Answer] = field(default_factory=OrderedDict)


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
        self._caches: dict[tuple[str, str], _AnswerCache] = {}
        self._readings: dict[tuple[str, str], tuple[str, ...]] = {}

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
        mentions = list(mentions)
        with collector_paused():
            return self._match_readings(index, mentions, kind, lang, top_k)

    def _match_readings(
        self, index: _KindIndex, mentions: list[str], kind: str, lang: Lang, top_k: int
    ) -> list[list[ConceptMatch]]:
        """Each mention's answer, or that of a shorter reading of it the normaliser is
        clearly surer of.

        Job boards wrap titles ("Se necesita Técnico Electricista - Lima") and CVs
        skills ("Office (Word, Excel)", "mantenimiento preventivo y correctivo de ...").
        The readings :func:`~matcher.text.occupation_title_variants` and
        :func:`~matcher.text.skill_mention_variants` give are answered (in one batch)
        only for the mentions whose own best concept scores under ``100 *
        _READING_DISCOUNT``, the only ones a discounted reading can overtake.
        """
        found = self._match(index, mentions, kind, lang, top_k)
        bar = 100.0 * _READING_DISCOUNT
        unsure = [i for i, m in enumerate(found) if not m or m[0].score < bar]
        if not unsure:
            return found
        memo = self._readings
        if len(memo) > self.config.cache_size:
            memo.clear()
        variants = occupation_title_variants if kind == "occupation" else skill_mention_variants
        readings: dict[int, tuple[str, ...]] = {}
        for i in unsure:
            rs = memo.get((kind, mentions[i]))
            if rs is None:
                rs = memo[(kind, mentions[i])] = tuple(variants(mentions[i])[1:])
            if rs:
                readings[i] = rs
        if not readings:
            return found
        flat = list(dict.fromkeys(r for rs in readings.values() for r in rs))
        answers = dict(zip(flat, self._match(index, flat, kind, lang, top_k)))
        for i, rs in readings.items():
            best = found[i]
            for reading in rs:
                other = _discounted(answers[reading])
                if other and (not best or other[0].score > best[0].score):
                    best = other
            found[i] = best
        return found

    def _match(
        self, index: _KindIndex, mentions: list[str], kind: str, lang: Lang, top_k: int
    ) -> list[list[ConceptMatch]]:
        cache = self._caches.get((kind, lang))
        if cache is None:
            cache = self._caches[(kind, lang)] = _AnswerCache()
        by_mention, by_form = cache.by_mention, cache.by_form
        width = max(top_k, 10)
        results: list[list[ConceptMatch] | None] = []
        todo: dict[str, list[int]] = {}  # mentions to answer -> their positions
        get, touch = by_mention.get, by_mention.move_to_end
        for i, mention in enumerate(mentions):
            hit = get(mention)
            if hit is not None and (hit.complete or top_k <= len(hit.matches)):
                touch(mention)
                results.append(hit.matches[:top_k])
            else:
                results.append(None)
                todo.setdefault(mention, []).append(i)
        if todo:
            # Mentions that differ only in case, accents, filler words or a corrected typo
            # share one form, answered once.
            forms: dict[_Prepared, list[str]] = {}
            keys = list(todo)
            for key, form in zip(keys, index.prepare_many(keys, lang)):
                forms.setdefault(form, []).append(key)
            answers: dict[_Prepared, _Answer] = {}
            to_search: list[_Prepared] = []
            for form in forms:
                known = by_form.get(form)
                if known is not None and known.serves(top_k):
                    by_form.move_to_end(form)
                    answers[form] = known
                elif not form.content:
                    answers[form] = _Answer([], True)
                else:
                    quick = index.exact_answer(form.content, top_k)
                    if quick is None:
                        to_search.append(form)
                    else:
                        answers[form] = _Answer(quick, False)
            for form, matches in zip(to_search, index.search(to_search, width)):
                answers[form] = _Answer(matches, True)
            for form, answer in answers.items():
                by_form[form] = answer
                for key in forms[form]:
                    by_mention[key] = answer
                    for i in todo[key]:
                        results[i] = answer.matches[:top_k]
            for table in (by_mention, by_form):
                while len(table) > self.config.cache_size:
                    table.popitem(last=False)
        return cast("list[list[ConceptMatch]]", results)  # every position is filled by now

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
