"""The execution backend contract: final template methods over a few hooks.

A backend answers one question: how do per-partition functions run? Subclasses
implement two hooks,

* :meth:`ExecutionBackend.scatter`: make a value (the encoded vacancies, the
  engine's recipe) available to every worker once, and
* :meth:`ExecutionBackend.map_partitions`: call a function on every item,
  yielding ``(position, result)`` as each one finishes, in any order,

and optionally :meth:`ExecutionBackend.close`. The public methods built on them
(:meth:`~ExecutionBackend.run_partitions`, :meth:`~ExecutionBackend.shortlist_top`,
:meth:`~ExecutionBackend.matches`) are final: a subclass that overrides one is
refused when it is defined, so scoring and merging are the same on every backend.
The base class opens no cluster, pool or connection of its own.

Workers build the engine themselves from an :class:`EngineSpec` (taxonomy folder,
optional model), once per process, and read their own partition of the input file
(:class:`~matcher.io.InputPartition`); only these small descriptions travel.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, final

from matcher.exceptions import MatcherError

if TYPE_CHECKING:
    import pandas as pd

    from matcher.engine import MatchEngine
    from matcher.features import VacancyBatch
    from matcher.profiles import Candidate
    from matcher.ranking import TopK

__all__ = [
    "BACKENDS",
    "BackendError",
    "EngineSpec",
    "ExecutionBackend",
    "MemoryPartition",
    "PartitionSource",
    "get_backend",
    "memory_partitions",
]

#: Backend names accepted by :func:`get_backend` and ``reintegra ... --backend``.
BACKENDS = ("local", "dask")


class BackendError(MatcherError):
    """A backend cannot be used: its extra is not installed, or its cluster cannot be reached."""

    code = "backend_unavailable"


@dataclass(frozen=True)
class EngineSpec:
    """How to build a :class:`~matcher.engine.MatchEngine`: what a worker receives instead of one.

    Parameters
    ----------
    taxonomy : str, optional
        Fixtures folder (default: the shipped one).
    model : str, optional
        A learnt scorer's folder or ``model.json`` (default: the documented weights).

    :meth:`build` keeps the engines it built, per process and keyed by these
    fields, so each worker process builds an engine once however many partitions it
    scores (building one reads and indexes the whole taxonomy).
    """

    taxonomy: str | None = None
    model: str | None = None

    def build(self) -> MatchEngine:
        """The engine for this spec, built on first use in this process."""
        with _ENGINE_LOCK:
            return _build_engine(self)


_ENGINE_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _build_engine(spec: EngineSpec) -> MatchEngine:
    from matcher import io

    return io.load_engine(spec.taxonomy, model_path=spec.model)  # type: ignore[no-any-return]


class PartitionSource(Protocol):
    """What a per-partition task reads its candidates from (a file slice, or a list slice)."""

    @property
    def index(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def length(self) -> int: ...

    def load(self, ids: frozenset[str] | None = None) -> list[Candidate]: ...


@dataclass(frozen=True)
class MemoryPartition:
    """Candidates already in memory, as a partition (shipped to the worker with the task).

    For callers that hold their candidates (the API, tests, ``select_cohort``); the
    command line partitions files instead (:class:`~matcher.io.InputPartition`).
    """

    index: int
    offset: int
    candidates: tuple[Candidate, ...]

    @property
    def length(self) -> int:
        return len(self.candidates)

    def load(self, ids: frozenset[str] | None = None) -> list[Candidate]:
        return [c for c in self.candidates if ids is None or c.id in ids]


def memory_partitions(
    candidates: Sequence[Candidate], rows_per_partition: int | None = None
) -> list[MemoryPartition]:
    """Consecutive slices of ``candidates`` (one slice when ``rows_per_partition`` is ``None``).

    >>> [(p.index, p.offset, p.length) for p in memory_partitions(list("abcde"), 2)]
    [(0, 0, 2), (1, 2, 2), (2, 4, 1)]
    """
    size = max(1, rows_per_partition or len(candidates) or 1)
    return [
        MemoryPartition(k, lo, tuple(candidates[lo : lo + size]))
        for k, lo in enumerate(range(0, len(candidates), size))
    ]


def apply_to_partition(
    partition: PartitionSource,
    *,
    task: Callable[..., Any],
    engine: MatchEngine | EngineSpec,
    vb: VacancyBatch,
    params: Mapping[str, Any],
    offset_keyword: str | None = None,
    ids: frozenset[str] | None = None,
) -> Any:
    """Load the partition where this runs, then ``task(engine, vb, candidates, **params)``."""
    built = engine.build() if isinstance(engine, EngineSpec) else engine
    extra = {offset_keyword: partition.offset} if offset_keyword else {}
    return task(built, vb, partition.load(ids), **params, **extra)


_FINAL = ("run_partitions", "shortlist_top", "matches", "__enter__", "__exit__")


class ExecutionBackend(abc.ABC):
    """How per-partition functions run; subclasses implement :meth:`scatter` and
    :meth:`map_partitions` (and :meth:`close` when they hold resources).

    Use a backend as a context manager, so that whatever it opened is closed.
    """

    #: The name ``--backend`` knows it by.
    name: str = ""

    #: Whether tasks run in the calling process (so they may be handed objects already
    #: in memory, such as the candidates a validation pass has just parsed).
    in_process: bool = False

    #: Threads one task may use for its own array work (the search of a shortlist).
    #: A backend that runs tasks side by side on the same cores keeps this at 1.
    threads_per_task: int = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [m for m in _FINAL if m in vars(cls)]
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}: these methods are final; "
                "implement the hooks scatter() and map_partitions() instead"
            )

    # ------------------------------------------------------------------ hooks
    @abc.abstractmethod
    def scatter(self, value: Any) -> Any:
        """Send ``value`` to every worker once; return what tasks are given in its place."""

    @abc.abstractmethod
    def map_partitions(
        self, func: Callable[..., Any], items: Sequence[Any], /, **shared: Any
    ) -> Iterator[tuple[int, Any]]:
        """``func(item, **shared)`` for every item: ``(position in items, result)`` pairs,
        yielded as they finish (in any order). ``shared`` values come from :meth:`scatter`
        or are small; an exception in a task is raised here."""

    def close(self) -> None:  # noqa: B027 (a hook with a default: nothing to release)
        """Release what the backend opened (nothing by default)."""

    # --------------------------------------------------------- final methods
    @final
    def __enter__(self) -> ExecutionBackend:
        return self

    @final
    def __exit__(self, *exc: object) -> None:
        self.close()

    @final
    def run_partitions(
        self,
        func: Callable[..., Any],
        engine: MatchEngine | EngineSpec,
        vb: VacancyBatch,
        partitions: Sequence[PartitionSource],
        *,
        offset_keyword: str | None = None,
        ids: frozenset[str] | None = None,
        **params: Any,
    ) -> Iterator[tuple[int, Any]]:
        """``func(engine, vb, candidates, **params)`` on every partition, as each finishes.

        Yields ``(partition.index, result)``. The engine (or its spec) and ``vb`` are
        scattered once; each task loads its own partition (only the candidates in
        ``ids``, when given). With ``offset_keyword``, ``func`` also receives the
        partition's first global row under that name.
        """
        if not partitions:
            return
        shared = {
            "task": func,
            "engine": self.scatter(engine),
            "vb": self.scatter(vb),
            "params": dict(params),
            "offset_keyword": offset_keyword,
            "ids": ids,
        }
        for position, result in self.map_partitions(apply_to_partition, partitions, **shared):
            yield partitions[position].index, result

    @final
    def shortlist_top(
        self,
        engine: MatchEngine | EngineSpec,
        vb: VacancyBatch,
        partitions: Sequence[PartitionSource],
        *,
        top_k: int,
        done: Mapping[int, TopK] | None = None,
        on_partial: Callable[[int, TopK], None] | None = None,
    ) -> TopK:
        """The merged top ``top_k`` per vacancy over every partition.

        ``done`` holds partials already computed (a resumed run): their partitions are
        not scored again. ``on_partial(index, partial)`` is called as each new partial
        arrives (to save it, or to advance a progress bar).
        """
        from matcher.batch import shortlist_partition
        from matcher.ranking import TopK

        done = done or {}
        acc = TopK(len(vb), top_k)
        for partial in done.values():
            acc.merge(partial)
        todo = [p for p in partitions if p.index not in done]
        for index, partial in self.run_partitions(
            shortlist_partition, engine, vb, todo, top_k=top_k, n_threads=self.threads_per_task
        ):
            acc.merge(partial)
            if on_partial is not None:
                on_partial(index, partial)
        return acc

    @final
    def matches(
        self,
        engine: MatchEngine | EngineSpec,
        vb: VacancyBatch,
        partitions: Sequence[PartitionSource],
        *,
        top_k: int,
        lang: str = "es",
        ids: frozenset[str] | None = None,
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """Explained matches (:data:`~matcher.batch.MATCHES_COLUMNS`) of every partition.

        Yields ``(partition.index, frame)`` as partitions finish; partitions are
        independent, and their frames in index order are the whole result.
        """
        from matcher.batch import matches_partition

        yield from self.run_partitions(
            matches_partition, engine, vb, partitions, ids=ids, top_k=top_k, lang=lang
        )


def get_backend(
    name: str = "local",
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    timeout: float = 10.0,
) -> ExecutionBackend:
    """The backend called ``name``: ``"local"`` (default) or ``"dask"``.

    ``workers`` is the number of local processes (``local``) or of ``LocalCluster``
    workers (``dask`` without ``scheduler``). ``dask`` needs the ``dask`` extra; without
    it a :class:`BackendError` says ``pip install 'reintegra[dask]'``.
    """
    if name == "local":
        from matcher.backends.local import LocalBackend

        if scheduler is not None:
            raise BackendError("--scheduler needs --backend dask")
        return LocalBackend(workers=workers or 1)
    if name == "dask":
        from matcher.backends.dask import DaskBackend

        return DaskBackend(scheduler, n_workers=workers, timeout=timeout)
    raise BackendError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
