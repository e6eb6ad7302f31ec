"""The matching engine: taxonomy, normaliser, skill space and scorer, built once.

>>> from matcher.io import load_engine
>>> from matcher.profiles import parse_candidates, parse_vacancies
>>> engine = load_engine()
>>> vac = parse_vacancies([{"id": "V1", "employer_id": "E1", "title": "Técnico de fibra óptica",
...     "required_skills": ["empalme de fibra óptica", "inspeccionar cables"],
...     "region": "Lima"}])[0]
>>> cands = parse_candidates([
...     {"id": "A", "skills": ["empalme de fibra optica"], "region": "Lima"},
...     {"id": "B", "skills": ["gestión de residuos"], "region": "Lima"},
...     {"id": "C", "skills": [], "region": "Lima"}])
>>> [(m.candidate_id, m.score > 0) for m in engine.rank_candidates(vac, cands, top_k=3)]
[('A', True), ('B', False), ('C', False)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.config import MatchConfig
from matcher.extract import extract_skills
from matcher.features import (
    CandidateBatch,
    MentionMemo,
    PairFeatures,
    SkillSpace,
    VacancyBatch,
    encode_candidates,
    encode_vacancies,
    pair_features,
)
from matcher.normalise import SkillNormaliser
from matcher.profiles import Candidate, Vacancy
from matcher.regions import Regions
from matcher.scorer import MatchScorer, PairScorer
from matcher.taxonomy import SkillTaxonomy

__all__ = ["MatchEngine", "ScoredPairs"]


@dataclass(frozen=True, eq=False)
class ScoredPairs:
    """Scores and features of a candidate batch (rows) against a vacancy batch (columns)."""

    candidates: CandidateBatch
    vacancies: VacancyBatch
    features: PairFeatures
    scores: np.ndarray  # (n, m) in [0, 1]

    @property
    def eligible(self) -> np.ndarray:
        return self.features.filtered == 0


class MatchEngine:
    """Everything needed to score candidates against vacancies.

    Parameters
    ----------
    taxonomy : SkillTaxonomy
    regions : Regions, optional
        Known regions and distances (default: none known; equal names still match).
    config : MatchConfig, optional
    scorer : PairScorer, optional
        Default: :meth:`MatchScorer.default`, the documented weights; a learnt
        :class:`~matcher.learned.OutcomeScorer` plugs in the same way.
    normaliser : SkillNormaliser, optional
        Shared with the API's normalise/extract routes when given.
    model_version : str
        Named in every result and audit record.
    """

    def __init__(
        self,
        taxonomy: SkillTaxonomy,
        *,
        regions: Regions | None = None,
        config: MatchConfig | None = None,
        scorer: PairScorer | None = None,
        normaliser: SkillNormaliser | None = None,
        model_version: str = "default-weights",
    ) -> None:
        self.taxonomy = taxonomy
        self.config = config or MatchConfig()
        self.regions = regions or Regions.empty()
        self.scorer: PairScorer = scorer or MatchScorer.default()
        self.normaliser = normaliser or SkillNormaliser(taxonomy)
        self.space = SkillSpace.from_taxonomy(taxonomy, self.config)
        self.model_version = model_version
        # What every mention normalised to, for re-encoding the same people (explanations).
        self.memo = MentionMemo()

    @property
    def taxonomy_version(self) -> str:
        return self.taxonomy.version

    # ---------------------------------------------------------------- encode
    def encode_candidates(
        self, candidates: Sequence[Candidate], *, mentions: bool = True
    ) -> CandidateBatch:
        """Encode candidates; ``mentions=False`` skips the written mentions (explanations
        read them, a search does not)."""
        return encode_candidates(
            candidates,
            self.normaliser,
            self.space,
            self.regions,
            self.config,
            mentions=mentions,
            memo=self.memo,
        )

    def encode_vacancies(self, vacancies: Sequence[Vacancy]) -> VacancyBatch:
        """Encode vacancies; skills found in their descriptions join the optional skills."""
        described = [v.description for v in vacancies]
        extracted: list[list[int]] = [[] for _ in vacancies]
        todo = [i for i, d in enumerate(described) if d.strip()]
        if todo:
            found = extract_skills([described[i] for i in todo], self.normaliser, top_k=8)
            for i, skills in zip(todo, found):
                extracted[i] = [e.concept for e in skills if e.score >= 50.0]
        return encode_vacancies(
            vacancies,
            self.normaliser,
            self.space,
            self.regions,
            self.config,
            description_skills=extracted,
            memo=self.memo,
        )

    # ----------------------------------------------------------------- score
    def score(self, candidates: CandidateBatch, vacancies: VacancyBatch) -> ScoredPairs:
        """Features and scores of every pair of two encoded batches."""
        feats = pair_features(candidates, vacancies, self.regions, self.config)
        n, m = len(candidates), len(vacancies)
        scores = self.scorer.score_grid(feats.columns, (n, m)) if n and m else np.zeros((n, m))
        return ScoredPairs(candidates, vacancies, feats, scores)

    # --------------------------------------------------------------- ranking
    def rank_candidates(self, vacancy: Vacancy, candidates: Sequence[Candidate], **kwargs):
        """Best candidates for one vacancy; see :func:`matcher.ranking.rank_candidates`."""
        from matcher.ranking import rank_candidates

        return rank_candidates(self, vacancy, candidates, **kwargs)

    def rank_vacancies(self, candidate: Candidate, vacancies: Sequence[Vacancy], **kwargs):
        """Best vacancies for one candidate; see :func:`matcher.ranking.rank_vacancies`."""
        from matcher.ranking import rank_vacancies

        return rank_vacancies(self, candidate, vacancies, **kwargs)
