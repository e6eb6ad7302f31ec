from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from matcher.cli import main


def run(args, stdin: bytes | None = None, capsys=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_normalise_writes_one_row_per_rank_with_the_documented_columns(tmp_path, capsys):
    src = tmp_path / "skills.txt"
    src.write_text("empalme de fibra optica\ngestión de residuos\n", encoding="utf-8")
    code, out, _ = run(["normalise", str(src), "--top-k", "2"], capsys=capsys)
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == [
        "mention",
        "rank",
        "uri",
        "label_es",
        "label_en",
        "score",
        "method",
        "matched",
    ]
    assert len(table) == 4
    assert table.loc[0, "label_en"] == "splice cable"


def test_normalise_reads_stdin_and_writes_jsonl_to_a_file(tmp_path, capsys, monkeypatch):
    out_file = tmp_path / "out.jsonl"
    code, out, _ = run(
        [
            "normalise",
            "-",
            "--kind",
            "occupation",
            "--format",
            "jsonl",
            "--top-k",
            "1",
            "--out",
            str(out_file),
        ],
        stdin=b"GASFITEROS\n",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert code == 0 and out == ""
    rows = [json.loads(line) for line in out_file.read_text("utf-8").splitlines()]
    assert rows[0]["label_en"] == "plumber" and rows[0]["uri"].startswith(
        "http://data.europa.eu/esco/"
    )


def test_empty_and_undecodable_lines_are_reported_and_the_rest_processed(tmp_path, capsys):
    src = tmp_path / "mixed.txt"
    src.write_bytes(b"soldadura TIG\n\n\xff\xfe roto\nOTDR\n")
    code, out, err = run(["normalise", str(src), "--top-k", "1"], capsys=capsys)
    assert code == 0
    assert "line 2: empty" in err and "line 3: not valid UTF-8" in err
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert len(table) == 4
    assert list(table["matched"]) == [True, False, False, True]


def test_unreadable_file_exits_2_with_a_message(capsys):
    code, out, err = run(["normalise", "/no/such/file.txt"], capsys=capsys)
    assert code == 2 and out == ""
    assert "cannot read /no/such/file.txt" in err


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["normalise", "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_extract_numbers_input_lines_from_one(tmp_path, capsys):
    src = tmp_path / "ads.txt"
    src.write_text(
        "Técnico con experiencia en empalme de fibra óptica.\n\n"
        "Install and maintain wind turbines.\n",
        encoding="utf-8",
    )
    code, out, err = run(["extract", str(src), "--top-k", "3"], capsys=capsys)
    assert code == 0 and "line 2: empty" in err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == [
        "line",
        "rank",
        "uri",
        "label_en",
        "label_es",
        "score",
        "evidence",
    ]
    assert set(table["line"]) == {1, 3}
    first = table[table["line"] == 1].iloc[0]
    assert first["label_en"] == "splice cable" and "empalme" in first["evidence"]


def test_console_script_is_installed():
    done = subprocess.run(
        [sys.executable, "-m", "matcher.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "normalise" in done.stdout and "extract" in done.stdout
