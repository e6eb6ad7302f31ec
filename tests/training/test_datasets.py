"""Outcomes -> labelled pairs: the labelling rules, the engine's own features, bad input."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from matcher.config import FEATURES
from matcher.exceptions import ValidationError
from training.datasets import OUTCOME_COLUMNS, build_dataset, label_placements, validate_outcomes

AS_OF = date(2026, 1, 1)


def _rows(*rows):
    full = [list(r) + [""] * (len(OUTCOME_COLUMNS) - len(r)) for r in rows]
    return pd.DataFrame(full, columns=OUTCOME_COLUMNS)


def test_outcome_columns_are_the_api_export_columns():
    service = pytest.importorskip("api.service")
    assert service.EXPORT_COLUMNS == OUTCOME_COLUMNS


def test_labels_retained_left_pending_unknown():
    frame = _rows(
        # retained: 6-month visit says employed
        ("P1", "A", "V1", "E", "2025-01-10", "2000", "F1", "2025-02-10", "1"),
        ("P1", "A", "V1", "E", "2025-01-10", "2000", "F2", "2025-07-15", "1"),
        # left: the 3-month visit says not employed, no 6-month visit
        ("P2", "A", "V1", "E", "2025-01-10", "2000", "F3", "2025-04-10", "0"),
        # pending: started 2 months before the export; not a failure
        ("P3", "A", "V1", "E", "2025-11-01", "2000", "F4", "2025-12-01", "0"),
        # unknown: horizon passed, only an early visit that says employed
        ("P4", "A", "V1", "E", "2025-01-10", "2000", "F5", "2025-02-10", "1"),
        # placement without any visit yet
        ("P5", "A", "V1", "E", "2025-01-10", "2000"),
    )
    typed = validate_outcomes(frame, as_of=AS_OF)
    got = label_placements(typed, as_of=AS_OF).set_index("placement_id")
    assert got["status"].to_dict() == {
        "P1": "retained",
        "P2": "left",
        "P3": "pending",
        "P4": "unknown",
        "P5": "unknown",
    }
    assert got["label"].to_dict() == {"P1": 1, "P2": 0, "P3": -1, "P4": -1, "P5": -1}
    # A longer horizon makes P1's 6-month visit too early to tell.
    longer = label_placements(typed, as_of=AS_OF, horizon_months=9).set_index("placement_id")
    assert longer.loc["P1", "status"] == "unknown"


def test_every_bad_row_is_listed_at_once():
    frame = _rows(
        ("P1", "A", "V1", "E", "2025-01-10", "2000", "F1", "2025-07-15", "1", "", "4"),
        ("P9", "ZZ", "V1", "E", "2025-01-10", "2000", "F2", "2025-07-15", "1", "", "3"),
        ("P2", "A", "V1", "E", "2027-03-01", "2000", "F3", "2027-04-01", "1", "", "3"),
        ("P3", "A", "V1", "E", "2025-01-10", "2000", "F4", "2025-07-15", "1", "", "0"),
        ("P4", "A", "V1", "E", "2025-01-10", "2000", "F5", "2025-07-15", "1", "", "6"),
        ("P5", "A", "VX", "E", "2025-01-10", "2000", "F6", "2025-07-15", "yes", "", "2.5"),
    )
    with pytest.raises(ValidationError) as info:
        validate_outcomes(
            frame,
            candidate_ids=["A"],
            vacancy_ids=["V1"],
            placement_ids=["P1", "P2", "P3", "P4", "P5"],
            as_of=AS_OF,
        )
    found = {(p.line, p.field) for p in info.value.problems}
    assert found == {
        (3, "placement_id"),
        (3, "candidate_id"),
        (4, "start_date"),
        (4, "visit_date"),
        (5, "satisfaction"),
        (6, "satisfaction"),
        (7, "vacancy_id"),
        (7, "still_employed"),
        (7, "satisfaction"),
    }
    text = str(info.value)
    assert "unknown placement id 'P9'" in text and "in the future" in text and "1 to 5" in text


def test_features_are_the_engines_own(engine, history, dataset):
    _, cands, vacs = history
    by_c = {c.id: c for c in cands}
    by_v = {v.id: v for v in vacs}
    rows = dataset.frame.iloc[[0, 100, 500]]
    cb = engine.encode_candidates([by_c[c] for c in rows["candidate_id"]])
    vb = engine.encode_vacancies([by_v[v] for v in rows["vacancy_id"]])
    feats = engine.score(cb, vb).features
    for k in range(len(rows)):
        np.testing.assert_allclose(
            rows[list(FEATURES)].to_numpy(dtype=float)[k], feats.pair(k, k), atol=1e-12
        )


def test_pending_placements_are_excluded_not_failures(dataset):
    assert (dataset.excluded["status"] == "pending").sum() > 100
    assert set(dataset.frame["label"]) == {0, 1}
    assert "2026Q1" not in set(dataset.frame["cohort"])  # the cohort still within its horizon
    assert not {"gender", "birth_year"} & set(FEATURES)


def test_build_dataset_rejects_unknown_profiles(engine, history):
    outcomes, cands, vacs = history
    bad = outcomes.head(3).copy()
    bad.loc[1, "candidate_id"] = "NOPE"
    with pytest.raises(ValidationError, match="unknown candidate id 'NOPE'"):
        build_dataset(engine, bad, cands, vacs, as_of=AS_OF)
