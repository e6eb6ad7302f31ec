"""Model configuration: frozen, explicit, saved with anything trained on it.

Deployment settings (paths, URLs, keys) live in ``api.settings``; never here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from matcher.exceptions import ConfigError

__all__ = ["FEATURES", "RERANK_FEATURES", "MatchConfig", "NormaliseConfig"]

#: Names of the re-rank features of one candidate concept, in column order.
_OWN_FEATURES = (
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
    "concept_covered",
    "pivot_covered",
    "related_covered",
    "concept_covered_idf",
    "pivot_covered_idf",
    "description_covered",
    "description_covered_idf",
    "labels_or_description_covered_idf",
)
#: Names of the re-rank features, in column order: each feature of the candidate, then
#: the same minus its best value among the mention's candidates (``*_vs_best``).
RERANK_FEATURES = _OWN_FEATURES + tuple(f"{name}_vs_best" for name in _OWN_FEATURES)


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
    #: Re-rank over ``RERANK_FEATURES``: the logit of a candidate is ``x @ rerank_coef +
    #: rerank_intercept`` plus, when ``rerank_hidden_coef`` is not empty, one layer of ReLU
    #: units ``sum_j rerank_hidden_out[j] * max(0, x @ rerank_hidden_coef[j] +
    #: rerank_hidden_intercept[j])`` (a small neural network; with no units it is a logistic
    #: regression). Learnt by ``python -m training.normaliser`` (these defaults are its output).
    # BEGIN learnt re-rank (written by `python -m training.normaliser --write`)
    # fmt: off
    rerank_coef: tuple[float, ...] = (
        -1.5267, 0.7748, -0.5389, 2.4024, 3.8366, -0.2265, -5.2513, 0.1163, 0.5764, -0.0446, 0.755,
        1.1328, -1.1903, 4.1563, 5.2152, 1.9854, -0.1922, 0.9463, -1.6147, -0.831, 0.1618, -0.7345,
        4.089, -1.1589, 0.3477, 1.8684, 1.0928, 1.2735, -0.0952, -0.1617, -0.1774, -0.1117,
        -0.0699, -0.1731, -2.1436, 0.2834, -0.3049, 2.1568, 2.0165, 1.0728, 1.6422, -1.7734,
        -0.3316, 1.4018, 0.5763, 0.8318,
    )
    rerank_intercept: float = -3.0916
    rerank_hidden_coef: tuple[tuple[float, ...], ...] = (
    )
    rerank_hidden_intercept: tuple[float, ...] = ()
    rerank_hidden_out: tuple[float, ...] = ()
    # fmt: on
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
        n_units = len(self.rerank_hidden_coef)
        if len(self.rerank_hidden_intercept) != n_units or len(self.rerank_hidden_out) != n_units:
            problems.append(
                "rerank_hidden_coef, rerank_hidden_intercept and rerank_hidden_out need one "
                f"entry per hidden unit, got {n_units}, {len(self.rerank_hidden_intercept)} "
                f"and {len(self.rerank_hidden_out)}"
            )
        if any(len(unit) != len(RERANK_FEATURES) for unit in self.rerank_hidden_coef):
            problems.append(f"each hidden unit needs {len(RERANK_FEATURES)} weights")
        if problems:
            raise ConfigError("NormaliseConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


#: Pair features, in the column order the scorer reads (see ``matcher.features``).
FEATURES = (
    "required_coverage",  # share of the vacancy's required skills the candidate covers
    "optional_coverage",  # share of its optional skills
    "profile_coverage",  # share of the essential skills of the vacancy's ESCO occupation
    "title_fit",  # past job titles against the vacancy's occupation (ISCO distance)
    "experience_fit",  # years of experience against the minimum asked
    "location_fit",  # same region, remote, or distance when willing to relocate
    "has_skills",  # the candidate has at least one recognised skill
    "has_required",  # the vacancy has required skills the engine recognised
    "has_optional",  # ... optional skills
    "has_occupation",  # ... a title the engine recognised as an ESCO occupation
)


@dataclass(frozen=True)
class MatchConfig:
    """How candidates and vacancies are compared. Saved with anything trained on it.

    Parameters
    ----------
    related_credit
        Credit (0-1) for a skill the candidate lacks but whose close relative
        (co-occurring in ESCO occupation profiles) they have.
    related_min_similarity, related_top_n
        Which relatives count: cosine of occupation-profile co-occurrence at
        least this, at most this many per skill.
    relocation_km
        Distance over which a willing-to-relocate candidate's location fit falls
        from 1 to its floor of 0.5.
    min_mention_score
        Skill mentions normalised below this (0-100) are not used as evidence.
    top_k
        Default shortlist length.
    """

    related_credit: float = 0.5
    related_min_similarity: float = 0.35
    related_top_n: int = 15
    relocation_km: float = 1500.0
    min_mention_score: float = 40.0
    description_weight: float = 0.5
    top_k: int = 10

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.related_credit <= 1:
            problems.append(f"related_credit must be in [0, 1], got {self.related_credit}")
        if not 0 < self.related_min_similarity <= 1:
            problems.append(
                f"related_min_similarity must be in (0, 1], got {self.related_min_similarity}"
            )
        if self.related_top_n < 0:
            problems.append(f"related_top_n must be >= 0, got {self.related_top_n}")
        if self.relocation_km <= 0:
            problems.append(f"relocation_km must be > 0, got {self.relocation_km}")
        if not 0 <= self.min_mention_score <= 100:
            problems.append(f"min_mention_score must be in [0, 100], got {self.min_mention_score}")
        if not 0 <= self.description_weight <= 1:
            problems.append(f"description_weight must be in [0, 1], got {self.description_weight}")
        if self.top_k < 1:
            problems.append(f"top_k must be >= 1, got {self.top_k}")
        if problems:
            raise ConfigError("MatchConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
