"""Scale of the matching core: N candidates x M vacancies, top-k per vacancy, full features.

Run as ``python -m bench.scale [--candidates N] [--vacancies M]``; prints one JSON
object. ``bench.run`` starts it in a child process so that its memory is its own.

Measured in the same run, on the same encoded data:

* ``fast``: :func:`matcher.search.top_candidates` (exact, pruned), 2 workers (forked
  processes, as the CLI runs it);
* ``anchor``: plain skill overlap (candidate skills x required skills, no related
  credit, no other feature) through ``sparse_dot_topn`` with a fused top-k, 2
  threads: the hardware limit the issue measures against;
* ``grid``: the exhaustive vectorised path (every pair's features), on a sample
  of candidates, extrapolated;
* ``naive``: the per-pair Python reference loop on sampled pairs, extrapolated.

The fast result is checked against the exhaustive one on a sample of vacancies.
Peak memory is sampled from ``/proc`` while scoring (see ``_RssSampler``). The people are
generated and normalised in a child process that hands over the encoded batches, so
this process's peak is the engine, the encoded data and the search.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_SAMPLER = r"""
import os, select, sys

def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0

def tree(pid):
    children = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children.extend(handle.read().split())
    except OSError:
        pass
    return pss(pid) + sum(pss(c) for c in children if int(c) != os.getpid())

pid, peak = int(sys.argv[1]), 0
print(tree(pid), flush=True)
while not select.select([sys.stdin], [], [], 0.02)[0]:
    peak = max(peak, tree(pid))
print(max(peak, tree(pid)), flush=True)
"""


class _RssSampler:
    """Peak memory of this process and its children while a block runs.

    The search may fork workers that share its memory copy-on-write: the sum of the
    processes' proportional set sizes (shared pages split between the processes that
    map them) counts every page once. The sampler is a separate small interpreter,
    reading every 20 ms: a sampling thread would make the search keep to threads (it
    forks only from a process with no other thread), and a forked sampler would share
    (and so halve) the pages it measures.
    """

    def __enter__(self) -> _RssSampler:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SAMPLER, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.start = int(self._proc.stdout.readline())  # type: ignore[union-attr]
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._proc.communicate("stop\n")
        self.peak = int(out.split()[-1])


def measure(
    n_candidates: int,
    n_vacancies: int,
    *,
    top_k: int = 10,
    threads: int = 2,
    naive_pairs: int = 20_000,
    grid_candidates: int = 2_000,
    check_vacancies: int = 50,
) -> dict:
    from sparse_dot_topn import sp_matmul_topn

    from matcher.io import load_engine
    from matcher.ranking import TopK
    from matcher.reference import ReferenceScorer
    from matcher.search import SearchStats, top_candidates

    engine = load_engine()
    # People are generated and normalised in a child process, which hands over only the
    # encoded batches: the peak memory measured here is the engine, the encoded data and
    # the search, as in a run that reads one partition at a time.
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "encoded.pickle"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.scale",
                "--encode-to",
                str(target),
                "--candidates",
                str(n_candidates),
                "--vacancies",
                str(n_vacancies),
            ],
            check=True,
        )
        with target.open("rb") as handle:
            cb, vb, few, n_mentions, encode_s = pickle.load(handle)
    gc.collect()
    pairs = n_candidates * n_vacancies

    stats = SearchStats()
    with _RssSampler() as rss:
        t0 = time.perf_counter()
        fast = top_candidates(engine, cb, vb, top_k=top_k, n_threads=threads, stats=stats)
        fast_s = time.perf_counter() - t0

    # The anchor: plain overlap, fused top-k, as the issue measures it.
    skills_t = cb.skills.T.tocsr()
    with _RssSampler() as anchor_rss:
        t0 = time.perf_counter()
        sp_matmul_topn(vb.required, skills_t, top_n=top_k, n_threads=threads)
        anchor_s = time.perf_counter() - t0

    # Exhaustive vectorised features on a sample of candidates, extrapolated.
    sample = cb.rows(slice(0, min(grid_candidates, n_candidates)))
    t0 = time.perf_counter()
    for lo in range(0, len(sample), 500):
        engine.score(sample.rows(slice(lo, lo + 500)), vb)
    grid_rate = len(sample) * n_vacancies / (time.perf_counter() - t0)

    # The naive baseline: the per-pair reference loop on random pairs.
    few_cb = engine.encode_candidates(few)
    ref = ReferenceScorer(engine.space, engine.regions, engine.config, engine.scorer)
    cand, vac = ref.prepare(few_cb, vb)
    rng = np.random.default_rng(0)
    idx = [(int(rng.integers(len(cand))), int(rng.integers(len(vac)))) for _ in range(naive_pairs)]
    t0 = time.perf_counter()
    ref.score_pairs(cand, vac, idx)
    naive_rate = naive_pairs / (time.perf_counter() - t0)

    # Exactness on a sample of vacancies: every candidate scored for them.
    cols = rng.choice(n_vacancies, size=min(check_vacancies, n_vacancies), replace=False)
    sub = vb.take(cols)
    want = TopK(len(cols), top_k)
    for lo in range(0, n_candidates, 20_000):
        part = cb.rows(slice(lo, lo + 20_000))
        scored = engine.score(part, sub)
        want.update(scored.scores, part.ids, scored.eligible)
    for p, j in enumerate(cols):
        got, exp = fast.result(int(j)), want.result(p)
        if [c for c, _ in got] != [c for c, _ in exp] or not np.allclose(
            [s for _, s in got], [s for _, s in exp], rtol=0, atol=1e-9
        ):
            raise AssertionError(f"fast path differs from the exhaustive one for {vb.ids[j]}")

    fast_rate = pairs / fast_s
    return {
        "section": "scale",
        "problem": f"{n_candidates:,} candidates x {n_vacancies:,} vacancies, top-{top_k}, "
        f"{n_mentions:,} skill mentions, {threads} workers",
        "normalise_encode_s": round(encode_s, 2),
        "mentions_per_s": round(n_mentions / encode_s),
        "fast_score_topk_s": round(fast_s, 2),
        "fast_pairs_per_s": round(fast_rate),
        "fast_pairs_scored_exactly": stats.scored,
        "fast_peak_rss_mib": round(rss.peak / 2**20),
        "fast_rss_growth_mib": round((rss.peak - rss.start) / 2**20),
        "anchor_overlap_topk_s": round(anchor_s, 3),
        "anchor_rss_growth_mib": round((anchor_rss.peak - anchor_rss.start) / 2**20),
        "fast_over_anchor_time_x": round(fast_s / anchor_s, 1),
        "grid_pairs_per_s": round(grid_rate),
        "grid_extrapolated_s": round(pairs / grid_rate, 1),
        "speedup_vs_grid": round(fast_rate / grid_rate, 1),
        "naive_pairs_per_s": round(naive_rate),
        "naive_extrapolated_s": round(pairs / naive_rate),
        "speedup_vs_naive": round(fast_rate / naive_rate, 1),
        "checked_vacancies_equal_exhaustive": len(cols),
        "process_peak_mib": round(_peak_mib()),
    }


def encode_to(path: str, n_candidates: int, n_vacancies: int) -> None:
    """Generate the population, normalise it, and pickle the encoded batches to ``path``."""
    from bench.population import generate
    from matcher.features import CandidateBatch
    from matcher.io import load_engine

    engine = load_engine()
    candidates, vacancies = generate(
        engine.taxonomy, n_candidates=n_candidates, n_vacancies=n_vacancies
    )
    n_mentions = sum(len(c.skills) for c in candidates)
    t0 = time.perf_counter()
    vb = engine.encode_vacancies(vacancies)
    cb = CandidateBatch.concat(
        [
            engine.encode_candidates(candidates[lo : lo + 5000], mentions=False)
            for lo in range(0, n_candidates, 5000)
        ]
    )
    encode_s = time.perf_counter() - t0
    with open(path, "wb") as handle:
        pickle.dump((cb, vb, candidates[:200], n_mentions, encode_s), handle, protocol=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--vacancies", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--encode-to", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.encode_to:
        encode_to(args.encode_to, args.candidates, args.vacancies)
        return 0
    print(json.dumps(measure(args.candidates, args.vacancies, threads=args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
