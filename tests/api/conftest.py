"""API fixtures: the app on SQLite (always) and PostgreSQL (REINTEGRA_TEST_POSTGRES_URL).

In CI (``CI=true``) a missing PostgreSQL URL fails the PostgreSQL half instead of skipping it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

import api.demo as api_demo
from api.main import create_app
from api.settings import Settings
from api.store.db import create_db_engine
from api.store.models import Base

BACKENDS = ["sqlite", "postgresql"]
OWN_EMPLOYER = "E-ENERTEL"
OTHER_EMPLOYER = "E-SOLARSUR"


def demo_records(kind: str, n: int | None = None) -> list[dict]:
    rows = api_demo.demo_records(f"{kind}.jsonl")
    return rows[:n] if n else rows


def postgres_url() -> str:
    url = os.environ.get("REINTEGRA_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI=true but REINTEGRA_TEST_POSTGRES_URL is not set (.ci/setup-postgres.sh)"
            )
        pytest.skip("REINTEGRA_TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
    return url


def reset_database(url: str) -> None:
    """Drop every table (and Alembic's) so migrations start from nothing."""
    db = create_db_engine(url)
    try:
        Base.metadata.drop_all(db)
        with db.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        db.dispose()


def database_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'reintegra.db'}"
    url = postgres_url()
    reset_database(url)
    return url


@dataclass
class Api:
    """A running app with one key per role."""

    client: TestClient
    backend: str
    keys: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        if who == "none":
            return {}
        if who == "wrong":
            return {"Authorization": "Bearer rk_not-a-real-key"}
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def call(self, who: str, method: str, path: str, **kwargs):
        headers = self.headers(who) | kwargs.pop("headers", {})
        return self.client.request(method, path, headers=headers, **kwargs)


def start_api(url: str, engine, backend: str, **settings) -> Iterator[Api]:
    app = create_app(Settings(database_url=url, **settings), engine=engine)
    with TestClient(app) as client:
        service = app.state.service
        api = Api(client, backend)
        for who, role, employer in (
            ("admin", "admin", None),
            ("caseworker", "caseworker", None),
            ("employer", "employer", OWN_EMPLOYER),
            ("other_employer", "employer", OTHER_EMPLOYER),
        ):
            api.keys[who] = service.create_user(name=who, role=role, employer_id=employer)[1]
        yield api


@pytest.fixture(scope="module", params=BACKENDS)
def api(request, engine, tmp_path_factory) -> Iterator[Api]:
    """The app with demo data: 25 vacancies and 60 candidates, loaded through the API."""
    url = database_url(request.param, tmp_path_factory.mktemp("db"))
    for started in start_api(url, engine, request.param):
        admin = started.headers("admin")
        for vac in demo_records("vacancies"):
            assert started.client.post("/v1/vacancies", json=vac, headers=admin).status_code == 201
        cands = demo_records("candidates", 60)
        for i, cand in enumerate(cands):  # half consent to share their identity with employers
            cand["consent_to_share"] = i % 2 == 0
        done = started.client.post(
            "/v1/candidates/import", json={"candidates": cands}, headers=admin
        )
        assert done.status_code == 200, done.text
        yield started
