"""Plain baselines a user could build in an afternoon, measured in the same run as the engine."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sparse_dot_topn import sp_matmul_topn

from matcher.taxonomy import SkillTaxonomy


class TfidfNearestLabel:
    """Character n-gram TF-IDF over every label; a mention takes its nearest label's concept."""

    def __init__(self, taxonomy: SkillTaxonomy, kind: str) -> None:
        labels = taxonomy.labels
        kinds = taxonomy.concepts["kind"].to_numpy()[labels["concept"].to_numpy()]
        labels = labels[kinds == kind]
        self.concept = labels["concept"].to_numpy()
        self.vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=True)
        self.matrix_t = self.vec.fit_transform(labels["text"]).T.tocsr()

    def top1(self, mentions: Sequence[str]) -> np.ndarray:
        q = self.vec.transform(mentions)
        hits = sp_matmul_topn(q, self.matrix_t, top_n=1)
        out = np.full(len(mentions), -1)
        for i in range(len(mentions)):
            lo, hi = hits.indptr[i], hits.indptr[i + 1]
            if hi > lo:
                out[i] = self.concept[hits.indices[lo]]
        return out
