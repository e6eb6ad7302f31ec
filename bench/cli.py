"""The whole command-line run a national register would make, timed as a user times it.

Run as ``python -m bench.cli [--candidates N] [--vacancies M]``; prints one JSON object.
A synthetic population (:mod:`bench.population`: ESCO profiles written with typos and
without accents, no real person) is written to JSON Lines, then
``reintegra shortlist --chunk-size N --top-k 10`` runs as its own process: reading,
validating, normalising every skill mention, the search and the explained CSV, from
start to exit. Wall time and the process's peak memory are reported.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.backends import _write_jsonl


def _write_vacancies(path: Path, vacancies) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for v in vacancies:
            record = asdict(v)
            for key in ("required_skills", "optional_skills"):
                record[key] = [s["text"] for s in record[key]]
            record = {k: val for k, val in record.items() if val not in (None, (), [], "")}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def measure(n_candidates: int, n_vacancies: int, *, top_k: int = 10) -> dict:
    from bench.population import generate
    from matcher.io import load_taxonomy

    candidates, vacancies = generate(
        load_taxonomy(), n_candidates=n_candidates, n_vacancies=n_vacancies
    )
    mentions = sum(len(c.skills) for c in candidates)
    with tempfile.TemporaryDirectory() as tmp:
        people, jobs, out = Path(tmp) / "c.jsonl", Path(tmp) / "v.jsonl", Path(tmp) / "s.csv"
        _write_jsonl(people, candidates)
        _write_vacancies(jobs, vacancies)
        del candidates, vacancies
        command = [
            sys.executable,
            "-m",
            "matcher.cli",
            "shortlist",
            "--candidates",
            str(people),
            "--vacancies",
            str(jobs),
            "--top-k",
            str(top_k),
            "--chunk-size",
            str(n_candidates),
            "--out",
            str(out),
            "--quiet",
        ]
        t0 = time.perf_counter()
        subprocess.run(command, check=True)
        wall = time.perf_counter() - t0
        # The largest RSS of any child waited for: the command is the only big one.
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with out.open(encoding="utf-8") as handle:
            rows = sum(1 for _ in handle) - 1
    return {
        "section": "cli",
        "problem": f"{n_candidates:,} candidates ({mentions:,} skill mentions) x "
        f"{n_vacancies:,} vacancies, top-{top_k}, one partition, JSON Lines in, CSV out",
        "shortlist_cli_s": round(wall, 1),
        "shortlist_cli_peak_mib": round(peak_kib / 1024, 0),
        "mentions_per_s": round(mentions / wall, 0),
        "shortlist_rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli")
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--vacancies", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.candidates, args.vacancies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
