"""Reading inputs in partitions (JSON Lines, CSV, Parquet) and staged, resumable outputs."""

from __future__ import annotations

import json
import os

import pytest

from matcher.exceptions import InputFileError, ValidationError
from matcher.io import (
    InputPartition,
    StagedOutput,
    default_fixtures_dir,
    iter_records,
    read_candidates,
    scan_candidates,
)

DEMO = default_fixtures_dir() / "demo"


@pytest.fixture(scope="module")
def demo_records():
    return [
        json.loads(line) for line in (DEMO / "candidates.jsonl").read_text("utf-8").splitlines()
    ]


def _write_parquet(records, path, *, row_group_size=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    def struct(skill):
        return skill if isinstance(skill, dict) else {"text": skill, "years": None}

    rows = [{**r, "skills": [struct(s) for s in r.get("skills", [])]} for r in records]
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)


def test_jsonl_partitions_are_line_aligned_byte_ranges_covering_every_record(tmp_path):
    lines = (DEMO / "candidates.jsonl").read_text("utf-8").splitlines()[:50]
    path = tmp_path / "c.jsonl"
    # Blank lines and a CRLF line end inside: line numbers must still match the file's.
    path.write_bytes(("\n".join(lines[:10]) + "\n\n\r\n" + "\r\n".join(lines[10:]) + "\n").encode())
    source = scan_candidates(path, rows_per_partition=7)
    assert [p.length for p in source.partitions] == [7] * 7 + [1]
    assert source.n_records == 50 and [p.offset for p in source.partitions][:3] == [0, 7, 14]
    data = path.read_bytes()
    for part in source.partitions:
        assert part.start == 0 or data[part.start - 1 : part.start] == b"\n"
    records = [rec for part in source.partitions for rec in part.records()]
    expected = [rec for chunk in iter_records(path, chunk_size=1000) for rec in chunk]
    assert records == expected
    assert records[10][0] == 13  # after the two blank lines
    loaded = [c for part in source.partitions for c in part.load()]
    assert loaded == read_candidates(path)


def test_the_scan_hands_its_last_parsed_partition_to_an_in_process_run(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\n".join((DEMO / "candidates.jsonl").read_text("utf-8").splitlines()[:23]) + "\n",
        "utf-8",
    )
    source = scan_candidates(path, rows_per_partition=10)
    parts = source.in_process_partitions()
    # Only the last partition is already in memory; the others are still read where they run.
    assert parts[:-1] == list(source.partitions[:-1])
    assert (parts[-1].index, parts[-1].offset, parts[-1].length) == (2, 20, 3)
    assert parts[-1].load() == source.partitions[-1].load()
    some = frozenset({parts[-1].load()[1].id})
    assert parts[-1].load(some) == source.partitions[-1].load(some)


def test_partitioning_is_deterministic_and_fingerprints_the_content(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes((DEMO / "candidates.jsonl").read_bytes())
    first = scan_candidates(path, rows_per_partition=40)
    assert scan_candidates(path, rows_per_partition=40) == first
    with path.open("ab") as handle:
        handle.write(b'{"id": "NEW"}\n')
    again = scan_candidates(path, rows_per_partition=40)
    assert again.sha256 != first.sha256 and again.n_records == 301


def test_parquet_partitions_read_only_their_rows_and_equal_the_jsonl(tmp_path, demo_records):
    path = tmp_path / "c.parquet"
    _write_parquet(demo_records, path, row_group_size=64)
    source = scan_candidates(path, rows_per_partition=50)
    assert source.fmt == "parquet" and [p.length for p in source.partitions] == [50] * 6
    part = source.partitions[2]
    assert [n for n, _ in part.records()][:2] == [101, 102]  # rows numbered from 1
    loaded = [c for p in source.partitions for c in p.load()]
    assert loaded == read_candidates(DEMO / "candidates.jsonl")
    assert read_candidates(path) == loaded
    assert part.load(frozenset({demo_records[120]["id"]}))[0].id == demo_records[120]["id"]


def test_parquet_problems_name_the_row_and_field(tmp_path, demo_records):
    rows = [dict(r) for r in demo_records[:5]]
    rows[1]["experience_years"] = -2
    rows[3]["id"] = rows[0]["id"]
    path = tmp_path / "bad.parquet"
    _write_parquet(rows, path)
    with pytest.raises(ValidationError) as caught:
        scan_candidates(path, rows_per_partition=2)
    text = str(caught.value)
    assert f"line 2 ({rows[1]['id']}), field 'experience_years': must be >= 0, got -2" in text
    assert f"line 4 ({rows[0]['id']}), field 'id': duplicate id" in text


def test_scan_reports_every_problem_like_read_candidates_across_partitions(bad_candidates):
    path = bad_candidates
    with pytest.raises(ValidationError) as whole:
        read_candidates(path)
    with pytest.raises(ValidationError) as scanned:
        scan_candidates(path, rows_per_partition=2)
    assert [str(p) for p in scanned.value.problems] == [str(p) for p in whole.value.problems]
    assert "line 3 (R1), field 'id': duplicate id 'R1' (first seen at line 2)" in str(scanned.value)


def test_csv_partitions_equal_the_whole_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "id,skills,region\n" + "".join(f"R{i},soldadura;gasfitería,Lima\n" for i in range(11)),
        encoding="utf-8",
    )
    source = scan_candidates(path, rows_per_partition=4)
    assert [p.length for p in source.partitions] == [4, 4, 3]
    assert [n for n, _ in source.partitions[1].records()] == [6, 7, 8, 9]
    assert [c for p in source.partitions for c in p.load()] == read_candidates(path)


def test_a_worker_that_cannot_see_the_file_says_so(tmp_path):
    part = InputPartition(str(tmp_path / "gone.jsonl"), "jsonl", 0, 0, 1, 0, 10, 1)
    with pytest.raises(InputFileError, match="shared storage"):
        part.load()
    with pytest.raises(InputFileError, match="no such file"):
        scan_candidates(tmp_path / "gone.jsonl")


def test_staged_output_commits_whole_resumes_and_cleans(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.csv").write_text("old", "utf-8")
    staged = StagedOutput(target, {"run": 1})
    assert staged.open() == set()
    staged.write_part("part-00000.csv", lambda p: p.write_text("a\n", "utf-8"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.staging", "out"]
    assert [p.name for p in target.iterdir()] == ["old.csv"]  # nothing inside until commit

    assert StagedOutput(target, {"run": 1}).open() == {"part-00000.csv"}  # resumed
    assert StagedOutput(target, {"run": 2}).open() == set()  # other inputs: cleaned
    staged = StagedOutput(target, {"run": 2})
    staged.open()
    staged.write_part("part-00000.csv", lambda p: p.write_text("b\n", "utf-8"))
    staged.commit(["part-00000.csv"], {"parts": 1})
    assert sorted(p.name for p in target.iterdir()) == ["_manifest.json", "part-00000.csv"]
    assert (target / "part-00000.csv").read_text("utf-8") == "b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_commit_killed_between_its_renames_is_restored(tmp_path):
    target = tmp_path / "out"
    staged = StagedOutput(target, {"run": 1})
    staged.open()
    (staged.staging / "previous").mkdir()
    (staged.staging / "previous" / "x.csv").write_text("x", "utf-8")
    assert not target.exists()
    StagedOutput(target, {"run": 1}).open()
    assert (target / "x.csv").read_text("utf-8") == "x"


def test_shortlist_from_parquet_equals_jsonl(tmp_path, demo_records):
    from matcher.cli import main

    _write_parquet(demo_records[:80], tmp_path / "c.parquet", row_group_size=30)
    (tmp_path / "c.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in demo_records[:80]), "utf-8"
    )
    outs = []
    for name in ("c.parquet", "c.jsonl"):
        out = tmp_path / f"{name}.csv"
        args = ["shortlist", "--candidates", str(tmp_path / name), "--vacancies"]
        args += [str(DEMO / "vacancies.jsonl"), "--out", str(out), "--quiet", "--chunk-size", "25"]
        assert main(args) == 0
        outs.append(out.read_text("utf-8"))
    assert outs[0] == outs[1] and outs[0].count("\n") > 50
    assert os.path.getsize(tmp_path / "c.parquet") > 0
