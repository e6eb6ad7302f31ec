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


@pytest.fixture(scope="session")
def engine(taxonomy: SkillTaxonomy, normaliser: SkillNormaliser):
    from matcher.engine import MatchEngine
    from matcher.io import load_regions

    return MatchEngine(taxonomy, regions=load_regions(), normaliser=normaliser)


@pytest.fixture(scope="session")
def demo_candidates():
    from matcher.io import default_fixtures_dir, read_candidates

    return read_candidates(default_fixtures_dir() / "demo" / "candidates.jsonl")


@pytest.fixture(scope="session")
def demo_vacancies():
    from matcher.io import default_fixtures_dir, read_vacancies

    return read_vacancies(default_fixtures_dir() / "demo" / "vacancies.jsonl")
