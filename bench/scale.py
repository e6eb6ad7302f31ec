"""Scale of the matching core: shortlist N candidates x M vacancies, memory and pairs/s.

Run as ``python -m bench.scale [--candidates N] [--vacancies M]``; prints one JSON
object. ``bench.run`` starts it in a child process so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(
    n_candidates: int, n_vacancies: int, *, top_k: int = 10, naive_pairs: int = 20_000
) -> dict:
    from bench.population import generate
    from matcher.io import load_engine
    from matcher.ranking import TopK
    from matcher.reference import ReferenceScorer

    t0 = time.perf_counter()
    engine = load_engine()
    build_s = time.perf_counter() - t0
    candidates, vacancies = generate(
        engine.taxonomy, n_candidates=n_candidates, n_vacancies=n_vacancies
    )
    n_mentions = sum(len(c.skills) for c in candidates)

    t0 = time.perf_counter()
    vb = engine.encode_vacancies(vacancies)
    encode_vac_s = time.perf_counter() - t0

    # Encode (normalise) and score chunk by chunk as `reintegra shortlist` does; timed apart.
    acc = TopK(n_vacancies, top_k)
    encode_s = score_s = 0.0
    chunk = 5000
    for lo in range(0, n_candidates, chunk):
        part = candidates[lo : lo + chunk]
        t0 = time.perf_counter()
        cb = engine.encode_candidates(part)
        encode_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = max(1, 2_000_000 // n_vacancies)
        for b in range(0, len(part), rows):
            scored = engine.score(cb.rows(slice(b, b + rows)), vb)
            acc.update(scored.scores, cb.ids[b : b + rows], scored.eligible)
        score_s += time.perf_counter() - t0
    pairs = n_candidates * n_vacancies

    # The naive baseline: the per-pair reference loop on a random sample of the same pairs.
    sample = candidates[: max(1, min(len(candidates), naive_pairs // n_vacancies + 1))]
    cb = engine.encode_candidates(sample)
    ref = ReferenceScorer(engine.space, engine.regions, engine.config, engine.scorer)
    cand, vac = ref.prepare(cb, vb)
    rng = np.random.default_rng(0)
    idx = [(int(rng.integers(len(cand))), int(rng.integers(len(vac)))) for _ in range(naive_pairs)]
    t0 = time.perf_counter()
    ref.score_pairs(cand, vac, idx)
    naive_s = time.perf_counter() - t0
    naive_rate = naive_pairs / naive_s
    fast_rate = pairs / score_s
    # Unused by the result, but keeps the shortlist honest: it must be complete.
    assert all(len(acc.result(j)) <= top_k for j in range(n_vacancies))
    return {
        "section": "scale",
        "problem": f"{n_candidates:,} candidates x {n_vacancies:,} vacancies, top-{top_k}, "
        f"{n_mentions:,} skill mentions",
        "engine_build_s": round(build_s, 2),
        "encode_vacancies_s": round(encode_vac_s, 2),
        "encode_candidates_s": round(encode_s, 2),
        "mentions_per_s": round(n_mentions / encode_s),
        "score_topk_s": round(score_s, 2),
        "pairs_per_s": round(fast_rate),
        "naive_pairs_per_s": round(naive_rate),
        "naive_sample_pairs": naive_pairs,
        "speedup_vs_naive": round(fast_rate / naive_rate, 1),
        "peak_mib": round(_peak_mib()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--vacancies", type=int, default=2_000)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.candidates, args.vacancies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
