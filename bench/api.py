"""API latency: the shortlist endpoint over 10,000 stored candidates under concurrent load.

Starts ``reintegra serve`` on loopback with a fresh SQLite database, imports 10,000 candidates
through the API, then runs ``CLIENTS`` concurrent clients against the shortlist of a few
vacancies and against ``/healthz``, and reports p50/p95 of each and the requests served per
second. The load generator is ``wrk`` when it is installed (a C client: it leaves the cores to
the server), else an asyncio + httpx client, which itself takes much of a core; the rows say
which one ran. (Debian: ``apt-get install -y wrk``.)

Also reported: the server's CPU time per request (its processes' CPU time over the requests
served, from /proc: other jobs on the same cores inflate it far less than latency), one
client alone, the first (cold) shortlist after the import, which scores all candidates, and
the first shortlist after one candidate is updated, which rescores only that candidate.
Every other shortlist reuses a body rendered once per vacancy and candidate revision.

One server process by default: on 2 cores shared with the load generator a second process
mostly adds its own engine, caches and cold rankings (``workers=2`` measures it).

    python -c "from bench.api import run; print(run())"
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from api.demo import demo_records, free_port

__all__ = ["run"]

ROOT = Path(__file__).resolve().parent.parent
N_CANDIDATES = 10_000
CLIENTS = 20
SECONDS = 10.0  # wrk: measured duration of each run
REQUESTS = 2000  # Python client: requests per run
VACANCIES = ("V001", "V003", "V010", "V013", "V022")

# Prints the figures wrk measured (latencies in microseconds) on one line the bench parses.
_WRK_SCRIPT = """
local paths = {%(paths)s}
local n = 0
wrk.headers["Authorization"] = "Bearer %(key)s"
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("REINTEGRA_WRK %%d %%d %%d %%d %%f %%f %%f\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Load:
    """One load run: latency percentiles (ms) and throughput."""

    p50: float
    p95: float
    per_second: float
    requests: int
    server_cpu_ms: float = 0.0  # the server's CPU time per request


def _slowest_first(client, paths: list[str], workers: int) -> float:
    """The slowest first answer (ms) over ``paths``: each server process ranks once."""
    times = []
    for path in paths:
        for _ in range(workers):
            t0 = time.perf_counter()
            client.get(path).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    return max(times)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far; 0 without /proc.

    Divided by the requests served, it is the server's own time per request, which the
    other jobs sharing the cores inflate far less than they inflate latency.
    """
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").exists():
        return 0.0
    stats = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
    family = {pid} | {p for p, f in stats.items() if int(f[1]) == pid}
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in family if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wrk_load(
    url: str, key: str, paths: list[str], clients: int, seconds: float, tmp: Path
) -> Load:
    script = tmp / "load.lua"
    script.write_text(
        _WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths), "key": key}, "utf-8"
    )
    done = subprocess.run(
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(clients),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "60s",
            "--script",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"^REINTEGRA_WRK (.*)$", done.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"unexpected wrk output: {done.stdout[-500:]} {done.stderr[-500:]}")
    fields = found.group(1).split()
    requests, micros, bad_status, socket_errors = (int(x) for x in fields[:4])
    p50, p95 = (float(x) / 1000 for x in fields[4:6])
    if bad_status or socket_errors:
        raise RuntimeError(f"{paths[0]}: {bad_status} non-2xx answers, {socket_errors} errors")
    return Load(p50, p95, requests / (micros / 1e6), requests)


async def _python_load(url: str, key: str, paths: list[str], clients: int) -> Load:
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

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Load(
        statistics.median(latencies), _pct(latencies, 0.95), len(latencies) / elapsed, len(paths)
    )


def _one_client(c: httpx.Client, paths: list[str]) -> float:
    """Median latency (ms) of ``paths`` requested one after another."""
    latencies = []
    for path in paths:
        start = time.perf_counter()
        c.get(path).raise_for_status()
        latencies.append((time.perf_counter() - start) * 1000)
    return statistics.median(latencies)


def run(
    *,
    n_candidates: int = N_CANDIDATES,
    clients: int = CLIENTS,
    requests: int = REQUESTS,
    seconds: float = SECONDS,
    workers: int = 1,
    client: str = "auto",
) -> list[dict]:
    """Figure rows: section, metric, value, unit, size, note.

    ``client`` is ``"wrk"``, ``"python"`` or ``"auto"`` (wrk when installed).
    """
    from api.cli import create_user

    why = ""
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
        why = "" if client == "wrk" else " (wrk is not installed)"
    load_note = (
        f"wrk, {clients} connections, {seconds:g} s"
        if client == "wrk"
        else f"asyncio+httpx client{why}, {clients} clients, {requests} requests"
    )
    rows: list[dict] = []
    size = (
        f"{n_candidates:,} candidates, {clients} clients ({client}), "
        f"{workers} server process{'es' if workers > 1 else ''}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = free_port()
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

        def load(paths: list[str]) -> Load:
            if client == "wrk":
                _wrk_load(url, key, paths, clients, min(3.0, seconds), Path(tmp))  # warm-up
                cpu = _cpu_seconds(proc.pid)
                done = _wrk_load(url, key, paths, clients, seconds, Path(tmp))
            else:
                asyncio.run(_python_load(url, key, paths[: 20 * clients], clients))  # warm-up
                many = [paths[i % len(paths)] for i in range(requests)]
                cpu = _cpu_seconds(proc.pid)
                done = asyncio.run(_python_load(url, key, many, clients))
            cpu_ms = (_cpu_seconds(proc.pid) - cpu) * 1000 / done.requests
            return replace(done, server_cpu_ms=cpu_ms)

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
            base = demo_records("candidates.jsonl")
            cands = [base[i % len(base)] | {"id": f"B{i:05d}"} for i in range(n_candidates)]
            shortlists = [f"/v1/vacancies/{vid}/shortlist?top_k=10" for vid in VACANCIES]
            with httpx.Client(base_url=url, headers=headers, timeout=600) as c:
                for vac in demo_records("vacancies.jsonl"):
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
                rows.append(
                    _row(
                        "shortlist, first request (ranks all)",
                        _slowest_first(c, shortlists, workers),
                        "ms",
                        size,
                        "max over vacancies",
                    )
                )
                alone = _one_client(c, shortlists * 40)
                rows.append(
                    _row(
                        "shortlist, one client alone p50",
                        alone,
                        "ms",
                        size,
                        "server time per request + loopback",
                    )
                )
                healthz_alone = _one_client(c, ["/healthz"] * 200)
                rows.append(_row("/healthz, one client alone p50", healthz_alone, "ms", size))

            shortlist = load(shortlists)
            note = f"{load_note}; target p95 < 50 ms"
            rows.append(_row("shortlist p50", shortlist.p50, "ms", size, note))
            rows.append(_row("shortlist p95", shortlist.p95, "ms", size, note))
            rows.append(
                _row("shortlist throughput", shortlist.per_second, "requests/s", size, note)
            )
            rows.append(
                _row(
                    "shortlist, server CPU per request",
                    shortlist.server_cpu_ms,
                    "ms",
                    size,
                    "server processes' CPU time / requests served",
                )
            )
            health = load(["/healthz"])
            rows.append(_row("/healthz p50", health.p50, "ms", size, load_note))
            rows.append(_row("/healthz p95", health.p95, "ms", size, load_note))
            rows.append(
                _row("/healthz throughput", health.per_second, "requests/s", size, load_note)
            )
            rows.append(
                _row(
                    "/healthz, server CPU per request", health.server_cpu_ms, "ms", size, load_note
                )
            )

            with httpx.Client(base_url=url, headers=headers, timeout=600) as c:
                changed = base[0] | {"id": "B00000"}
                changed["experience_years"] = float(changed.get("experience_years", 0)) + 1
                c.put(
                    "/v1/candidates/B00000", json={k: v for k, v in changed.items() if k != "id"}
                ).raise_for_status()
                rows.append(
                    _row(
                        "shortlist, first request after one candidate update",
                        _slowest_first(c, shortlists, workers),
                        "ms",
                        size,
                        "max over vacancies",
                    )
                )
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
