"""Backends under test: local, a 2-worker LocalCluster, and a cluster of separate processes.

The clusters are started once per session (each worker builds its engine once, on its
first task) and closed at the end; the separate-process one is started with the
``dask scheduler`` / ``dask worker`` programs on 127.0.0.1, as a user's cluster would be.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from matcher.io import default_fixtures_dir

DEMO = default_fixtures_dir() / "demo"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def dask_client():
    """A client of a ``LocalCluster`` with 2 worker processes (1 thread each)."""
    import distributed  # installed by the test extra: never skipped

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def scheduler_address(tmp_path_factory):
    """``tcp://127.0.0.1:PORT`` of a scheduler and 2 workers started as separate processes."""
    folder = tmp_path_factory.mktemp("cluster")
    file = folder / "scheduler.json"
    log = (folder / "cluster.log").open("wb")
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(file),
            # If this test session is killed, the cluster must not outlive it for long.
            "--idle-timeout",
            "1800",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    workers = None
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written whole, but give the writer a moment
        address = json.loads(file.read_text("utf-8"))["address"]
        workers = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--death-timeout",
                "60",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        if workers is not None:
            _stop(workers)
        _stop(scheduler)
        log.close()


@pytest.fixture(scope="session")
def inputs(tmp_path_factory):
    """The demo's 300 candidates x 25 vacancies, as JSON Lines files."""
    folder = tmp_path_factory.mktemp("inputs")
    for name in ("candidates.jsonl", "vacancies.jsonl"):
        (folder / name).write_bytes((DEMO / name).read_bytes())
    return folder
