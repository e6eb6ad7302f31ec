"""``reintegra cohort`` end to end on the demo data, bad input, and the report in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matcher import cli
from matcher.cohort import CohortOptions, select_cohort
from matcher.cohort_io import write_cohort
from matcher.io import default_fixtures_dir

DEMO = default_fixtures_dir() / "demo"
ARTIFACTS = Path(__file__).resolve().parents[2] / "out" / "artifacts"


@pytest.fixture(autouse=True)
def _shared_engine(monkeypatch, engine):
    monkeypatch.setattr("matcher.io.load_engine", lambda *a, **k: engine)


@pytest.fixture(scope="module")
def fair_result(engine, demo_candidates, demo_vacancies):
    options = CohortOptions(min_score=0.3, fairness_attribute="gender", min_impact_ratio=0.8)
    return select_cohort(engine, demo_candidates, demo_vacancies, options)


def test_demo_cohort_is_valid_fair_and_beats_greedy(fair_result, demo_vacancies):
    a, s = fair_result.assignments, fair_result.summary
    assert a["candidate_id"].is_unique
    openings = {v.id: v.openings for v in demo_vacancies}
    assert (
        a.groupby("vacancy_id").size()
        <= a["vacancy_id"]
        .drop_duplicates()
        .map(openings)
        .set_axis(a["vacancy_id"].drop_duplicates())
    ).all()
    assert (a["score"] >= 0.3).all() and (a["rank"] >= 1).all()
    gender = fair_result.fairness[fair_result.fairness["attribute"] == "gender"]
    assert s["fairness_feasible"] and gender["passes"].all()
    assert gender["impact_ratio"].min() >= 0.8 - 0.005
    # The fairness floor costs something here, and the report has the figures to say so.
    assert s["unconstrained_total"] >= s["total_score"] - 1e-9
    assert s["unconstrained_total"] >= s["greedy_total"] - 1e-9
    assert len(fair_result.training_plan) and len(fair_result.waitlist)
    waiting = set(fair_result.waitlist["candidate_id"])
    assert not waiting & set(a["candidate_id"])


def test_cli_writes_every_file(tmp_path, capsys):
    out = tmp_path / "cohort"
    rc = cli.main(
        [
            "cohort",
            "--candidates",
            str(DEMO / "candidates.jsonl"),
            "--vacancies",
            str(DEMO / "vacancies.jsonl"),
            "--out",
            str(out),
            "--lang",
            "en",
            "--min-score",
            "0.35",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    names = {"assignments.csv", "waitlist.csv", "fairness.csv", "training_plan.csv", "report.html"}
    assert {p.name for p in out.iterdir()} == names
    a = pd.read_csv(out / "assignments.csv")
    assert list(a.columns[:4]) == ["vacancy_id", "candidate_id", "score", "rank"]
    assert (a["score"] >= 0.35).all()
    assert "How this was decided" in (out / "report.html").read_text("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["cohort"]  # no temporary folders left


def _vacancies_with(tmp_path, **changes) -> Path:
    lines = (DEMO / "vacancies.jsonl").read_text("utf-8").splitlines()
    first = json.loads(lines[0]) | changes
    path = tmp_path / "vacancies.jsonl"
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", "utf-8")
    return path


def _ineligible_lock(tmp_path, engine) -> list[str]:
    from matcher.io import read_candidates, read_vacancies

    cands = read_candidates(DEMO / "candidates.jsonl")[:20]
    vacs = read_vacancies(DEMO / "vacancies.jsonl")
    scored = engine.score(engine.encode_candidates(cands), engine.encode_vacancies(vacs))
    i, j = (int(k[0]) for k in np.nonzero(~scored.eligible))
    small = tmp_path / "candidates.jsonl"
    small.write_text(
        "".join(
            line + "\n" for line in (DEMO / "candidates.jsonl").read_text("utf-8").splitlines()[:20]
        ),
        "utf-8",
    )
    lock = tmp_path / "lock.csv"
    lock.write_text(f"candidate_id,vacancy_id\n{cands[i].id},{vacs[j].id}\n", "utf-8")
    return ["--candidates", str(small), "--lock", str(lock)]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("negative_openings", "openings"),
        ("fractional_openings", "openings"),
        ("ineligible_lock", "hard constraint"),
        ("unknown_attribute", "fairness_attribute"),
        ("ratio_without_attribute", "fairness_attribute"),
    ],
)
def test_bad_input_exits_2_without_output(case, message, tmp_path, capsys, engine):
    args = [
        "--candidates",
        str(DEMO / "candidates.jsonl"),
        "--vacancies",
        str(DEMO / "vacancies.jsonl"),
    ]
    if case == "negative_openings":
        args[3] = str(_vacancies_with(tmp_path, openings=-2))
    elif case == "fractional_openings":
        args[3] = str(_vacancies_with(tmp_path, openings=1.5))
    elif case == "ineligible_lock":
        args = [*args[2:], *_ineligible_lock(tmp_path, engine)]
    elif case == "unknown_attribute":
        args += ["--fairness-attribute", "religion"]
    else:
        args += ["--min-impact-ratio", "0.8"]
    out = tmp_path / "out"
    rc = cli.main(["cohort", *args, "--out", str(out)])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium_without_console_errors(fair_result, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed in CI (.ci/setup-chromium.sh installs it)")
        pytest.skip("chromium not installed: apt-get install -y chromium")
    folder = write_cohort(fair_result, tmp_path / "cohort", lang="es")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "cohort_report.png"
    shot.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1280,4200",
            f"--screenshot={shot}",
            (folder / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shot.exists() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    html = (folder / "report.html").read_text("utf-8")
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org', "")
