"""Generated populations for scale benchmarks: candidates and vacancies from ESCO profiles.

Synthetic by construction: no person is real. Skills are written with ESCO
labels (Spanish and English, alternative forms), a share without accents or
with a typo, so that normalisation does real work and the cache is exercised
the way a national register would (many people, a few thousand distinct forms).
"""

from __future__ import annotations

import random

import numpy as np

from matcher.profiles import Candidate, SkillMention, Vacancy
from matcher.taxonomy import SkillTaxonomy

REGIONS = (
    "Lima",
    "Arequipa",
    "La Libertad",
    "Piura",
    "Cusco",
    "Junín",
    "Callao",
    "Ica",
    "Lambayeque",
)


def _forms(taxonomy: SkillTaxonomy) -> dict[int, list[str]]:
    labels = taxonomy.labels[taxonomy.labels["source"] != "synonym"]
    out: dict[int, list[str]] = {}
    for concept, text in zip(labels["concept"], labels["text"]):
        out.setdefault(int(concept), []).append(str(text))
    return out


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 6:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1 :]


def generate(
    taxonomy: SkillTaxonomy,
    *,
    n_candidates: int,
    n_vacancies: int,
    skills_per_candidate: int = 20,
    random_state: int = 0,
) -> tuple[list[Candidate], list[Vacancy]]:
    """``n_candidates`` and ``n_vacancies`` built from random ESCO occupation profiles."""
    rng = random.Random(random_state)
    nprng = np.random.default_rng(random_state)
    forms = _forms(taxonomy)
    rel = taxonomy.relations.tocsr()
    occupations = [o for o in np.flatnonzero(taxonomy.is_occupation) if rel[o].nnz >= 8]
    profile = {o: rel[o].indices.tolist() for o in occupations}
    titles = {o: forms.get(o, [taxonomy.label(o, "es")]) for o in occupations}

    def write(concept: int) -> str:
        text = rng.choice(forms.get(concept) or [taxonomy.label(concept, "es")])
        r = rng.random()
        if r < 0.2:
            text = _typo(text, rng)
        elif r < 0.5:
            text = text.lower()
        return text

    vacancies = []
    for j in range(n_vacancies):
        occ = occupations[int(nprng.integers(len(occupations)))]
        skills = rng.sample(profile[occ], min(len(profile[occ]), 8))
        vacancies.append(
            Vacancy(
                id=f"V{j:06d}",
                employer_id=f"E{j % 50:03d}",
                title=rng.choice(titles[occ]),
                required_skills=tuple(SkillMention(write(c)) for c in skills[:5]),
                optional_skills=tuple(SkillMention(write(c)) for c in skills[5:]),
                region=rng.choice(REGIONS),
                remote=rng.random() < 0.05,
                openings=rng.randint(1, 5),
                min_experience_years=float(rng.randint(0, 4)),
                languages=("es",),
            )
        )
    candidates = []
    for i in range(n_candidates):
        occ = occupations[int(nprng.integers(len(occupations)))]
        own = rng.sample(profile[occ], min(len(profile[occ]), skills_per_candidate))
        candidates.append(
            Candidate(
                id=f"C{i:07d}",
                skills=tuple(SkillMention(write(c)) for c in own),
                past_job_titles=(rng.choice(titles[occ]),),
                experience_years=float(rng.randint(0, 20)),
                region=rng.choice(REGIONS),
                willing_to_relocate=rng.random() < 0.5,
                languages=("es",),
            )
        )
    return candidates, vacancies
