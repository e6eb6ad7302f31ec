"""Models are versioned JSON: round trip, tamper and foreign files refused, engine and API load."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from matcher.io import load_engine
from matcher.learned import ModelArtifactError
from training.artifacts import load_model, save_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, trained, dataset, report):
    folder = tmp_path_factory.mktemp("model")
    save_model(trained, dataset, report, folder)
    return folder


def test_round_trip_and_model_card(model_dir, trained, dataset):
    scorer, version = load_model(model_dir)
    assert version.startswith("outcome-logit@")
    np.testing.assert_allclose(
        scorer.predict_proba(dataset.X), trained.scorer.predict_proba(dataset.X)
    )
    card = (model_dir / "MODEL_CARD.md").read_text()
    for needle in (version, "Data window", "location_fit", "selection_rate", "Known limits"):
        assert needle in card
    payload = json.loads((model_dir / "model.json").read_text())
    assert payload["metadata"]["data"]["labelled_placements"] == len(dataset.frame)


def test_tampered_weights_are_refused(model_dir, tmp_path):
    payload = json.loads((model_dir / "model.json").read_text())
    payload["coef"][0] += 5.0
    (tmp_path / "model.json").write_text(json.dumps(payload))
    with pytest.raises(ModelArtifactError, match="digest mismatch"):
        load_model(tmp_path)


def test_a_pickle_is_refused_without_being_executed(tmp_path):
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / "model.json").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelArtifactError, match="pickle"):
        load_model(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"weights": [1, 2, 3]}', "not a reintegra outcome model"),
        (b"PK\x03\x04 skops zip", "pickle or zip"),
        (b"\xff\xfe not text", "not a JSON model"),
    ],
)
def test_foreign_files_are_refused(tmp_path, content, message):
    (tmp_path / "model.json").write_bytes(content)
    with pytest.raises(ModelArtifactError, match=message):
        load_model(tmp_path)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelArtifactError, match="model not found"):
        load_model(tmp_path / "nowhere")


def test_engine_names_the_model_it_uses(model_dir):
    _, version = load_model(model_dir)
    assert load_engine(model_path=model_dir).model_version == version
    assert load_engine().model_version == "default-weights"


def test_api_settings_pass_the_model_path(model_dir, monkeypatch):
    settings_mod = pytest.importorskip("api.settings")
    monkeypatch.setenv("REINTEGRA_MODEL_PATH", str(model_dir))
    assert settings_mod.Settings().model_path == str(model_dir)
