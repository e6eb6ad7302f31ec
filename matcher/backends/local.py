"""The default backend: partitions run in this process, or in a pool of local processes."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from matcher.backends.base import ExecutionBackend

__all__ = ["LocalBackend"]

#: Values scattered to a process pool, by key: each pool process receives them once, in its
#: initializer (processes are spawned, not forked: forking a process that runs threads can
#: leave a child waiting forever on a lock held by a thread it did not inherit).
_SHARED: dict[int, Any] = {}
_KEYS = itertools.count()


@dataclass(frozen=True)
class _Shared:
    key: int


def _install(values: dict[int, Any]) -> None:
    _SHARED.update(values)


def _resolve(value: Any) -> Any:
    return _SHARED[value.key] if isinstance(value, _Shared) else value


def _pooled(func: Callable[..., Any], item: Any, shared: dict[str, Any]) -> Any:
    return func(item, **{k: _resolve(v) for k, v in shared.items()})


class LocalBackend(ExecutionBackend):
    """Run every partition here (``workers=1``, the default) or in ``workers`` processes.

    With one worker, partitions run one after the other in this process and share
    its engine: the result is the single-process result. A pool of processes pays
    off only on large inputs with several cores free: each process starts fresh and
    builds its engine once (a few seconds) before its first partition.

    >>> backend = LocalBackend()
    >>> list(backend.map_partitions(lambda x, *, add: x + add, [1, 2], add=10))
    [(0, 11), (1, 12)]
    """

    name = "local"

    def __init__(self, *, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.in_process = workers == 1
        self._keys: list[int] = []
        # In-process partitions run one at a time: let each use the cores it finds.
        self.threads_per_task = max(1, (os.cpu_count() or 1) // workers)

    def scatter(self, value: Any) -> Any:
        if self.workers == 1:
            return value
        key = next(_KEYS)
        _SHARED[key] = value
        self._keys.append(key)
        return _Shared(key)

    def map_partitions(
        self, func: Callable[..., Any], items: Sequence[Any], /, **shared: Any
    ) -> Iterator[tuple[int, Any]]:
        if self.workers == 1 or len(items) < 2:
            for position, item in enumerate(items):
                yield position, func(item, **{k: _resolve(v) for k, v in shared.items()})
            return
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        context = multiprocessing.get_context("spawn")
        values = {k: _SHARED[k] for k in self._keys}
        with ProcessPoolExecutor(
            min(self.workers, len(items)),
            mp_context=context,
            initializer=_install,
            initargs=(values,),
        ) as pool:
            pending = {pool.submit(_pooled, func, item, shared): i for i, item in enumerate(items)}
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        yield pending.pop(future), future.result()
            finally:
                for future in pending:
                    future.cancel()

    def close(self) -> None:
        for key in self._keys:
            _SHARED.pop(key, None)
        self._keys.clear()
