"""`reintegra train` and `reintegra evaluate` end to end on a slice of the synthetic history."""

from __future__ import annotations

import pytest

from matcher.cli import main


@pytest.fixture(scope="module")
def slice_csv(tmp_path_factory, history):
    from fixtures.outcomes.generate import HERE

    outcomes, _, _ = history
    keep = outcomes["start_date"].between("2024-07-01", "2025-06-30")
    ids = sorted(set(outcomes.loc[keep, "placement_id"]))[::2]
    path = tmp_path_factory.mktemp("outcomes") / "outcomes.csv"
    outcomes[outcomes["placement_id"].isin(ids)].to_csv(path, index=False)
    return path, HERE / "candidates.jsonl", HERE / "vacancies.jsonl"


def test_train_then_evaluate(slice_csv, tmp_path, capsys):
    path, cands, vacs = slice_csv
    files = ["--candidates", str(cands), "--vacancies", str(vacs), "--as-of", "2026-06-01"]
    out = tmp_path / "model"
    assert main(["train", "--outcomes", str(path), "--out", str(out), *files]) == 0
    said = capsys.readouterr().out
    assert "model outcome-logit@" in said and "back-test 2025Q2" in said
    assert (out / "model.json").is_file() and (out / "MODEL_CARD.md").is_file()
    assert main(["evaluate", "--model", str(out), "--outcomes", str(path), *files]) == 0
    said = capsys.readouterr().out
    assert "default-weights" in said and "expected_retained" in said


def test_bad_outcomes_exit_2_listing_every_bad_row(slice_csv, tmp_path, capsys):
    import pandas as pd

    path, cands, vacs = slice_csv
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "placement_id"] = ""
    frame.loc[1, "candidate_id"] = "GHOST"
    frame.loc[2, "visit_date"] = "2030-01-01"
    frame.loc[3, "satisfaction"] = "9"
    bad = tmp_path / "outcomes.csv"
    frame.to_csv(bad, index=False)
    code = main(
        [
            "train",
            "--outcomes",
            str(bad),
            "--candidates",
            str(cands),
            "--vacancies",
            str(vacs),
            "--out",
            str(tmp_path / "m"),
            "--as-of",
            "2026-06-01",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    for needle in ("line 2", "line 3", "GHOST", "line 4", "in the future", "line 5", "1 to 5"):
        assert needle in err
    assert not (tmp_path / "m").exists()


def test_evaluate_refuses_a_foreign_model(tmp_path, slice_csv, capsys):
    path, _, _ = slice_csv
    (tmp_path / "model.json").write_text('{"coef": [1]}')
    assert main(["evaluate", "--model", str(tmp_path), "--outcomes", str(path)]) == 2
    assert "not a reintegra outcome model" in capsys.readouterr().err
