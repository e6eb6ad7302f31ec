"""Files of a cohort run: read locks, exclusions and households; write the output folder.

The output folder is built beside its target under a temporary name and renamed into
place at the end, so a failed run never leaves a partial folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from matcher.exceptions import FieldProblem, InputFileError, ValidationError

__all__ = ["HEADERS", "read_households", "read_pairs", "write_cohort"]

#: Column headers people read, per language (CSV files meant for people, and the report).
HEADERS: dict[str, dict[str, str]] = {
    "es": {
        "attribute": "atributo",
        "group": "grupo",
        "candidates": "personas",
        "selected": "seleccionadas",
        "selection_rate": "tasa_seleccion",
        "impact_ratio": "razon_impacto",
        "passes": "cumple",
        "fisher_p_value": "p_fisher",
        "vacancy_id": "vacante",
        "skill_uri": "uri_esco",
        "skill": "competencia",
        "candidates_missing": "personas_sin_ella",
        "share_of_assigned": "proporcion_asignadas",
    },
    "en": {},
}


def read_pairs(path: str | Path, *, kind: str) -> tuple[tuple[str, str], ...]:
    """``(candidate_id, vacancy_id)`` pairs of a CSV file with those two columns."""
    frame = _read(path)
    missing = {"candidate_id", "vacancy_id"} - set(frame.columns)
    if missing:
        raise ValidationError(
            [FieldProblem(str(path), c, "column is required and missing") for c in sorted(missing)],
            source=f"--{kind} {path}",
        )
    problems = [
        FieldProblem(f"{r.candidate_id},{r.vacancy_id}", c, "is empty", line=k + 2)
        for k, r in enumerate(frame.itertuples())
        for c in ("candidate_id", "vacancy_id")
        if not str(getattr(r, c)).strip()
    ]
    if problems:
        raise ValidationError(problems, source=f"--{kind} {path}")
    return tuple(
        (str(c).strip(), str(v).strip()) for c, v in zip(frame["candidate_id"], frame["vacancy_id"])
    )


def read_households(path: str | Path) -> tuple[tuple[str, ...], ...]:
    """Households from a CSV with ``household_id`` and ``candidate_id`` columns."""
    frame = _read(path)
    missing = {"household_id", "candidate_id"} - set(frame.columns)
    if missing:
        raise ValidationError(
            [FieldProblem(str(path), c, "column is required and missing") for c in sorted(missing)],
            source=f"--households {path}",
        )
    groups: dict[str, list[str]] = {}
    for h, c in zip(frame["household_id"], frame["candidate_id"]):
        groups.setdefault(str(h).strip(), []).append(str(c).strip())
    return tuple(tuple(m) for m in groups.values())


def _read(path: str | Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"cannot read {path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from exc


def write_cohort(result, directory: str | Path, *, lang: str = "es") -> Path:
    """Write assignments, waitlist, fairness, training plan and report.html into ``directory``.

    An existing folder of that name is replaced only once everything is written.
    """
    from matcher.report import render_report

    target = Path(directory)
    headers = HEADERS[lang]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    except OSError as exc:
        raise InputFileError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        result.assignments.to_csv(tmp / "assignments.csv", index=False, lineterminator="\n")
        result.waitlist.to_csv(tmp / "waitlist.csv", index=False, lineterminator="\n")
        result.fairness.rename(columns=headers).to_csv(
            tmp / "fairness.csv", index=False, lineterminator="\n"
        )
        plan = result.training_plan.rename(columns={f"skill_{lang}": "skill"})
        plan = plan[["vacancy_id", "skill_uri", "skill", "candidates_missing", "share_of_assigned"]]
        plan.rename(columns=headers).to_csv(
            tmp / "training_plan.csv", index=False, lineterminator="\n"
        )
        (tmp / "report.html").write_text(render_report(result, lang=lang), encoding="utf-8")
        os.chmod(tmp, 0o755)
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old."))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
