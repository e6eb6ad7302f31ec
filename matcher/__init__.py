"""reintegra's matching engine: ESCO skill normalisation, extraction and ranking.

Public API; everything else is internal.
"""

from matcher.config import NormaliseConfig
from matcher.exceptions import (
    ConfigError,
    FieldProblem,
    InputFileError,
    MatcherError,
    NotFittedError,
    TaxonomyError,
    ValidationError,
)
from matcher.extract import EXTRACT_COLUMNS, ExtractedSkill, extract_frame, extract_skills
from matcher.normalise import NORMALISE_COLUMNS, ConceptMatch, SkillNormaliser
from matcher.taxonomy import SkillTaxonomy

__version__ = "0.1.0"

__all__ = [
    "EXTRACT_COLUMNS",
    "NORMALISE_COLUMNS",
    "ConceptMatch",
    "ConfigError",
    "ExtractedSkill",
    "FieldProblem",
    "InputFileError",
    "MatcherError",
    "NormaliseConfig",
    "NotFittedError",
    "SkillNormaliser",
    "SkillTaxonomy",
    "TaxonomyError",
    "ValidationError",
    "__version__",
    "extract_frame",
    "extract_skills",
]
