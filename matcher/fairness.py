"""The fairness audit: selection rates by group, impact ratios and an exact test.

Group attributes (gender, age band from birth year) are audit-only: this module is the
only one that reads them, and the scorer never sees them. A group's selection rate is
its selected candidates over its candidates in the pool; its impact ratio is that rate
over the best group's rate (the "four-fifths rule" flags ratios under 0.8). Cohorts of
about 90 make ratios jumpy, so each group is also compared with the best group by
Fisher's exact test on the 2 x 2 table of selected / not selected.

>>> import numpy as np
>>> table = selection_table(np.array(["F", "F", "M", "M", "M", "M"]),
...                         np.array([True, False, True, True, True, False]))
>>> table[["group", "candidates", "selected", "impact_ratio", "passes"]]
  group  candidates  selected  impact_ratio  passes
0     F           2         1          0.67   False
1     M           4         3          1.00    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from matcher.exceptions import ConfigError

__all__ = [
    "FAIRNESS_ATTRIBUTES",
    "FAIRNESS_COLUMNS",
    "NOT_STATED",
    "age_band",
    "group_codes",
    "group_labels",
    "selection_table",
]

#: Attributes a fairness constraint or audit may use.
FAIRNESS_ATTRIBUTES = ("gender", "age_band")
NOT_STATED = "not_stated"
#: Age bands: (label, lowest age in the band).
AGE_BANDS = (("18-29", 0), ("30-44", 30), ("45+", 45))

FAIRNESS_COLUMNS = [
    "group",
    "candidates",
    "selected",
    "selection_rate",
    "impact_ratio",
    "passes",
    "fisher_p_value",
]


def age_band(birth_year: int | None, *, reference_year: int) -> str:
    """The age band of a birth year in ``reference_year``.

    >>> age_band(1990, reference_year=2026), age_band(None, reference_year=2026)
    ('30-44', 'not_stated')
    """
    if birth_year is None:
        return NOT_STATED
    age = reference_year - int(birth_year)
    label = AGE_BANDS[0][0]
    for name, lowest in AGE_BANDS:
        if age >= lowest:
            label = name
    return label


def group_labels(
    candidates: Sequence[object], attribute: str, *, reference_year: int
) -> np.ndarray:
    """The group of every candidate under ``attribute`` (``"gender"`` or ``"age_band"``).

    Raises
    ------
    ConfigError
        An attribute this audit does not know.

    >>> from matcher.profiles import Candidate
    >>> group_labels([Candidate("A", gender="F"), Candidate("B")], "gender", reference_year=2026)
    array(['F', 'not_stated'], dtype=object)
    """
    if attribute not in FAIRNESS_ATTRIBUTES:
        raise ConfigError(
            f"fairness attribute: expected one of {', '.join(FAIRNESS_ATTRIBUTES)}, "
            f"got {attribute!r}; choose one of those (or leave the option out)"
        )
    if attribute == "gender":
        values = [str(getattr(c, "gender", None) or "").strip() or NOT_STATED for c in candidates]
    else:
        values = [
            age_band(getattr(c, "birth_year", None), reference_year=reference_year)
            for c in candidates
        ]
    return np.array(values, dtype=object)


def group_codes(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer codes for the solver (``-1`` for not stated: reported, not constrained).

    >>> group_codes(np.array(["M", "not_stated", "F"], dtype=object))
    (array([ 1, -1,  0]), ['F', 'M'])
    """
    names = sorted({str(v) for v in labels if v != NOT_STATED})
    index = {name: k for k, name in enumerate(names)}
    return np.array([index.get(str(v), -1) for v in labels], dtype=np.int64), names


def selection_table(
    labels: np.ndarray, selected: np.ndarray, *, min_impact_ratio: float = 0.8
) -> pd.DataFrame:
    """Candidates, selected, selection rate, impact ratio and Fisher's p-value per group.

    Parameters
    ----------
    labels : array of str, shape (n_candidates,)
        Group of every candidate in the pool.
    selected : array of bool, shape (n_candidates,)
    min_impact_ratio : float
        The floor a group's impact ratio must reach to pass (0.8: the four-fifths rule).

    Returns
    -------
    DataFrame with :data:`FAIRNESS_COLUMNS`, one row per group (not stated last). The
    impact ratio is the group's rate over the best stated group's rate (1 when nobody is
    selected); ``fisher_p_value`` tests the group against the best group (two-sided).
    """
    from scipy.stats import fisher_exact

    labels = np.asarray(labels, dtype=object)
    selected = np.asarray(selected, dtype=bool)
    names = sorted({str(v) for v in labels}, key=lambda s: (s == NOT_STATED, s))
    counts = {g: int((labels == g).sum()) for g in names}
    chosen = {g: int(selected[labels == g].sum()) for g in names}
    rate = {g: chosen[g] / counts[g] if counts[g] else 0.0 for g in names}
    stated = [g for g in names if g != NOT_STATED]
    best = max(stated, key=lambda g: (rate[g], counts[g]), default=None)
    rows = []
    for g in names:
        top = rate[best] if best is not None else 0.0
        ratio = rate[g] / top if top > 0 else 1.0
        if best is None or g == best:
            p_value = 1.0
        else:
            table = [
                [chosen[g], counts[g] - chosen[g]],
                [chosen[best], counts[best] - chosen[best]],
            ]
            p_value = float(fisher_exact(table).pvalue)
        rows.append(
            {
                "group": g,
                "candidates": counts[g],
                "selected": chosen[g],
                "selection_rate": round(rate[g], 4),
                "impact_ratio": round(ratio, 2),
                "passes": bool(g == NOT_STATED or ratio >= min_impact_ratio - 1e-12),
                "fisher_p_value": round(p_value, 4),
            }
        )
    return pd.DataFrame(rows, columns=FAIRNESS_COLUMNS)
