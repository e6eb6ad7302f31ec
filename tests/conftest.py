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


@pytest.fixture
def bad_candidates(tmp_path):
    """A candidates file with a problem on almost every line: a missing id, a negative
    number, a duplicated id, a line that is not JSON, and one good record."""
    import json

    path = tmp_path / "bad.jsonl"
    lines = [
        json.dumps({"skills": ["soldadura"]}),
        json.dumps({"id": "R1", "experience_years": -3}),
        json.dumps({"id": "R1"}),
        "{not json",
        json.dumps({"id": "R2", "skills": ["ok"]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
