"""The benchmark registry and report: what a section adds rows to."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

__all__ = ["ROOT", "SECTIONS", "Report", "Row", "fmt", "peak_rss_mb", "section", "timed"]

ROOT = Path(__file__).resolve().parent.parent

SECTIONS: dict[str, Callable[[Report], None]] = {}


def section(name: str) -> Callable[[Callable[[Report], None]], Callable[[Report], None]]:
    """Register ``fn(report)`` as the benchmark section ``name``."""

    def register(fn: Callable[[Report], None]) -> Callable[[Report], None]:
        SECTIONS[name] = fn
        return fn

    return register


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class Row:
    """One figure: what was measured, its value and unit, and on what problem size."""

    section: str
    metric: str
    value: float
    unit: str
    size: str
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    current: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def add(self, metric: str, value: float, unit: str, size: str, note: str = "") -> Row:
        row = Row(self.current, metric, float(value), unit, size, note)
        self.rows.append(row)
        print(f"  {metric}: {fmt(row.value)} {unit}  [{size}]" + (f"  {note}" if note else ""))
        sys.stdout.flush()
        return row


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall-clock seconds of one call of ``fn`` and its result."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def fmt(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 1e6:
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:.3g}"
