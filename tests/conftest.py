"""Shared fixtures: the shipped taxonomy and a normaliser, built once per session."""

from __future__ import annotations

import pytest

from matcher.io import load_taxonomy
from matcher.normalise import SkillNormaliser
from matcher.taxonomy import SkillTaxonomy


@pytest.fixture(scope="session")
def taxonomy() -> SkillTaxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def normaliser(taxonomy: SkillTaxonomy) -> SkillNormaliser:
    return SkillNormaliser(taxonomy)
