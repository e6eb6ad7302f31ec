"""Benchmark of cohort selection at scale: 5,000 candidates x 300 vacancies, 1,000 openings.

:func:`run` returns figure rows (section, metric, value, unit, size) for ``bench/run.py``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

N_CANDIDATES, N_VACANCIES, OPENINGS = 5000, 300, 1000


def _problem(random_state: int = 0):
    from bench.population import generate
    from matcher.io import load_engine

    engine = load_engine()
    cands, vacs = generate(
        engine.taxonomy,
        n_candidates=N_CANDIDATES,
        n_vacancies=N_VACANCIES,
        random_state=random_state,
    )
    rng = np.random.default_rng(random_state)
    # Exactly OPENINGS openings in total, 1 to 8 per vacancy.
    caps = np.ones(N_VACANCIES, dtype=int)
    extra = rng.multinomial(OPENINGS - N_VACANCIES, np.full(N_VACANCIES, 1 / N_VACANCIES))
    caps += extra
    vacs = [replace(v, openings=int(c)) for v, c in zip(vacs, caps)]
    genders = rng.choice(["F", "M"], size=len(cands), p=[0.3, 0.7])
    years = rng.integers(1965, 2004, size=len(cands))
    cands = [replace(c, gender=str(g), birth_year=int(y)) for c, g, y in zip(cands, genders, years)]
    return engine, cands, vacs


def run() -> list[dict]:
    """Time :func:`matcher.cohort.select_cohort` end to end, plain and with a fairness floor."""
    from matcher.cohort import CohortOptions, select_cohort

    engine, cands, vacs = _problem()
    size = f"{N_CANDIDATES} candidates x {N_VACANCIES} vacancies, {OPENINGS} openings"
    rows = []
    for label, options in (
        ("plain", CohortOptions(min_score=0.3)),
        (
            "fair gender 0.8",
            CohortOptions(min_score=0.3, fairness_attribute="gender", min_impact_ratio=0.8),
        ),
    ):
        start = time.perf_counter()
        result = select_cohort(engine, cands, vacs, options)
        seconds = time.perf_counter() - start
        s = result.summary
        note = (
            f"solver {s['solver']}, {s['pairs_solved']} pairs, filled {s['filled']}, "
            f"total {s['total_score']:.2f}, greedy {s['greedy_total']:.2f}"
        )
        rows.append(
            {
                "section": "cohort",
                "metric": f"select_cohort {label}",
                "value": seconds,
                "unit": "s",
                "size": size,
                "note": note,
            }
        )
        for part in ("score", "solve"):
            rows.append(
                {
                    "section": "cohort",
                    "metric": f"{part} seconds {label}",
                    "value": s[f"{part}_seconds"],
                    "unit": "s",
                    "size": size,
                    "note": "part of select_cohort",
                }
            )
        rows.append(
            {
                "section": "cohort",
                "metric": f"filled {label}",
                "value": s["filled"],
                "unit": "openings",
                "size": size,
                "note": "",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
