"""Run the benchmarks, print a table and write ``bench/results.json``.

    python -m bench.run                   # every section
    python -m bench.run --only normalise  # one section (repeat --only for more)
    python -m bench.run --list            # the sections there are

A section is a function registered with :func:`section`; it receives a
:class:`Report` and adds rows to it. Adding a benchmark (pairs scored per
second, the cohort solver, API latency) is one more such function in its own
module, imported in :data:`SECTION_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path

from bench.report import ROOT, SECTIONS, Report, Row, fmt, peak_rss_mb, timed

RESULTS = Path(__file__).resolve().parent / "results.json"

#: Modules whose import registers sections, in report order.
SECTION_MODULES = ("bench.normalise", "bench.sections")


def _machine() -> dict[str, object]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        commit = ""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "commit": commit,
    }


def print_table(rows: list[Row]) -> None:
    headers = ("section", "metric", "value", "unit", "problem size")
    body = [(r.section, r.metric, fmt(r.value), r.unit, r.size) for r in rows]
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for b in body:
        cells = [b[0].ljust(widths[0]), b[1].ljust(widths[1]), b[2].rjust(widths[2])]
        cells += [b[3].ljust(widths[3]), b[4]]
        print("  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", metavar="SECTION", help="run only this section")
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    for module in SECTION_MODULES:
        importlib.import_module(module)
    if args.list:
        print("\n".join(SECTIONS))
        return 0
    names = args.only or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; there are: {', '.join(SECTIONS)}")
    machine = _machine()
    print(
        f"reintegra bench: python {machine['python']}, {machine['cpus_usable']} usable CPUs, "
        f"load {machine['load_average']}"
    )
    report = Report()
    for name in names:
        report.current = name
        print(f"[{name}]")
        seconds, _ = timed(partial(SECTIONS[name], report))
        report.seconds[name] = round(seconds, 2)
        report.peak_rss_mb[name] = round(peak_rss_mb(), 1)
        report.add("peak RSS", peak_rss_mb(), "MiB", "whole process so far")
    print()
    print_table(report.rows)
    result = {
        "machine": machine,
        "sections": names,
        "seconds": report.seconds,
        "peak_rss_mb": report.peak_rss_mb,
        "rows": [asdict(r) for r in report.rows],
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
