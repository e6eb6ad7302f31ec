"""Learning from outcomes, on the SYNTHETIC history of ``fixtures/outcomes``.

    python -m evals.outcomes

Prints, side by side, the held-out AUC (grouped by cohort, and the time-ordered
back-test on the last cohort) of the learned scorer, the default weights and the hidden
ground truth, then the GeoMatch-style back-test: expected retained placements of the last
cohort assigned by the cohort optimiser with each scorer (judged by the ground truth),
with a bootstrap interval. Exits 1 when an acceptance line of issue 7 fails: learned AUC
more than 0.03 under the ground truth's, less than 0.05 over the default weights', or no
gain in expected retained placements.
"""

from __future__ import annotations

import sys
import time


def run(n_boot: int = 200):
    from fixtures.outcomes.generate import AS_OF, HERE, judge
    from matcher.io import load_engine
    from training.datasets import build_dataset, load_history
    from training.evaluate import evaluate_training
    from training.train import train

    outcomes, cands, vacs = load_history(HERE / "outcomes.csv")
    engine = load_engine()
    data = build_dataset(engine, outcomes, cands, vacs, as_of=AS_OF)
    result = train(data)
    report = evaluate_training(
        result, data, engine=engine, candidates=cands, vacancies=vacs, judge=judge, n_boot=n_boot
    )
    return result, report


def checks(report) -> list[tuple[str, bool, str]]:
    """(acceptance line, passed, measured) for issue 7's numeric lines."""
    out = []
    for rows, table in report.heldout.groupby("rows", sort=False):
        auc = dict(zip(table["scorer"], table["auc"]))
        learned, truth, default = auc["learned"], auc["ground-truth"], auc["default-weights"]
        out.append(
            (
                f"{rows}: learned AUC within 0.03 of ground truth",
                truth - learned <= 0.03,
                f"{learned:.3f} vs {truth:.3f}",
            )
        )
        out.append(
            (
                f"{rows}: learned AUC >= default + 0.05",
                learned - default >= 0.05,
                f"{learned:.3f} vs {default:.3f}",
            )
        )
    ret = report.retained.set_index("scorer")
    gain = float(ret.loc["default-weights", "gain_of_first"])
    low = float(ret.loc["default-weights", "gain_ci95_low"])
    high = float(ret.loc["default-weights", "gain_ci95_high"])
    out.append(
        (
            "back-test: more expected retained placements than default",
            gain > 0,
            f"+{gain:.1f} (95% bootstrap {low:+.1f} to {high:+.1f})",
        )
    )
    return out


def main() -> int:
    started = time.perf_counter()
    _, report = run()
    print("Learning from outcomes (synthetic history, fixtures/outcomes)\n")
    print(report.summary())
    print()
    failed = 0
    for line, ok, measured in checks(report):
        failed += not ok
        print(f"[{'ok' if ok else 'FAIL'}] {line}: {measured}")
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
