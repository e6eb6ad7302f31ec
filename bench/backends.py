"""Local versus Dask on the same data: one shortlist over a partitioned JSON Lines file.

Run as ``python -m bench.backends [--candidates N] [--vacancies M]``; prints one JSON
object. Both backends read the same file in the same partitions and must give the same
shortlists (checked). Dask runs on a ``LocalCluster`` of 2 single-threaded worker
processes on this machine: the same cores as the local run, so this measures what the
distribution costs, not what more machines would bring.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path


def _write_jsonl(path: Path, candidates) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for c in candidates:
            record = asdict(c)
            record["skills"] = [s["text"] for s in record["skills"]]
            record = {k: v for k, v in record.items() if v not in (None, (), [])}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def measure(n_candidates: int, n_vacancies: int, *, top_k: int = 10, rows: int = 10_000) -> dict:
    from bench.population import generate
    from matcher.backends import EngineSpec, LocalBackend
    from matcher.io import load_engine, scan_candidates

    engine = load_engine()
    candidates, vacancies = generate(
        engine.taxonomy, n_candidates=n_candidates, n_vacancies=n_vacancies
    )
    vb = engine.encode_vacancies(vacancies)
    out: dict = {
        "section": "backends",
        "problem": f"{n_candidates:,} candidates x {n_vacancies:,} vacancies, top-{top_k}, "
        f"partitions of {rows:,} from JSON Lines",
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candidates.jsonl"
        _write_jsonl(path, candidates)
        source = scan_candidates(path, rows_per_partition=rows)
        spec = EngineSpec()

        t0 = time.perf_counter()
        with LocalBackend() as local:
            want = local.shortlist_top(spec, vb, source.partitions, top_k=top_k)
        out["local_s"] = round(time.perf_counter() - t0, 2)

        from matcher.backends.dask import DaskBackend

        t0 = time.perf_counter()
        with DaskBackend(n_workers=2, threads_per_worker=1) as dask:
            started = time.perf_counter()
            got = dask.shortlist_top(spec, vb, source.partitions, top_k=top_k)
        out["dask_local_cluster_s"] = round(time.perf_counter() - t0, 2)
        out["dask_without_cluster_start_s"] = round(time.perf_counter() - started, 2)
    same = all(got.result(j) == want.result(j) for j in range(len(vb)))
    if not same:
        raise AssertionError("Dask and local shortlists differ")
    out["dask_over_local_x"] = round(out["dask_local_cluster_s"] / out["local_s"], 2)
    out["same_shortlists"] = 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backends")
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--vacancies", type=int, default=2_000)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.candidates, args.vacancies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
