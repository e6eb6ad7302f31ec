"""Execution backends: *how* the engine's per-partition functions run.

The scoring core states *what* to compute, one partition of candidates at a time
(:func:`matcher.batch.shortlist_partition`, :func:`matcher.batch.matches_partition`,
:func:`matcher.cohort.cohort_partition`); a backend runs those functions over the
partitions of an input and hands the partial results back, in any order, to be
merged. Scoring never depends on the backend.

* :class:`LocalBackend` (the default) runs partitions in this process, or in a pool
  of local processes (``workers > 1``).
* :class:`~matcher.backends.dask.DaskBackend` runs them on a Dask cluster: an
  existing one (``scheduler="tcp://host:8786"``) or a ``LocalCluster``. It needs the
  ``dask`` extra (``pip install 'reintegra[dask]'``) and is imported only when asked
  for, through :func:`get_backend`.

>>> from matcher.backends import get_backend
>>> with get_backend("local") as backend:
...     sorted(i for i, _ in backend.map_partitions(abs, [-2, 1, -3]))
[0, 1, 2]
"""

from __future__ import annotations

from matcher.backends.base import (
    BackendError,
    EngineSpec,
    ExecutionBackend,
    MemoryPartition,
    get_backend,
    memory_partitions,
)
from matcher.backends.local import LocalBackend

__all__ = [
    "BackendError",
    "EngineSpec",
    "ExecutionBackend",
    "LocalBackend",
    "MemoryPartition",
    "get_backend",
    "memory_partitions",
]
