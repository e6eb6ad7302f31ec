"""Placements and follow-up visits -> labelled candidate-vacancy pairs with the engine's features.

The outcomes come as the CSV that ``GET /v1/placements/export`` writes (one row per
follow-up visit, :data:`OUTCOME_COLUMNS`) or the same DataFrame. A placement's label is
whether the person was still employed at the horizon (6 months by default):

* ``retained`` (1): the first visit on or after the horizon (less ``tolerance_days``)
  says still employed, and no earlier visit says otherwise;
* ``left`` (0): a visit up to the horizon, or the horizon visit, says not employed;
* ``pending``: the horizon is after ``as_of``: excluded, not counted as a failure;
* ``unknown``: the horizon has passed but no visit tells: excluded.

Features are computed by the engine itself (``engine.encode_candidates``,
``engine.encode_vacancies``, ``engine.score``), never re-implemented here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.config import FEATURES
from matcher.exceptions import FieldProblem, InputFileError, ValidationError
from matcher.profiles import OUTCOME_COLUMNS as _OUTCOME_COLUMNS
from matcher.profiles import Candidate, Vacancy

__all__ = [
    "DATASET_COLUMNS",
    "OUTCOME_COLUMNS",
    "LabelledPairs",
    "build_dataset",
    "label_placements",
    "load_history",
    "read_outcomes",
    "validate_outcomes",
]

OUTCOME_COLUMNS = list(_OUTCOME_COLUMNS)
#: Columns of a labelled dataset: ids, cohort, label, then the features. ``gender`` and
#: ``birth_year`` are carried for the fairness audit only and are never features.
DATASET_COLUMNS = [
    "placement_id",
    "candidate_id",
    "vacancy_id",
    "start_date",
    "cohort",
    "label",
    "eligible",
    "gender",
    "birth_year",
    *FEATURES,
]
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True, eq=False)
class LabelledPairs:
    """A labelled dataset and what was left out of it."""

    frame: pd.DataFrame  # DATASET_COLUMNS, one row per labelled placement, by start date
    excluded: pd.DataFrame  # placement_id, status (pending/unknown)
    horizon_months: float
    as_of: date

    @property
    def X(self) -> np.ndarray:
        return self.frame[list(FEATURES)].to_numpy(dtype=np.float64)

    @property
    def y(self) -> np.ndarray:
        return self.frame["label"].to_numpy(dtype=np.int64)

    @property
    def groups(self) -> np.ndarray:
        return self.frame["cohort"].to_numpy()

    @property
    def cohorts(self) -> list[str]:
        return sorted(self.frame["cohort"].unique())


def read_outcomes(path: str | Path) -> pd.DataFrame:
    """The export CSV as text columns (validate with :func:`validate_outcomes`)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputFileError(f"cannot read {path}: no such file") from exc
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"cannot read {path}: not a valid UTF-8 CSV ({exc})") from exc


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def validate_outcomes(
    frame: pd.DataFrame,
    *,
    candidate_ids: Sequence[str] | None = None,
    vacancy_ids: Sequence[str] | None = None,
    placement_ids: Sequence[str] | None = None,
    as_of: date | None = None,
    source: str = "outcomes",
) -> pd.DataFrame:
    """Check every row, list every bad one at once, and return typed columns.

    Rejected: missing columns; an empty placement id, or one not in ``placement_ids``;
    candidate or vacancy ids not in the given profiles; a placement whose rows disagree on
    its candidate, vacancy or start; dates that are not ISO dates, that lie after
    ``as_of`` (default today) or a visit before its placement's start; ``still_employed``
    other than 0/1; ``satisfaction`` outside 1-5.

    Raises
    ------
    ValidationError
        With one :class:`~matcher.exceptions.FieldProblem` per bad field (line numbers
        are those of the CSV file, header = line 1).
    """
    as_of = as_of or date.today()
    missing = [c for c in OUTCOME_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(
            [
                FieldProblem(record="(header)", field=c, message="column missing", line=1)
                for c in missing
            ],
            source=source,
        )
    df = frame[OUTCOME_COLUMNS].astype(str).reset_index(drop=True)
    problems: list[FieldProblem] = []
    known_c = set(map(str, candidate_ids)) if candidate_ids is not None else None
    known_v = set(map(str, vacancy_ids)) if vacancy_ids is not None else None
    known_p = set(map(str, placement_ids)) if placement_ids is not None else None
    starts: list[date | None] = []
    visits: list[date | None] = []
    employed: list[float] = []
    satisfaction: list[float] = []
    first_seen: dict[str, tuple[str, str, str]] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        line = i + 2
        pid = row.placement_id.strip()

        def fail(field: str, message: str, pid: str = pid, line: int = line) -> None:
            problems.append(
                FieldProblem(record=pid or "?", field=field, message=message, line=line)
            )

        if not pid:
            fail("placement_id", "is required and missing")
        elif known_p is not None and pid not in known_p:
            fail("placement_id", f"unknown placement id {pid!r}")
        if known_c is not None and row.candidate_id not in known_c:
            fail("candidate_id", f"unknown candidate id {row.candidate_id!r}")
        if known_v is not None and row.vacancy_id not in known_v:
            fail("vacancy_id", f"unknown vacancy id {row.vacancy_id!r}")
        key = (row.candidate_id, row.vacancy_id, row.start_date)
        if pid and first_seen.setdefault(pid, key) != key:
            fail(
                "placement_id",
                f"rows of placement {pid!r} disagree on candidate, vacancy or start "
                f"({first_seen[pid]} vs {key})",
            )
        start = _parse_date(row.start_date)
        if start is None:
            fail("start_date", f"expected an ISO date YYYY-MM-DD, got {row.start_date!r}")
        elif start > as_of:
            fail("start_date", f"{start} is in the future (after {as_of})")
        starts.append(start)
        visit = None
        if row.visit_date.strip() or row.followup_id.strip():
            visit = _parse_date(row.visit_date)
            if visit is None:
                fail("visit_date", f"expected an ISO date YYYY-MM-DD, got {row.visit_date!r}")
            elif visit > as_of:
                fail("visit_date", f"{visit} is in the future (after {as_of})")
            elif start is not None and visit < start:
                fail("visit_date", f"{visit} is before the placement's start {start}")
            flag = row.still_employed.strip().lower()
            if flag in ("1", "true"):
                employed.append(1.0)
            elif flag in ("0", "false"):
                employed.append(0.0)
            else:
                fail("still_employed", f"expected 0 or 1, got {row.still_employed!r}")
                employed.append(np.nan)
        else:
            employed.append(np.nan)
        visits.append(visit)
        sat = row.satisfaction.strip()
        if sat:
            try:
                value = float(sat)
            except ValueError:
                value = np.nan
            if not (value == int(value) if np.isfinite(value) else False) or not 1 <= value <= 5:
                fail("satisfaction", f"expected a whole number from 1 to 5, got {sat!r}")
            satisfaction.append(value)
        else:
            satisfaction.append(np.nan)
    if problems:
        raise ValidationError(problems, source=source)
    out = df.copy()
    out["start_date"] = starts
    out["visit_date"] = visits
    out["still_employed"] = employed
    out["satisfaction"] = satisfaction
    return out


def _cohort_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def label_placements(
    outcomes: pd.DataFrame,
    *,
    horizon_months: float = 6,
    as_of: date | None = None,
    tolerance_days: int = 14,
) -> pd.DataFrame:
    """One row per placement: ids, start, cohort (start quarter), status and label.

    ``outcomes`` is the output of :func:`validate_outcomes`. See the module docstring
    for the rules; ``label`` is 1, 0, or -1 for excluded placements.
    """
    as_of = as_of or date.today()
    horizon = timedelta(days=round(horizon_months * DAYS_PER_MONTH))
    rows = []
    for pid, group in outcomes.groupby("placement_id", sort=False):
        first = group.iloc[0]
        start: date = first["start_date"]
        due = start + horizon
        seen = sorted(
            (v, e)
            for v, e in zip(group["visit_date"], group["still_employed"])
            if v is not None and e == e  # e == e: not NaN (a placement row without a visit)
        )
        cut = due - timedelta(days=tolerance_days)
        if due > as_of:
            status = "pending"
        elif any(e == 0 for v, e in seen if v < cut):
            status = "left"
        else:
            late = [e for v, e in seen if v >= cut]
            status = ("retained" if late[0] == 1 else "left") if late else "unknown"
        label = {"retained": 1, "left": 0}.get(status, -1)
        rows.append(
            {
                "placement_id": pid,
                "candidate_id": first["candidate_id"],
                "vacancy_id": first["vacancy_id"],
                "start_date": start,
                "cohort": _cohort_of(start),
                "status": status,
                "label": label,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "placement_id",
            "candidate_id",
            "vacancy_id",
            "start_date",
            "cohort",
            "status",
            "label",
        ],
    )


def build_dataset(
    engine,
    outcomes: pd.DataFrame,
    candidates: Sequence[Candidate],
    vacancies: Sequence[Vacancy],
    *,
    horizon_months: float = 6,
    as_of: date | None = None,
    source: str = "outcomes",
) -> LabelledPairs:
    """Validate ``outcomes``, label every placement, and attach the engine's pair features.

    Examples
    --------
    >>> from matcher.io import load_engine
    >>> from matcher.profiles import parse_candidates, parse_vacancies
    >>> cands = parse_candidates([{"id": "A", "skills": ["empalme de fibra optica"],
    ...     "region": "Lima"}])
    >>> vacs = parse_vacancies([{"id": "V1", "employer_id": "E1", "title": "Empalmador",
    ...     "required_skills": ["empalme de fibra óptica"], "region": "Lima"}])
    >>> rows = pd.DataFrame([["P1", "A", "V1", "E1", "2025-01-10", "2000", "F1", "2025-07-20",
    ...     "1", "", "4", "", "", ""]], columns=OUTCOME_COLUMNS)
    >>> data = build_dataset(load_engine(), rows, cands, vacs, as_of=date(2026, 1, 1))
    >>> data.frame[["placement_id", "cohort", "label"]].to_dict("records")
    [{'placement_id': 'P1', 'cohort': '2025Q1', 'label': 1}]
    """
    as_of = as_of or date.today()
    typed = validate_outcomes(
        outcomes,
        candidate_ids=[c.id for c in candidates],
        vacancy_ids=[v.id for v in vacancies],
        as_of=as_of,
        source=source,
    )
    labels = label_placements(typed, horizon_months=horizon_months, as_of=as_of)
    kept = labels[labels["label"] >= 0].sort_values(["start_date", "placement_id"])
    excluded = labels.loc[labels["label"] < 0, ["placement_id", "status"]].reset_index(drop=True)
    by_c = {c.id: c for c in candidates}
    by_v = {v.id: v for v in vacancies}
    c_ids = list(dict.fromkeys(kept["candidate_id"]))
    v_ids = list(dict.fromkeys(kept["vacancy_id"]))
    frame = kept.drop(columns=["status"]).reset_index(drop=True)
    if len(frame):
        cb = engine.encode_candidates([by_c[c] for c in c_ids])
        vb = engine.encode_vacancies([by_v[v] for v in v_ids])
        scored = engine.score(cb, vb)
        ci = frame["candidate_id"].map({c: i for i, c in enumerate(c_ids)}).to_numpy()
        vi = frame["vacancy_id"].map({v: j for j, v in enumerate(v_ids)}).to_numpy()
        shape = scored.features.shape
        for name in FEATURES:
            frame[name] = np.broadcast_to(scored.features.columns[name], shape)[ci, vi]
        frame["eligible"] = scored.eligible[ci, vi]
    else:
        for name in FEATURES:
            frame[name] = np.zeros(0)
        frame["eligible"] = np.zeros(0, dtype=bool)
    frame["gender"] = [by_c[c].gender or "" for c in frame["candidate_id"]]
    frame["birth_year"] = [by_c[c].birth_year for c in frame["candidate_id"]]
    return LabelledPairs(
        frame=frame[DATASET_COLUMNS],
        excluded=excluded,
        horizon_months=horizon_months,
        as_of=as_of,
    )


def load_history(
    outcomes_path: str | Path,
    *,
    candidates_path: str | Path | None = None,
    vacancies_path: str | Path | None = None,
) -> tuple[pd.DataFrame, list[Candidate], list[Vacancy]]:
    """Read an outcomes CSV and the profiles it refers to (default: files beside it)."""
    from matcher.io import read_candidates, read_vacancies

    outcomes_path = Path(outcomes_path)
    folder = outcomes_path.parent
    cands = read_candidates(candidates_path or folder / "candidates.jsonl")
    vacs = read_vacancies(vacancies_path or folder / "vacancies.jsonl")
    return read_outcomes(outcomes_path), cands, vacs


def dataset_from_args(args) -> tuple[Any, LabelledPairs, list[Candidate], list[Vacancy]]:
    """What ``reintegra train`` and ``reintegra evaluate`` share: read the history named by the
    command line, build the engine, and label the pairs. Returns (engine, data, cands, vacs)."""
    from datetime import date

    from matcher.io import load_engine

    outcomes, cands, vacs = load_history(
        args.outcomes, candidates_path=args.candidates, vacancies_path=args.vacancies
    )
    engine = load_engine(getattr(args, "taxonomy", None))
    data = build_dataset(
        engine,
        outcomes,
        cands,
        vacs,
        horizon_months=args.horizon_months,
        as_of=date.fromisoformat(args.as_of) if args.as_of else None,
        source=str(args.outcomes),
    )
    return engine, data, cands, vacs
