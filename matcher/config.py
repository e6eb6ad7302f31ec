"""Model configuration: frozen, explicit, saved with anything trained on it.

Deployment settings (paths, URLs, keys) live in ``api.settings``; never here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from matcher.exceptions import ConfigError

__all__ = ["RERANK_FEATURES", "NormaliseConfig"]

#: Names of the re-rank features, in column order.
RERANK_FEATURES = (
    "cosine",
    "token_sort_ratio",
    "token_set_ratio",
    "ratio",
    "stem_jaccard",
    "label_covered",
    "mention_covered",
    "paraphrase",
    "other_language",
    "synonym_layer",
    "log_label_hits",
    "cosine_gap",
    "concept_prior",
    "lead_over_next",
    "lead_x_jaccard",
)


@dataclass(frozen=True)
class NormaliseConfig:
    """How free-text mentions are mapped onto ESCO concepts.

    Parameters
    ----------
    char_weight, word_weight
        Weights of the character n-gram and the stemmed-word cosine in the
        candidate-generation similarity (they need not sum to one).
    n_candidates
        Labels retrieved per mention before the fuzzy re-rank.
    score_cutoff
        A best concept scoring below this (0-100, the re-rank's estimated
        probability that the concept is right) leaves the mention unmatched;
        its guesses are still returned.
    cache_size
        Distinct mentions remembered per normaliser (LRU).
    """

    char_weight: float = 0.6
    word_weight: float = 0.4
    char_ngram_range: tuple[int, int] = (3, 4)
    n_candidates: int = 30
    score_cutoff: float = 40.0
    cache_size: int = 200_000
    fuzzy_weight: float = 0.35
    #: Logistic re-rank over ``matcher.normalise.RERANK_FEATURES``; learnt by
    #: ``python -m training.normaliser`` (these defaults are its output).
    # BEGIN learnt re-rank (written by `python -m training.normaliser --write`)
    rerank_coef: tuple[float, ...] = (
        -0.1319,
        2.1693,
        1.5096,
        2.062,
        4.3103,
        -1.2216,
        -2.5208,
        -0.416,
        1.216,
        -0.2596,
        0.9014,
        -1.668,
        -0.8705,
        5.4849,
        5.4609,
    )
    rerank_intercept: float = -5.3292
    # END learnt re-rank
    max_paraphrases: int = 6
    char_max_df: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        if self.char_weight < 0 or self.word_weight < 0 or self.char_weight + self.word_weight <= 0:
            problems.append("char_weight and word_weight must be >= 0 and not both 0")
        if self.n_candidates < 1:
            problems.append(f"n_candidates must be >= 1, got {self.n_candidates}")
        if not 0 <= self.score_cutoff <= 100:
            problems.append(f"score_cutoff must be in [0, 100], got {self.score_cutoff}")
        if not 0 <= self.fuzzy_weight <= 1:
            problems.append(f"fuzzy_weight must be in [0, 1], got {self.fuzzy_weight}")
        if len(self.rerank_coef) != len(RERANK_FEATURES):
            problems.append(
                f"rerank_coef needs {len(RERANK_FEATURES)} weights, got {len(self.rerank_coef)}"
            )
        if problems:
            raise ConfigError("NormaliseConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
