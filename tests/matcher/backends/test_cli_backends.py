"""``--backend`` on the command line: same files as local, killed runs, resume, bad usage."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import matcher.batch as batch
from matcher.cli import main

ROOT = Path(__file__).resolve().parents[3]
ORIGINAL_MATCHES_PARTITION = batch.matches_partition


def _args(command, inputs, out, *extra):
    return [
        command,
        "--candidates",
        str(inputs / "candidates.jsonl"),
        "--vacancies",
        str(inputs / "vacancies.jsonl"),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _parts_text(folder: Path, fmt: str = "csv") -> str:
    """The rows of a folder output's parts, in order, with one header (as one file would be)."""
    parts = sorted(folder.glob(f"part-*.{fmt}"))
    texts = [p.read_text("utf-8") for p in parts]
    return texts[0] + "".join(t.split("\n", 1)[1] for t in texts[1:])


@pytest.fixture(scope="module")
def local_results(inputs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    for command in ("shortlist", "matches"):
        rc = main(_args(command, inputs, folder / f"{command}.csv", "--chunk-size", "40"))
        assert rc == 0
    return folder


def test_dask_on_separate_processes_writes_the_local_files(
    inputs, local_results, scheduler_address, tmp_path
):
    for command in ("shortlist", "matches"):
        out = tmp_path / command
        rc = main(
            _args(
                command,
                inputs,
                f"{out}/",
                "--chunk-size",
                "40",
                "--backend",
                "dask",
                "--scheduler",
                scheduler_address,
            )
        )
        assert rc == 0
        expected = (local_results / f"{command}.csv").read_text("utf-8")
        assert _parts_text(out) == expected
        manifest = __import__("json").loads((out / "_manifest.json").read_text("utf-8"))
        assert manifest["backend"] == "dask" and manifest["partitions"] == 8
        assert [p["name"] for p in manifest["parts"]] == sorted(
            p.name for p in out.glob("part-*.csv")
        )
    assert len(list((tmp_path / "matches").glob("part-*.csv"))) == 8  # one per partition
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matches", "shortlist"]  # no staging


def test_cohort_on_dask_writes_the_local_cohort(inputs, scheduler_address, tmp_path):
    common = ["--min-score", "0.35", "--fairness-attribute", "gender", "--chunk-size", "60"]
    local, dask = tmp_path / "local", tmp_path / "dask"
    args = [a for a in _args("cohort", inputs, local, *common) if a != "--quiet"]
    assert main(args) == 0
    args = [a for a in _args("cohort", inputs, dask, *common) if a != "--quiet"]
    assert main([*args, "--backend", "dask", "--scheduler", scheduler_address]) == 0
    for name in ("assignments.csv", "waitlist.csv", "fairness.csv", "training_plan.csv"):
        assert (dask / name).read_text("utf-8") == (local / name).read_text("utf-8"), name
    assert (local / "assignments.csv").read_text("utf-8").count("\n") > 10


@pytest.mark.slow
def test_dask_without_scheduler_runs_on_a_local_cluster(inputs, tmp_path):
    lines = (inputs / "candidates.jsonl").read_text("utf-8").splitlines()[:60]
    (tmp_path / "candidates.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (tmp_path / "vacancies.jsonl").write_bytes((inputs / "vacancies.jsonl").read_bytes())
    local, dask = tmp_path / "local.csv", tmp_path / "dask.csv"
    assert main(_args("shortlist", tmp_path, local, "--chunk-size", "25")) == 0
    extra = ("--chunk-size", "25", "--backend", "dask", "--workers", "1")
    assert main(_args("shortlist", tmp_path, dask, *extra)) == 0
    assert dask.read_text("utf-8") == local.read_text("utf-8")


def test_sigkill_half_way_leaves_the_output_folder_as_it_was_and_a_rerun_resumes(
    inputs, local_results, scheduler_address, tmp_path
):
    out = tmp_path / "matches"
    out.mkdir()
    (out / "part-00000.csv").write_text("an earlier result\n", "utf-8")
    (out / "notes.txt").write_text("kept until a run completes\n", "utf-8")
    before = _snapshot(out)
    staging = tmp_path / ".matches.staging"
    args = _args(
        "matches",
        inputs,
        out,
        "--chunk-size",
        "5",
        "--backend",
        "dask",
        "--scheduler",
        scheduler_address,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "matcher.cli", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if len(list((staging / "parts").glob("part-*.csv"))) >= 3:
                break
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert _snapshot(out) == before  # untouched: no new parts, no temporary files inside
    finished = {p.name: p.stat().st_ino for p in (staging / "parts").glob("part-*.csv")}
    assert 3 <= len(finished) < 60

    assert main(args) == 0  # the re-run resumes from the staged partitions
    assert not staging.exists() and "notes.txt" not in {p.name for p in out.iterdir()}
    assert len(list(out.glob("part-*.csv"))) == 60
    assert _parts_text(out) == (local_results / "matches.csv").read_text("utf-8")
    kept = {name: (out / name).stat().st_ino for name in finished}
    assert kept == finished  # the finished parts were moved into place, not computed again


def _interrupt_after(monkeypatch, calls: list, fail_at: int | None):
    real = ORIGINAL_MATCHES_PARTITION

    def counting(*args, **kwargs):
        calls.append(len(args[2]))
        if fail_at is not None and len(calls) == fail_at:
            raise RuntimeError("interrupted")
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "matches_partition", counting)


def test_an_interrupted_local_run_resumes_or_starts_clean_when_options_change(
    inputs, local_results, tmp_path, monkeypatch
):
    out = tmp_path / "m"
    args = _args("matches", inputs, f"{out}/", "--chunk-size", "40")
    calls: list = []
    _interrupt_after(monkeypatch, calls, fail_at=4)
    with pytest.raises(RuntimeError, match="interrupted"):
        main(args)
    assert not out.exists() and len(list((tmp_path / ".m.staging" / "parts").iterdir())) == 3

    calls.clear()
    _interrupt_after(monkeypatch, calls, fail_at=None)
    assert main(args) == 0
    assert len(calls) == 5  # 8 partitions, 3 already done
    assert _parts_text(out) == (local_results / "matches.csv").read_text("utf-8")

    # Interrupted again, then re-run with another top-k: nothing staged is reused.
    calls.clear()
    _interrupt_after(monkeypatch, calls, fail_at=2)
    with pytest.raises(RuntimeError):
        main(args)
    calls.clear()
    _interrupt_after(monkeypatch, calls, fail_at=None)
    assert main([*args, "--top-k", "2"]) == 0
    assert len(calls) == 8


def test_shortlist_folder_output_resumes_from_saved_partials(
    inputs, local_results, tmp_path, monkeypatch
):
    real, calls = batch.shortlist_partition, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("interrupted")
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "shortlist_partition", flaky)
    out = tmp_path / "s"
    args = _args("shortlist", inputs, f"{out}/", "--chunk-size", "40")
    with pytest.raises(RuntimeError):
        main(args)
    calls.clear()
    monkeypatch.setattr(
        batch, "shortlist_partition", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    assert main(args) == 0 and len(calls) == 3
    assert _parts_text(out) == (local_results / "shortlist.csv").read_text("utf-8")


@pytest.mark.parametrize("command", ["shortlist", "matches", "cohort"])
def test_dask_not_installed_exits_2_naming_the_extra(
    command, inputs, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    out = tmp_path / "out"
    args = _args(command, inputs, out, "--backend", "dask")
    if command == "cohort":
        args.remove("--quiet")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "pip install 'reintegra[dask]'" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_unreachable_scheduler_exits_2_quickly(inputs, tmp_path, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    args = _args("shortlist", inputs, tmp_path / "s.csv", "--backend", "dask")
    rc = main([*args, "--scheduler", f"tcp://127.0.0.1:{port}", "--scheduler-timeout", "2"])
    assert rc == 2 and time.monotonic() - started < 60
    err = capsys.readouterr().err
    assert f"cannot connect to the Dask scheduler at 'tcp://127.0.0.1:{port}'" in err
    assert list(tmp_path.iterdir()) == []


def test_scheduler_without_dask_backend_exits_2(inputs, tmp_path, capsys):
    rc = main(_args("matches", inputs, tmp_path / "m.csv", "--scheduler", "tcp://127.0.0.1:1"))
    assert rc == 2 and "--scheduler needs --backend dask" in capsys.readouterr().err


def test_help_documents_backends_and_folder_outputs(capsys):
    with pytest.raises(SystemExit):
        main(["shortlist", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--backend {local,dask}" in text and "tcp://HOST:PORT" in text
    assert ".NAME.staging/" in text and "resumes" in text
