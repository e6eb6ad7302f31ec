"""Concept vocabularies and a Spanish<->English word pivot, learnt from the index's labels.

Every ESCO concept is labelled in both languages, and English carries about four
times as many alternative labels as Spanish. A Spanish mention written with a word
that none of its concept's Spanish labels uses ("desarmar motores" for *desmontar
motores*) can still agree with the concept's English labels ("disassemble
engines") if the engine knows that *desarm-* translates to *disassembl-*. That is
learnt here, without any dictionary, from which stems the two languages use for
the same concepts: a Spanish and an English stem found together in the labels of
many concepts, and rarely apart, translate each other (Dice association).

Everything is learnt from the labels the index is given, so an evaluation index
that lacks some labels learns its pivot without them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

__all__ = ["concept_vocabulary", "learn_pivot", "learn_related", "pivot_vocabulary"]


def concept_vocabulary(
    label_stems: sparse.csr_matrix, label_concept: np.ndarray, n_concepts: int
) -> sparse.csr_matrix:
    """Binary concepts x stems: the stems used by any of the concept's labels."""
    owner = sparse.csr_matrix(
        (
            np.ones(len(label_concept), dtype=np.float32),
            (label_concept, np.arange(len(label_concept))),
        ),
        shape=(n_concepts, label_stems.shape[0]),
    )
    binary = label_stems.copy()
    binary.data = np.ones_like(binary.data)
    out = sparse.csr_matrix(owner @ binary)
    out.data = np.ones_like(out.data)
    return out


def learn_pivot(
    label_stems: sparse.csr_matrix,
    label_concept: np.ndarray,
    label_lang: Sequence[str],
    n_concepts: int,
    *,
    min_concepts: int = 2,
    min_dice: float = 0.2,
    per_stem: int = 3,
) -> sparse.csr_matrix:
    """Binary stems x stems: ``[s, t]`` when ``t`` (other language) translates ``s``.

    Two stems are associated by the Dice coefficient of the sets of concepts whose
    Spanish labels use one and whose English labels use the other; each stem keeps
    its ``per_stem`` best partners of at least ``min_dice``, seen together in at
    least ``min_concepts`` concepts (one shared concept is chance). The relation is
    made symmetric, so English mentions can reach Spanish-only wording too.
    """
    lang = np.asarray(label_lang)
    vocab = {
        lg: concept_vocabulary(
            label_stems[np.flatnonzero(lang == lg)], label_concept[lang == lg], n_concepts
        )
        for lg in ("es", "en")
    }
    es, en = vocab["es"], vocab["en"]
    together = sparse.csr_matrix(es.T @ en)  # Spanish stem x English stem: shared concepts
    together.eliminate_zeros()
    df_es = np.asarray(es.sum(axis=0)).ravel()
    df_en = np.asarray(en.sum(axis=0)).ravel()
    return _best_partners(
        together, df_es, df_en, min_concepts=min_concepts, min_dice=min_dice, per_stem=per_stem
    )


def learn_related(
    vocabulary: sparse.csr_matrix,
    *,
    min_concepts: int = 2,
    min_dice: float = 0.2,
    per_stem: int = 5,
) -> sparse.csr_matrix:
    """Binary stems x stems: stems that label the same concepts, in either language.

    ``vocabulary`` is concepts x stems (:func:`concept_vocabulary` of every label).
    ESCO lists a concept's alternative wordings, so stems that keep labelling the
    same concepts are mostly synonyms or translations (*inspect*: *check*,
    *examine*, *inspeccion*), sometimes parts of one term (*cargo*: *freight*).
    """
    together = sparse.csr_matrix(vocabulary.T @ vocabulary)
    together.setdiag(0)
    together.eliminate_zeros()
    df = np.asarray(vocabulary.sum(axis=0)).ravel()
    return _best_partners(
        together, df, df, min_concepts=min_concepts, min_dice=min_dice, per_stem=per_stem
    )


def _best_partners(
    together: sparse.csr_matrix,
    df_rows: np.ndarray,
    df_cols: np.ndarray,
    *,
    min_concepts: int,
    min_dice: float,
    per_stem: int,
) -> sparse.csr_matrix:
    """Symmetric binary relation keeping each stem's ``per_stem`` best partners by Dice."""
    coo = together.tocoo()
    dice = 2.0 * coo.data / (df_rows[coo.row] + df_cols[coo.col])
    keep = (coo.data >= min_concepts) & (dice >= min_dice)
    rows, cols, dice = coo.row[keep], coo.col[keep], dice[keep]
    n = together.shape[0]
    pairs = []
    for src, dst in ((rows, cols), (cols, rows)):  # best partners of each Spanish, English stem
        order = np.lexsort((dst, -dice, src))
        src_o = src[order]
        start = np.searchsorted(src_o, src_o, side="left")
        rank = np.arange(len(src_o)) - start
        best = order[rank < per_stem]
        pairs.append((src[best], dst[best]))
    r = np.concatenate([pairs[0][0], pairs[1][0]])
    c = np.concatenate([pairs[0][1], pairs[1][1]])
    out = sparse.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n, n))
    out = sparse.csr_matrix(out + out.T)
    out.data = np.ones_like(out.data)
    return out


def pivot_vocabulary(vocabulary: sparse.csr_matrix, pivot: sparse.csr_matrix) -> np.ndarray:
    """Dense boolean concepts x stems: stems of the concept's labels or translating one."""
    reach = sparse.csr_matrix(vocabulary @ pivot.T) + vocabulary
    dense = np.zeros(vocabulary.shape, dtype=bool)
    coo = reach.tocoo()
    dense[coo.row, coo.col] = coo.data > 0
    return dense
