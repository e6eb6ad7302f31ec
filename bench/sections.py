"""Sections implemented as their own modules, reported through the same table.

``scale`` (shortlist N candidates x M vacancies) runs in a child process so that its
peak memory is its own; ``cli`` times the whole ``reintegra shortlist`` command on the
same size of input, as its own process; ``cohort`` times the cohort solver; ``api``
(shortlist latency under concurrent clients) starts its own server. ``cohort`` and
``api`` return rows in the report's own form (section, metric, value, unit, size, note).
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.report import ROOT, Report, section

_UNITS = (
    ("_per_s", "/s"),
    ("_s", "s"),
    ("_mib", "MiB"),
    ("speedup", "x"),
    ("_x", "x"),
)


def _child(report: Report, module: str) -> None:
    """Run ``python -m module`` (its memory is its own) and report its JSON figures."""
    done = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        report.add("failed", done.returncode, "exit code", "", done.stderr.strip()[-300:])
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    size = str(result.pop("problem", ""))
    result.pop("section", None)
    for key, value in result.items():
        if isinstance(value, int | float):
            unit = next((u for suffix, u in _UNITS if key.endswith(suffix)), "")
            report.add(key, value, unit, size)


@section("scale")
def scale(report: Report) -> None:
    _child(report, "bench.scale")


@section("cli")
def cli(report: Report) -> None:
    _child(report, "bench.cli")


@section("backends")
def backends(report: Report) -> None:
    try:
        import dask  # noqa: F401
    except ImportError as exc:
        report.add("skipped", 0, "", "", f"needs the dask extra: {exc}")
        return
    _child(report, "bench.backends")


def _add_rows(report: Report, rows: list[dict]) -> None:
    for row in rows:
        report.add(
            str(row["metric"]),
            float(row["value"]),
            str(row.get("unit", "")),
            str(row.get("size", "")),
            str(row.get("note", "")),
        )


@section("cohort")
def cohort(report: Report) -> None:
    from bench.cohort import run

    _add_rows(report, run())


@section("api")
def api(report: Report) -> None:
    try:
        from bench.api import run
    except ImportError as exc:  # the api extra is not installed
        report.add("skipped", 0, "", "", f"needs the api extra: {exc}")
        return
    _add_rows(report, run())
