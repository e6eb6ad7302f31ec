"""Save and load trained scorers: versioned JSON weights and a Markdown model card. Never pickle.

A model folder holds ``model.json`` (:meth:`matcher.learned.OutcomeScorer.to_dict`: the
weights, the Platt layer, the training window and metrics, and a SHA-256 digest over all
of it) and ``MODEL_CARD.md``. Loading (:func:`load_model`, the same code the engine and
the API use through ``matcher.io.load_scorer``) parses numbers only; a file that was
altered, a pickle, a skops zip or any other JSON is refused with a
:class:`~matcher.learned.ModelArtifactError`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from matcher.config import FEATURES
from matcher.io import MODEL_FILE, AtomicWriter, load_scorer
from matcher.learned import ModelArtifactError

__all__ = ["CARD_FILE", "MODEL_FILE", "ModelArtifactError", "load_model", "save_model"]

CARD_FILE = "MODEL_CARD.md"


def _records(frame) -> list[dict]:
    out = []
    for rec in frame.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, float | np.floating):
                v = None if not np.isfinite(v) else round(float(v), 4)
            elif isinstance(v, np.integer):
                v = int(v)
            clean[str(k)] = v
        out.append(clean)
    return out


def save_model(result, data, report, directory: str | Path) -> str:
    """Write ``model.json`` and ``MODEL_CARD.md`` into ``directory``; return the model version."""
    from matcher import __version__

    starts = data.frame["start_date"]
    metadata = {
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reintegra": __version__,
        "train_config": result.config.to_dict(),
        "data": {
            "first_start": str(min(starts)) if len(starts) else None,
            "last_start": str(max(starts)) if len(starts) else None,
            "as_of": str(data.as_of),
            "labelled_placements": len(data.frame),
            "retained_share": round(float(data.y.mean()), 4) if len(data.frame) else None,
            "excluded": data.excluded["status"].value_counts().to_dict(),
            "cohorts": data.cohorts,
        },
        "metrics": {
            "heldout": _records(report.heldout),
            "retained": _records(report.retained),
            "groups": _records(report.groups),
            "judge": report.judge,
        },
    }
    payload = result.scorer.to_dict(metadata=metadata)
    folder = Path(directory)
    with AtomicWriter(folder / MODEL_FILE) as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")
    with AtomicWriter(folder / CARD_FILE) as handle:
        handle.write(model_card(payload, report))
    return str(payload["model_version"])


def load_model(path: str | Path):
    """``(scorer, model_version)`` from a model folder or ``model.json``; refuses anything else."""
    return load_scorer(path)


def _table(frame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in frame.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in rec]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_card(payload: dict, report) -> str:
    """The Markdown model card of a saved model."""
    meta = payload["metadata"]
    data = meta["data"]
    weights = "\n".join(f"| {name} | {w:+.3f} |" for name, w in zip(FEATURES, payload["coef"]))
    a, b = payload["calibration"]
    return f"""# Model card: {payload["model_version"]}

- **What**: probability that a placement lasts {meta["train_config"]["horizon_months"]:g} months
  (still employed at the follow-up visit), from the engine's pair features. Logistic
  regression, L2 (C = {payload["params"]["C"]}), evidence weights kept >= 0, Platt-calibrated
  on out-of-fold logits (slope {a:.3f}, offset {b:+.3f}).
- **Created**: {meta["created"]} with reintegra {meta["reintegra"]}.
- **Data window**: placements started {data["first_start"]} to {data["last_start"]}, outcomes
  as of {data["as_of"]}; {data["labelled_placements"]} labelled placements (retained share
  {data["retained_share"]}), cohorts {", ".join(data["cohorts"])}. Excluded: {data["excluded"]}
  (horizon not reached yet, or no visit to tell).

## Features and weights (logit per unit of feature)

| feature | weight |
|---|---|
{weights}
| (intercept) | {payload["intercept"]:+.3f} |

Gender, birth year and every other personal field are not features: the scorer cannot see them.

## Held-out metrics

{_table(report.heldout)}

## Back-test: the last cohort assigned by the cohort optimiser (judge: {report.judge})

{_table(report.retained)}

## By group (last cohort): AUC, mean score and selection rates

{_table(report.groups)}

## Known limits

- Learned only from placements that happened: people and pairs the old process never
  placed are not represented (selection bias); the scores are reliable near past practice.
- The label is retention at the horizon; it says nothing about wages or well-being.
- Cohorts drift; retrain when a new cohort's outcomes arrive and compare with `reintegra
  evaluate` before switching.
- Group effects in outcomes (for example from employers' conduct) are not modelled; check the
  group table, and use the cohort fairness floor when selection rates diverge.
- The expected-retention back-test judged by the model itself favours the model.
"""
