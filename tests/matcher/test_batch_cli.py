"""`reintegra shortlist` and `reintegra matches` on files: output contract and bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from matcher.cli import main
from matcher.io import default_fixtures_dir

DEMO = default_fixtures_dir() / "demo"


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    lines = (DEMO / "candidates.jsonl").read_text("utf-8").splitlines()[:60]
    (folder / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    vac = (DEMO / "vacancies.jsonl").read_text("utf-8").splitlines()[:4]
    (folder / "v.jsonl").write_text("\n".join(vac) + "\n", encoding="utf-8")
    return folder


def test_shortlist_writes_ranked_explained_rows(small_inputs, tmp_path):
    out = tmp_path / "shortlist.csv"
    code = main(
        [
            "shortlist",
            "--candidates",
            str(small_inputs / "c.jsonl"),
            "--vacancies",
            str(small_inputs / "v.jsonl"),
            "--top-k",
            "3",
            "--out",
            str(out),
            "--quiet",
            "--chunk-size",
            "17",
        ]
    )
    assert code == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == [
        "vacancy_id",
        "rank",
        "candidate_id",
        "score",
        "matched_skills",
        "missing_skills",
        "explanation",
    ]
    for _, group in table.groupby("vacancy_id"):
        assert list(group["rank"]) == list(range(1, len(group) + 1))
        assert group["score"].is_monotonic_decreasing
    assert table["explanation"].str.startswith("Coincidencia").all()


def test_shortlist_is_the_same_whatever_the_chunk_size(small_inputs, tmp_path):
    outs = []
    for size in ("5", "1000"):
        out = tmp_path / f"s{size}.csv"
        main(
            [
                "shortlist",
                "--candidates",
                str(small_inputs / "c.jsonl"),
                "--vacancies",
                str(small_inputs / "v.jsonl"),
                "--top-k",
                "5",
                "--out",
                str(out),
                "--quiet",
                "--chunk-size",
                size,
            ]
        )
        outs.append(out.read_text("utf-8"))
    assert outs[0] == outs[1]


def test_one_vacancy_and_english_explanations(small_inputs, tmp_path):
    out = tmp_path / "one.csv"
    main(
        [
            "shortlist",
            "--candidates",
            str(small_inputs / "c.jsonl"),
            "--vacancies",
            str(small_inputs / "v.jsonl"),
            "--vacancy",
            "V001",
            "--lang",
            "en",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    table = pd.read_csv(out)
    assert set(table["vacancy_id"]) == {"V001"}
    assert table["explanation"].str.startswith("Match").all()


def test_matches_gives_each_candidate_its_vacancies(small_inputs, tmp_path, engine):
    out = tmp_path / "matches.csv"
    code = main(
        [
            "matches",
            "--candidates",
            str(small_inputs / "c.jsonl"),
            "--vacancies",
            str(small_inputs / "v.jsonl"),
            "--top-k",
            "2",
            "--out",
            str(out),
            "--quiet",
            "--chunk-size",
            "7",
        ]
    )
    assert code == 0
    table = pd.read_csv(out)
    assert list(table.columns[:4]) == ["candidate_id", "rank", "vacancy_id", "score"]
    assert table.groupby("candidate_id")["rank"].max().max() <= 2
    from matcher.io import read_candidates, read_vacancies

    cands = read_candidates(small_inputs / "c.jsonl")
    scored = engine.score(
        engine.encode_candidates(cands),
        engine.encode_vacancies(read_vacancies(small_inputs / "v.jsonl")),
    )
    with_any = {c.id for c, ok in zip(cands, scored.eligible.any(axis=1)) if ok}
    assert set(table["candidate_id"]) == with_any and len(with_any) >= 5


def test_bad_records_exit_2_listing_every_line_and_field(tmp_path, bad_candidates, capsys):
    cands = bad_candidates
    vacs = tmp_path / "bad_v.jsonl"
    vacs.write_text(
        json.dumps({"id": "V1", "employer_id": "E", "title": "x", "openings": 0}) + "\n"
    )
    out = tmp_path / "out.csv"
    code = main(
        [
            "shortlist",
            "--candidates",
            str(cands),
            "--vacancies",
            str(vacs),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "line 1" in err and "'openings'" in err  # vacancies are checked first
    assert not out.exists()

    good_v = tmp_path / "v.jsonl"
    good_v.write_text(json.dumps({"id": "V1", "employer_id": "E", "title": "Soldador"}) + "\n")
    code = main(
        [
            "shortlist",
            "--candidates",
            str(cands),
            "--vacancies",
            str(good_v),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "line 1 (#1), field 'id': is required" in err
    assert "line 2 (R1), field 'experience_years': must be >= 0" in err
    assert "line 3 (R1), field 'id': duplicate id 'R1' (first seen at line 2)" in err
    assert "line 4 (#4), field '(record)': not valid JSON" in err
    assert list(tmp_path.glob(".out.csv*")) == []


def test_csv_input_with_semicolon_lists(tmp_path):
    cands = tmp_path / "c.csv"
    cands.write_text(
        "id,skills,region,certifications,languages,experience_years,willing_to_relocate\n"
        "R1,empalme de fibra óptica;inspección de cables,Lima,SCTR,es,3,false\n"
        "R2,gestión de residuos,Lima,SCTR,es,2,no\n",
        encoding="utf-8",
    )
    vacs = tmp_path / "v.csv"
    vacs.write_text(
        "id,employer_id,title,required_skills,required_certifications,region,openings\n"
        "V1,E1,Técnico de fibra óptica,empalme de fibra óptica;inspeccionar cables,SCTR,Lima,2\n",
        encoding="utf-8",
    )
    out = tmp_path / "s.csv"
    assert (
        main(
            [
                "shortlist",
                "--candidates",
                str(cands),
                "--vacancies",
                str(vacs),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    table = pd.read_csv(out)
    assert list(table["candidate_id"]) == ["R1", "R2"]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,experience_years\nR1,-1\nR2,abc\n", encoding="utf-8")
    assert (
        main(
            [
                "shortlist",
                "--candidates",
                str(bad),
                "--vacancies",
                str(vacs),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 2
    )


def test_unknown_vacancy_id_exits_2(small_inputs, tmp_path, capsys):
    code = main(
        [
            "shortlist",
            "--candidates",
            str(small_inputs / "c.jsonl"),
            "--vacancies",
            str(small_inputs / "v.jsonl"),
            "--vacancy",
            "NOPE",
            "--out",
            str(tmp_path / "x.csv"),
        ]
    )
    assert code == 2 and "NOPE" in capsys.readouterr().err


def test_scoring_in_small_blocks_gives_the_same_shortlist(
    engine, demo_candidates, demo_vacancies, monkeypatch
):
    import matcher.batch as batch

    whole = batch.shortlist_top(engine, demo_vacancies, [demo_candidates[:90]], top_k=5)
    monkeypatch.setattr(batch, "MAX_PAIRS_PER_BLOCK", 7 * len(demo_vacancies))
    blocks = batch.shortlist_top(engine, demo_vacancies, [demo_candidates[:90]], top_k=5)
    assert whole == blocks


def test_progress_bars_start_no_thread():
    """The shortlist search forks its workers only from a process without other threads;
    a progress bar's monitor thread would quietly keep a national run on threads."""
    import threading

    from matcher.cli import _progress

    before = {t.ident for t in threading.enumerate()}
    with _progress(10, quiet=False, unit="x") as bar:
        bar.update(5)
        assert {t.ident for t in threading.enumerate()} == before
