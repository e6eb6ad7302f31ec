"""``make demo`` for the service: a real server on 127.0.0.1 with the synthetic demo data.

1. Creates a fresh SQLite database (``out/demo.db``) and three users (admin, caseworker,
   employer E-ENERTEL), each with an API key.
2. Starts ``reintegra serve`` on a free loopback port (its log goes to ``out/demo_server.log``).
3. Loads the 25 vacancies and 300 returnees through the API, as any client would.
4. Requests one shortlist as the caseworker and as the employer, prints both, and stops.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from matcher.io import default_fixtures_dir

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parent.parent
SHOWN_VACANCY = "V010"
EMPLOYER = "E-ENERTEL"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_records(name: str) -> list[dict]:
    """The records of one of the synthetic demo files (``fixtures/demo/NAME``)."""
    path = default_fixtures_dir() / "demo" / name
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError("the server did not become ready in time")


def _print_shortlist(title: str, body: dict) -> None:
    print(f"\n== {title} ==")
    print(f"   model {body['model_version']} · taxonomy {body['taxonomy_version']}")
    for item in body["items"]:
        who = item.get("name") or "(identidad reservada / identity withheld)"
        ident = item.get("candidate_id") or "-"
        print(
            f"  {item['rank']}. {item['pseudonym']}  {ident:<6} {who}  puntaje {item['score']:.2f}"
        )
        print(
            textwrap.fill(
                item["explanation"], width=100, initial_indent="     ", subsequent_indent="     "
            )
        )


def run(*, out_dir: Path | str = "out", log_level: str = "INFO", top_k: int = 5) -> int:
    """Run the service demo; returns the exit code. The server's log is left in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    database = out / "demo.db"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REINTEGRA_")}
    env |= {
        "REINTEGRA_DATABASE_URL": f"sqlite:///{database.resolve()}",
        "REINTEGRA_HOST": "127.0.0.1",
        "REINTEGRA_PORT": str(port),
        "REINTEGRA_LOG_LEVEL": log_level,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    }

    # Users are created by the same function as `reintegra users create`.
    from api.cli import create_user

    saved = os.environ.get("REINTEGRA_DATABASE_URL")
    os.environ["REINTEGRA_DATABASE_URL"] = env["REINTEGRA_DATABASE_URL"]
    try:
        keys = {
            "admin": create_user(name="Demo admin", role="admin", employer_id=None)[1],
            "caseworker": create_user(name="Demo caseworker", role="caseworker", employer_id=None)[
                1
            ],
            "employer": create_user(name="Demo employer", role="employer", employer_id=EMPLOYER)[1],
        }
    finally:
        if saved is None:
            del os.environ["REINTEGRA_DATABASE_URL"]
        else:
            os.environ["REINTEGRA_DATABASE_URL"] = saved

    log_path = out / "demo_server.log"
    url = f"http://127.0.0.1:{port}"
    print(f"== reintegra service demo: {url} (database {database}, log {log_path}) ==")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(url, proc)

            def client(role: str) -> httpx.Client:
                headers = {"Authorization": f"Bearer {keys[role]}"}
                return httpx.Client(base_url=url, headers=headers, timeout=120)

            with client("caseworker") as staff, client("employer") as employer:
                for vacancy in demo_records("vacancies.jsonl"):
                    staff.post("/v1/vacancies", json=vacancy).raise_for_status()
                candidates = demo_records("candidates.jsonl")
                for i in range(0, len(candidates), 100):
                    batch = {"candidates": candidates[i : i + 100]}
                    staff.post("/v1/candidates/import", json=batch).raise_for_status()
                print(f"loaded {len(candidates)} returnees and 25 vacancies through the API")
                shortlist = f"/v1/vacancies/{SHOWN_VACANCY}/shortlist"
                seen_by_staff = staff.get(shortlist, params={"top_k": top_k})
                seen_by_staff.raise_for_status()
                seen_by_employer = employer.get(shortlist, params={"top_k": top_k})
                seen_by_employer.raise_for_status()
            _print_shortlist(
                f"{SHOWN_VACANCY} as the caseworker (identities visible)", seen_by_staff.json()
            )
            _print_shortlist(
                f"{SHOWN_VACANCY} as the employer {EMPLOYER} (pseudonyms unless consent)",
                seen_by_employer.json(),
            )
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    print(f"\nserver stopped; its log is in {log_path}")
    return 0


def main() -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
