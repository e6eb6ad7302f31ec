"""Cohort selection: the optimal assignment against greedy per-vacancy selection.

    python -m evals.cohort

On the demo cohort and on a generated 2,000 x 150 instance, prints the total score and
the openings filled by the optimal assignment (matcher.assign) and by greedy selection
(vacancy by vacancy, the top of its shortlist still free), and by how much the optimal
one is better. Exits 1 if the optimal assignment is ever worse on either figure.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import numpy as np

from matcher.assign import CandidatePairs, assign, double_booked, greedy_assign, top_pairs

MIN_SCORE = 0.3


def _pairs(engine, candidates, vacancies, min_score: float) -> CandidatePairs:
    from matcher.batch import score_in_blocks

    vb = engine.encode_vacancies(vacancies)
    rows, cols, vals, offset = [], [], [], 0
    for block, scored in score_in_blocks(engine, candidates, vb):
        r, c = np.nonzero(scored.eligible & (scored.scores >= min_score))
        rows.append(r + offset)
        cols.append(c)
        vals.append(scored.scores[r, c])
        offset += len(block)
    return CandidatePairs(
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        len(candidates),
        len(vacancies),
    )


def compare(name: str, pairs: CandidatePairs, caps: np.ndarray) -> dict[str, object]:
    """Optimal and greedy figures of one instance."""
    start = time.perf_counter()
    best = assign(top_pairs(pairs, int(caps.sum())), caps)
    seconds = time.perf_counter() - start
    greedy = greedy_assign(pairs, caps)
    return {
        "instance": name,
        "candidates": pairs.n_candidates,
        "vacancies": pairs.n_vacancies,
        "openings": int(caps.sum()),
        "optimal_total": best.total,
        "greedy_total": greedy.total,
        "optimal_filled": best.filled,
        "greedy_filled": greedy.filled,
        "double_booked": double_booked(pairs, caps),
        "solve_seconds": seconds,
    }


def instances():
    from bench.population import generate
    from matcher.io import default_fixtures_dir, load_engine, read_candidates, read_vacancies

    engine = load_engine()
    demo = default_fixtures_dir() / "demo"
    cands = read_candidates(demo / "candidates.jsonl")
    vacs = read_vacancies(demo / "vacancies.jsonl")
    yield "demo 300 x 25", _pairs(engine, cands, vacs, MIN_SCORE), [v.openings for v in vacs]
    cands, vacs = generate(engine.taxonomy, n_candidates=2000, n_vacancies=150, random_state=6)
    vacs = [replace(v, region="") if k % 3 == 0 else v for k, v in enumerate(vacs)]
    yield "generated 2000 x 150", _pairs(engine, cands, vacs, MIN_SCORE), [v.openings for v in vacs]


def main() -> int:
    rows = [compare(name, pairs, np.array(caps)) for name, pairs, caps in instances()]
    print(f"Cohort selection: optimal vs greedy per-vacancy (min score {MIN_SCORE})")
    print(
        "| instance | openings | optimal total | greedy total | better by | optimal filled "
        "| greedy filled | filled gain | greedy double-books | solve s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for r in rows:
        gain = r["optimal_total"] - r["greedy_total"]  # type: ignore[operator]
        pct = 100 * gain / r["greedy_total"] if r["greedy_total"] else 0.0  # type: ignore[operator]
        print(
            f"| {r['instance']} | {r['openings']} | {r['optimal_total']:.3f} "
            f"| {r['greedy_total']:.3f} | {gain:+.3f} ({pct:+.1f}%) | {r['optimal_filled']} "
            f"| {r['greedy_filled']} | {r['optimal_filled'] - r['greedy_filled']:+d} "  # type: ignore[operator]
            f"| {r['double_booked']} | {r['solve_seconds']:.2f} |"
        )
        if gain < -1e-9 or r["optimal_filled"] < r["greedy_filled"]:  # type: ignore[operator]
            ok = False
            print(f"  WORSE than greedy on {r['instance']}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
