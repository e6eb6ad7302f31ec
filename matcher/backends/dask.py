"""Scale-out backend on Dask (``dask.distributed``): ``pip install 'reintegra[dask]'``.

Candidates are partitioned; each task names its partition (file, byte or row
range) and the worker reads it from storage it shares with the client; the
encoded vacancies are scattered once to every worker; each worker process builds
its engine once from an :class:`~matcher.backends.base.EngineSpec`. Partial top-k
results come back as they finish and are merged on the client.

Dask is imported when a :class:`DaskBackend` is created, never when ``matcher`` is.

Examples
--------
On an existing cluster (``dask scheduler`` and ``dask worker tcp://HOST:8786``)::

    with DaskBackend("tcp://HOST:8786") as backend:
        top = backend.shortlist_top(EngineSpec(), vb, partitions, top_k=10)

Without an address, a ``LocalCluster`` of worker processes is started here and
closed with the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from matcher.backends.base import BackendError, ExecutionBackend

__all__ = ["DaskBackend", "import_distributed"]

EXTRA_HINT = "pip install 'reintegra[dask]'"


def import_distributed() -> Any:
    """The ``distributed`` module, or a :class:`BackendError` naming the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise BackendError(
            f"--backend dask needs the 'dask' extra, which is not installed: {EXTRA_HINT} ({exc})"
        ) from exc
    return distributed


class DaskBackend(ExecutionBackend):
    """Run partitions on a Dask cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Default: start a
        ``LocalCluster`` of ``n_workers`` processes, closed with the backend.
    client : distributed.Client, optional
        An existing client to use instead (not closed with the backend).
    n_workers, threads_per_worker : int, optional
        Size of the ``LocalCluster`` (ignored with ``scheduler`` or ``client``).
    timeout : float
        Seconds to wait for the scheduler before giving up with a :class:`BackendError`.
    max_in_flight : int, optional
        Tasks submitted at once (default: twice the cluster's threads, at least 4): the
        client holds at most that many unmerged results.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        client: Any = None,
        n_workers: int | None = None,
        threads_per_worker: int | None = 1,
        timeout: float = 10.0,
        max_in_flight: int | None = None,
    ) -> None:
        distributed = import_distributed()
        self._cluster = None
        self._owns_client = client is None
        self.max_in_flight = max_in_flight
        if client is not None:
            self.client = client
        elif scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
            except Exception as exc:  # connection refused, timeout, malformed address
                raise BackendError(
                    f"cannot connect to the Dask scheduler at {scheduler!r} within {timeout:g} s "
                    f"({exc.__class__.__name__}: {exc}); start one with `dask scheduler` and "
                    "`dask worker tcp://HOST:8786`, or leave out --scheduler to run on a local "
                    "cluster"
                ) from exc
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=True,
                dashboard_address=":0",
            )
            self.client = distributed.Client(self._cluster, set_as_default=False)

    def _window(self) -> int:
        if self.max_in_flight:
            return self.max_in_flight
        threads = sum(self.client.nthreads().values()) or 1
        return max(4, 2 * threads)

    def scatter(self, value: Any) -> Any:
        return self.client.scatter(value, broadcast=True, hash=False)

    def map_partitions(
        self, func: Callable[..., Any], items: Sequence[Any], /, **shared: Any
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        pending = iter(enumerate(items))
        position: dict[Any, int] = {}

        def submit() -> Any:
            nxt = next(pending, None)
            if nxt is None:
                return None
            future = self.client.submit(func, nxt[1], pure=False, **shared)
            position[future] = nxt[0]
            return future

        first = [f for f in (submit() for _ in range(self._window())) if f is not None]
        queue = as_completed(first, loop=self.client.loop)
        try:
            for future in queue:
                result = future.result()
                index = position.pop(future)
                future.release()
                new = submit()
                if new is not None:
                    queue.add(new)
                yield index, result
        finally:
            for future in position:
                future.cancel()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
