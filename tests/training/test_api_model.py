"""REINTEGRA_MODEL_PATH: the service scores with the learned model and names it everywhere."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, trained, dataset, report):
    from training.artifacts import save_model

    folder = tmp_path_factory.mktemp("model")
    save_model(trained, dataset, report, folder)
    return folder


def test_shortlist_and_audit_name_the_learned_model(model_dir, tmp_path):
    from tests.api.conftest import demo_records, start_api
    from training.artifacts import load_model

    _, version = load_model(model_dir)
    url = f"sqlite:///{tmp_path / 'reintegra.db'}"
    for api in start_api(url, None, "sqlite", model_path=str(model_dir)):
        admin = api.headers("admin")
        vac = demo_records("vacancies", 1)[0]
        assert api.client.post("/v1/vacancies", json=vac, headers=admin).status_code == 201
        cands = {"candidates": demo_records("candidates", 20)}
        assert (
            api.client.post("/v1/candidates/import", json=cands, headers=admin).status_code == 200
        )
        short = api.client.get(f"/v1/vacancies/{vac['id']}/shortlist?top_k=5", headers=admin)
        assert short.status_code == 200, short.text
        assert short.json()["model_version"] == version
        audit = api.client.get("/v1/audit", headers=admin).json()
        records = audit if isinstance(audit, list) else audit.get("items", [])
        assert records and {r["model_version"] for r in records} == {version}


def test_a_tampered_model_stops_the_service_from_starting(model_dir, tmp_path):
    import json

    from matcher.learned import ModelArtifactError
    from tests.api.conftest import start_api

    payload = json.loads((model_dir / "model.json").read_text())
    payload["intercept"] = 3.0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.json").write_text(json.dumps(payload))
    url = f"sqlite:///{tmp_path / 'reintegra.db'}"
    with pytest.raises(ModelArtifactError, match="digest mismatch"):
        for _ in start_api(url, None, "sqlite", model_path=str(bad)):
            pass
