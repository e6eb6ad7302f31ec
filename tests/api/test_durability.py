"""Kill the server (SIGKILL) in the middle of a bulk import: after a restart every record is
either fully stored or absent, and re-running the import completes it without duplicates."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import httpx
import pytest

from api.demo import free_port
from tests.api.conftest import BACKENDS, demo_records, postgres_url, reset_database

BATCH = 25
COPIES = 4  # 4 x 100 demo candidates = 400 records in 16 import requests

pytestmark = pytest.mark.slow


def _serve(database_url: str, port: int, engine) -> None:
    import uvicorn

    from api.main import create_app
    from api.settings import Settings

    settings = Settings(database_url=database_url, port=port, log_level="WARNING")
    app = create_app(settings, engine=engine)
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


class Server:
    """A uvicorn server in its own process, forked from the test so it starts with a warm engine.

    (``reintegra serve`` is the same ``create_app`` under uvicorn; it only loads the engine itself.)
    """

    def __init__(self, database_url: str, engine) -> None:
        self.database_url = database_url
        self.engine = engine
        self.port = free_port()
        self.proc: multiprocessing.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.proc = ctx.Process(
            target=_serve, args=(self.database_url, self.port, self.engine), daemon=True
        )
        self.proc.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.is_alive(), "server died at start"
            time.sleep(0.1)
        raise AssertionError("server did not become ready")

    def kill(self) -> None:
        assert self.proc is not None and self.proc.pid is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.join(timeout=10)
        assert self.proc.exitcode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=10)


def _records() -> list[dict]:
    base = demo_records("candidates", 100)
    out = []
    for copy in range(COPIES):
        for rec in base:
            out.append(rec | {"id": f"K{copy}-{rec['id']}"})
    return out


def _import(
    url: str, key: str, records: list[dict], acked: list[str], stop: threading.Event
) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        for i in range(0, len(records), BATCH):
            if stop.is_set():
                return
            batch = records[i : i + BATCH]
            try:
                got = c.post("/v1/candidates/import", json={"candidates": batch})
            except httpx.HTTPError:
                return  # the server died under us
            assert got.status_code == 200, got.text
            acked.extend(r["id"] for r in batch)


def _stored(url: str, key: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        offset = 0
        while True:
            page = c.get("/v1/candidates", params={"limit": 500, "offset": offset}).json()
            for rec in page:
                assert rec["id"] not in out, f"duplicate {rec['id']}"
                out[rec["id"]] = rec
            if len(page) < 500:
                return out
            offset += 500


def _same(source: dict, stored: dict) -> bool:
    for key, value in source.items():
        got = stored.get(key)
        if key == "skills":
            got = [s["text"] if s.get("years") is None else s for s in got]
        if isinstance(value, int | float) and not isinstance(value, bool):
            if abs(float(got) - float(value)) > 1e-9:
                return False
        elif got != value:
            return False
    return len(stored["skills_normalised"]) == len(source.get("skills", []))


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_during_a_bulk_import_leaves_whole_records_and_the_rerun_completes(
    backend, tmp_path, engine
):
    from api.cli import create_user

    url = f"sqlite:///{tmp_path / 'kill.db'}" if backend == "sqlite" else postgres_url()
    if backend != "sqlite":
        reset_database(url)
    engine.normaliser.match(["warm-up"], kind="skill", top_k=1)
    os.environ["REINTEGRA_DATABASE_URL"] = url
    try:
        key = create_user(name="importer", role="caseworker", employer_id=None)[1]
    finally:
        del os.environ["REINTEGRA_DATABASE_URL"]
    records = _records()
    server = Server(url, engine)
    server.start()
    try:
        acked: list[str] = []
        stop = threading.Event()
        worker = threading.Thread(target=_import, args=(server.url, key, records, acked, stop))
        worker.start()
        deadline = time.monotonic() + 60
        while len(acked) < 3 * BATCH and time.monotonic() < deadline:
            time.sleep(0.01)
        # The client sends the next batch at once: the kill lands while it is being written.
        server.kill()
        stop.set()
        worker.join(timeout=60)
        assert 3 * BATCH <= len(acked) < len(records), "the kill must land mid-import"

        server.start()
        stored = _stored(server.url, key)
        source = {r["id"]: r for r in records}
        assert set(acked) <= set(stored), "an acknowledged batch was lost"
        assert set(stored) <= set(source)
        torn = [cid for cid, rec in stored.items() if not _same(source[cid], rec)]
        assert not torn, f"partially stored records: {torn[:5]}"
        assert len(stored) < len(records)

        done: list[str] = []
        _import(server.url, key, records, done, threading.Event())
        stored = _stored(server.url, key)
        assert len(done) == len(records)
        assert set(stored) == set(source) and len(stored) == len(records)
        assert all(_same(source[cid], rec) for cid, rec in stored.items())
    finally:
        server.stop()
