from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import fisher_exact

from matcher.exceptions import ConfigError
from matcher.fairness import NOT_STATED, age_band, group_labels, selection_table
from matcher.profiles import Candidate


def test_selection_table_rates_ratios_and_exact_test():
    labels = np.array(["F"] * 10 + ["M"] * 20, dtype=object)
    selected = np.array([True] * 2 + [False] * 8 + [True] * 10 + [False] * 10)
    table = selection_table(labels, selected).set_index("group")
    assert table.loc["F", "selection_rate"] == pytest.approx(0.2)
    assert table.loc["M", "selection_rate"] == pytest.approx(0.5)
    assert table.loc["F", "impact_ratio"] == pytest.approx(0.4)
    assert not table.loc["F", "passes"] and table.loc["M", "passes"]
    expected = fisher_exact([[2, 8], [10, 10]]).pvalue
    assert table.loc["F", "fisher_p_value"] == pytest.approx(expected, abs=1e-4)


def test_nobody_selected_is_not_a_violation():
    table = selection_table(np.array(["a", "b"], dtype=object), np.array([False, False]))
    assert table["passes"].all() and (table["impact_ratio"] == 1.0).all()


def test_groups_from_audit_fields_only():
    people = [
        Candidate("A", gender="F", birth_year=2000),
        Candidate("B", birth_year=1970),
        Candidate("C"),
    ]
    assert list(group_labels(people, "gender", reference_year=2026)) == [
        "F",
        NOT_STATED,
        NOT_STATED,
    ]
    assert list(group_labels(people, "age_band", reference_year=2026)) == [
        "18-29",
        "45+",
        NOT_STATED,
    ]
    assert age_band(1982, reference_year=2026) == "30-44"
    with pytest.raises(ConfigError, match="fairness attribute"):
        group_labels(people, "religion", reference_year=2026)


def test_scorer_never_reads_audit_fields():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "matcher"
    for name in ("features.py", "scorer.py", "engine.py", "ranking.py", "assign.py"):
        tree = ast.parse((root / name).read_text("utf-8"))
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not attrs & {"gender", "birth_year"}, name
