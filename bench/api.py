"""API latency: the shortlist endpoint over 10,000 stored candidates under concurrent load.

Starts ``reintegra serve`` on loopback with a fresh SQLite database, imports 10,000 candidates
through the API, then runs ``CLIENTS`` concurrent clients (asyncio + httpx) against the
shortlist of a few vacancies and against ``/healthz``, and reports p50/p95 of each. The first
(cold) shortlist after the import is reported on its own: it ranks all candidates; later
requests reuse the ranking until a candidate or the vacancy changes.

    python -c "from bench.api import run; print(run())"
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

__all__ = ["run"]

ROOT = Path(__file__).resolve().parent.parent
N_CANDIDATES = 10_000
CLIENTS = 20
REQUESTS = 2000
VACANCIES = ("V001", "V003", "V010", "V013", "V022")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _records(name: str) -> list[dict]:
    from matcher.io import default_fixtures_dir

    path = default_fixtures_dir() / "demo" / name
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _load(url: str, key: str, paths: list[str], clients: int) -> list[float]:
    latencies: list[float] = []
    queue = list(reversed(paths))
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as c:

        async def worker() -> None:
            while queue:
                path = queue.pop()
                start = time.perf_counter()
                got = await c.get(path)
                latencies.append((time.perf_counter() - start) * 1000)
                if got.status_code != 200:
                    raise RuntimeError(f"{path}: {got.status_code} {got.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def run(
    *,
    n_candidates: int = N_CANDIDATES,
    clients: int = CLIENTS,
    requests: int = REQUESTS,
    workers: int = 2,
) -> list[dict]:
    """Figure rows: section, metric, value, unit, size, note."""
    from api.cli import create_user

    rows: list[dict] = []
    size = f"{n_candidates:,} candidates, {clients} clients, {workers} server processes"
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("REINTEGRA_")}
        env |= {
            "REINTEGRA_DATABASE_URL": db_url,
            "REINTEGRA_PORT": str(port),
            "REINTEGRA_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
        os.environ["REINTEGRA_DATABASE_URL"] = db_url
        try:
            key = create_user(name="bench", role="caseworker", employer_id=None)[1]
        finally:
            del os.environ["REINTEGRA_DATABASE_URL"]
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve", "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("the server exited at start")
                try:
                    if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
            rows.append(
                _row("server start-up (engine built)", time.perf_counter() - started, "s", size)
            )
            headers = {"Authorization": f"Bearer {key}"}
            base = _records("candidates.jsonl")
            cands = [base[i % len(base)] | {"id": f"B{i:05d}"} for i in range(n_candidates)]
            with httpx.Client(base_url=url, headers=headers, timeout=600) as c:
                for vac in _records("vacancies.jsonl"):
                    c.post("/v1/vacancies", json=vac).raise_for_status()
                t0 = time.perf_counter()
                for i in range(0, n_candidates, 1000):
                    c.post(
                        "/v1/candidates/import", json={"candidates": cands[i : i + 1000]}
                    ).raise_for_status()
                rows.append(
                    _row(
                        "bulk import", n_candidates / (time.perf_counter() - t0), "records/s", size
                    )
                )
                cold = []
                for vid in VACANCIES:
                    for _ in range(workers):  # each server process ranks once
                        t0 = time.perf_counter()
                        c.get(
                            f"/v1/vacancies/{vid}/shortlist", params={"top_k": 10}
                        ).raise_for_status()
                        cold.append((time.perf_counter() - t0) * 1000)
                rows.append(
                    _row(
                        "shortlist, first request (ranks all)",
                        max(cold),
                        "ms",
                        size,
                        "max over vacancies",
                    )
                )
            paths = [
                f"/v1/vacancies/{VACANCIES[i % len(VACANCIES)]}/shortlist?top_k=10"
                for i in range(requests)
            ]
            # Warm every server process (connections spread over them) before measuring.
            asyncio.run(_load(url, key, paths[: 20 * clients], clients))
            lat = asyncio.run(_load(url, key, paths, clients))
            rows.append(
                _row("shortlist p50", statistics.median(lat), "ms", size, "target p95 < 50 ms")
            )
            rows.append(_row("shortlist p95", _pct(lat, 0.95), "ms", size, "target p95 < 50 ms"))
            health = asyncio.run(_load(url, key, ["/healthz"] * requests, clients))
            rows.append(_row("/healthz p50", statistics.median(health), "ms", size))
            rows.append(_row("/healthz p95", _pct(health, 0.95), "ms", size))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return rows


def _row(metric: str, value: float, unit: str, size: str, note: str = "") -> dict:
    return {
        "section": "api",
        "metric": metric,
        "value": round(float(value), 3),
        "unit": unit,
        "size": size,
        "note": note,
    }


if __name__ == "__main__":
    for row in run():
        print(row)
