"""The ``reintegra`` command line: read files, run the engine, write files.

Exit codes: 0 success, 2 bad input or usage (message on stderr), 1 anything else.

``shortlist``, ``matches`` and ``cohort`` read the candidates file (JSON Lines, CSV or
Parquet) in partitions of ``--chunk-size`` records, after validating all of it (every
problem is reported before any output starts). ``--backend local`` (default) scores the
partitions here (``--workers N``: in N processes); ``--backend dask`` on a Dask cluster,
``--scheduler tcp://HOST:PORT`` or a local cluster started for the run. Results do not
depend on the backend.

``--out`` of ``shortlist`` and ``matches``:

* a file: written whole and atomically, as before;
* a folder (``--out DIR/`` or an existing folder): ``part-00000.csv``... (``matches``: one
  per input partition, in input order; ``shortlist``: one) and ``_manifest.json`` (inputs'
  SHA-256, parameters, engine versions, parts and row counts). The run works in
  ``.DIR.staging/`` beside the folder, never inside it, and moves the result into place at
  the end: a killed run leaves ``DIR`` exactly as it was. Re-running the same command
  resumes from the partitions already finished (also on another backend: the results are
  the same); with other inputs or options the staging folder is cleaned first.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from matcher.exceptions import InputFileError, MatcherError

__all__ = ["main"]

EXIT_USAGE = 2


def _warn(message: str) -> None:
    print(f"reintegra: {message}", file=sys.stderr)


def _decode_lines(raw: list[bytes]) -> list[str]:
    """Decode each line; an empty or undecodable line is reported and kept as ``""``."""
    out: list[str] = []
    for number, line in enumerate(raw, start=1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            _warn(
                f"line {number}: not valid UTF-8 ({exc.reason} at byte {exc.start}); left unmatched"
            )
            out.append("")
            continue
        if not text:
            _warn(f"line {number}: empty; left unmatched")
        out.append(text)
    return out


def _cmd_normalise(args: argparse.Namespace) -> int:
    from matcher.io import load_taxonomy, read_lines, write_frame
    from matcher.normalise import SkillNormaliser

    lines = _decode_lines(read_lines(args.file))
    normaliser = SkillNormaliser(load_taxonomy(args.taxonomy))
    table = normaliser.normalise(lines, kind=args.kind, lang=args.lang, top_k=args.top_k)
    write_frame(table, args.out, fmt=args.format)
    return 0


def _cmd_extract(args: argparse.Namespace) -> int:
    from matcher.extract import extract_frame
    from matcher.io import load_taxonomy, read_lines, write_frame
    from matcher.normalise import SkillNormaliser

    lines = _decode_lines(read_lines(args.file))
    normaliser = SkillNormaliser(load_taxonomy(args.taxonomy))
    table = extract_frame(lines, normaliser, lang=args.lang, top_k=args.top_k)
    write_frame(table, args.out, fmt=args.format)
    return 0


def _progress(total: int | None, quiet: bool, unit: str):
    """A progress bar on stderr, silent with --quiet or when stderr is not a terminal."""
    from tqdm import tqdm

    # No monitor thread (it only tunes how often a stalled bar redraws): the search forks
    # its workers only from a process without other threads.
    tqdm.monitor_interval = 0
    return tqdm(total=total, unit=unit, disable=quiet or not sys.stderr.isatty(), file=sys.stderr)


def _is_folder_output(out: str) -> bool:
    """``--out DIR/`` (trailing slash) or an existing folder: partitioned, resumable output."""
    import os
    from pathlib import Path

    return out.endswith(("/", os.sep)) or Path(out).is_dir()


def _check_backend(args: argparse.Namespace) -> None:
    """Fail fast (before reading anything) when the chosen backend cannot be used."""
    if args.backend == "dask":
        from matcher.backends.dask import import_distributed

        import_distributed()
    elif args.scheduler:
        from matcher.backends import BackendError

        raise BackendError("--scheduler needs --backend dask")


def _open_backend(args: argparse.Namespace):
    from matcher.backends import get_backend

    return get_backend(
        args.backend,
        scheduler=args.scheduler,
        workers=args.workers,
        timeout=args.scheduler_timeout,
    )


def _engine_spec(args: argparse.Namespace):
    from matcher.backends import EngineSpec

    model = getattr(args, "model", None)
    return EngineSpec(
        taxonomy=None if args.taxonomy is None else str(args.taxonomy),
        model=None if not model else str(model),
    )


def _load_inputs(args: argparse.Namespace):
    """Vacancies, the validated and partitioned candidates file, and the engine's spec."""
    from matcher.io import read_vacancies, scan_candidates

    _check_backend(args)
    vacancies = read_vacancies(args.vacancies)
    # Validate every candidate first: all problems of the file are reported at once, and no
    # output is started for a file that would fail half-way. Only one partition is in memory.
    source = scan_candidates(args.candidates, rows_per_partition=args.chunk_size)
    return vacancies, source, _engine_spec(args)


def _identity(args, command: str, source, vacancies_path: str, engine, **params) -> dict:
    """What a resumable run must share with the staged one it resumes from."""
    from matcher.io import file_fingerprint

    return {
        "command": command,
        "candidates": {"sha256": source.sha256, "records": source.n_records},
        "vacancies": {"sha256": file_fingerprint(vacancies_path)},
        "engine": {"taxonomy": engine.taxonomy_version, "model": engine.model_version},
        "parameters": {
            "top_k": args.top_k,
            "lang": args.lang,
            "format": args.format,
            "rows_per_partition": args.chunk_size,
            **params,
        },
        "partitions": len(source.partitions),
    }


def _part_name(index: int, fmt: str) -> str:
    return f"part-{index:05d}.{fmt}"


def _write_table(frame, fmt: str):
    """A ``write(path)`` callback rendering ``frame`` (see :meth:`StagedOutput.write_part`)."""
    from matcher.io import render_frame

    def write(path) -> None:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            render_frame(frame, handle, fmt=fmt)

    return write


def _runnable(backend, source, parts) -> list:
    """``parts`` for ``backend``: one that runs in this process starts from the candidates
    the validation pass already parsed (the file's last partition) instead of re-reading."""
    if not backend.in_process:
        return list(parts)
    wanted = {p.index for p in parts}
    return [p for p in source.in_process_partitions() if p.index in wanted]


def _cmd_shortlist(args: argparse.Namespace) -> int:
    from matcher.batch import shortlist_result, shortlist_table
    from matcher.io import AtomicWriter, StagedOutput, render_frame

    vacancies, source, spec = _load_inputs(args)
    if args.vacancy:
        vacancies = [v for v in vacancies if v.id == args.vacancy]
        if not vacancies:
            raise InputFileError(
                f"--vacancy {args.vacancy!r}: no vacancy with that id in {args.vacancies}"
            )
    engine = spec.build()
    vb = engine.encode_vacancies(vacancies)
    staged = None
    done: dict = {}
    on_partial = None
    if _is_folder_output(args.out):
        identity = _identity(
            args, "shortlist", source, args.vacancies, engine, vacancy=args.vacancy
        )
        staged = StagedOutput(args.out, identity)
        finished = staged.open()
        done = {
            p.index: _load_topk(staged.part_path(name))
            for p in source.partitions
            if (name := f"topk-{p.index:05d}.npz") in finished
        }

        def on_partial(index, partial) -> None:
            staged.write_part(f"topk-{index:05d}.npz", lambda path: _save_topk(partial, path))

    sizes = {p.index: p.length for p in source.partitions}
    with (
        _open_backend(args) as backend,
        _progress(source.n_records, args.quiet, "candidates") as bar,
    ):
        parts = _runnable(backend, source, source.partitions)
        bar.update(sum(sizes[i] for i in done))

        def advance(index, partial) -> None:
            if on_partial is not None:
                on_partial(index, partial)
            bar.update(sizes[index])

        acc = backend.shortlist_top(
            spec, vb, parts, top_k=args.top_k, done=done, on_partial=advance
        )
    top = shortlist_result(acc, vb)
    wanted = frozenset(cid for pairs in top.values() for cid, _ in pairs)
    finalists = [c for p in parts for c in p.load(wanted)] if wanted else []
    table = shortlist_table(engine, vb, top, finalists, lang=args.lang)
    if staged is None:
        with AtomicWriter(args.out) as handle:
            render_frame(table, handle, fmt=args.format)
        return 0
    name = _part_name(0, args.format)
    staged.write_part(name, _write_table(table, args.format))
    staged.commit([name], _manifest(staged.identity, args, [(name, len(table), None)]))
    return 0


def _save_topk(partial, path) -> None:
    import numpy as np

    with open(path, "wb") as handle:
        np.savez(handle, scores=partial.scores, ids=partial.ids, k=np.array([partial.k]))


def _load_topk(path):
    import numpy as np

    from matcher.ranking import TopK

    with np.load(path, allow_pickle=False) as data:
        acc = TopK(data["scores"].shape[1], int(data["k"][0]))
        acc.scores, acc.ids = data["scores"], data["ids"]
    return acc


def _manifest(identity: dict, args: argparse.Namespace, parts: list) -> dict:
    """The ``_manifest.json`` of a folder output: what was run, and its parts in order."""
    import datetime

    from matcher.batch import MATCHES_COLUMNS, SHORTLIST_COLUMNS

    columns = SHORTLIST_COLUMNS if identity["command"] == "shortlist" else MATCHES_COLUMNS
    return {
        **identity,
        "inputs": {"candidates": str(args.candidates), "vacancies": str(args.vacancies)},
        "backend": args.backend,
        "columns": columns,
        "parts": [
            {"name": name, "rows": rows, **({} if part is None else {"partition": part})}
            for name, rows, part in parts
        ],
        "completed_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _candidate_exists(path: str, candidate_id: str) -> bool:
    from matcher.io import iter_records

    return any(
        isinstance(rec, dict) and str(rec.get("id", "")) == candidate_id
        for chunk in iter_records(path)
        for _, rec in chunk
    )


def _cmd_matches(args: argparse.Namespace) -> int:
    import pandas as pd

    from matcher.batch import MATCHES_COLUMNS
    from matcher.io import AtomicWriter, StagedOutput, render_frame

    vacancies, source, spec = _load_inputs(args)
    ids = None
    parts = list(source.partitions)
    if args.candidate:
        if not _candidate_exists(args.candidates, args.candidate):
            raise InputFileError(
                f"--candidate {args.candidate!r}: no candidate with that id in {args.candidates}"
            )
        ids = frozenset({args.candidate})
    engine = spec.build()
    vb = engine.encode_vacancies(vacancies)
    total = 1 if ids else source.n_records
    sizes = {p.index: (p.length if ids is None else 0) for p in parts}
    rows: dict[int, int] = {}

    if not _is_folder_output(args.out):
        pending: dict[int, pd.DataFrame] = {}
        order = [p.index for p in parts]
        nxt = 0
        with (
            AtomicWriter(args.out) as handle,
            _open_backend(args) as backend,
            _progress(total, args.quiet, "candidates") as bar,
        ):
            render_frame(pd.DataFrame(columns=MATCHES_COLUMNS), handle, fmt=args.format)
            for index, frame in backend.matches(
                spec,
                vb,
                _runnable(backend, source, parts),
                top_k=args.top_k,
                lang=args.lang,
                ids=ids,
            ):
                pending[index] = frame  # written in input order, whatever order parts finish in
                while nxt < len(order) and order[nxt] in pending:
                    render_frame(pending.pop(order[nxt]), handle, fmt=args.format, header=False)
                    nxt += 1
                bar.update(sizes[index] or (1 if len(frame) else 0))
        return 0

    identity = _identity(args, "matches", source, args.vacancies, engine, candidate=args.candidate)
    staged = StagedOutput(args.out, identity)
    finished = staged.open()
    todo = [p for p in parts if _part_name(p.index, args.format) not in finished]
    with _open_backend(args) as backend, _progress(total, args.quiet, "candidates") as bar:
        bar.update(sum(sizes[p.index] for p in parts if p not in todo))
        for index, frame in backend.matches(
            spec, vb, _runnable(backend, source, todo), top_k=args.top_k, lang=args.lang, ids=ids
        ):
            staged.write_part(_part_name(index, args.format), _write_table(frame, args.format))
            rows[index] = len(frame)
            bar.update(sizes[index])
    for p in parts:
        if p.index not in rows:  # finished by an earlier run: count its rows
            rows[p.index] = _count_rows(staged.part_path(_part_name(p.index, args.format)), args)
    names = [(_part_name(p.index, args.format), rows[p.index], p.index) for p in parts]
    staged.commit([n for n, _, _ in names], _manifest(identity, args, names))
    return 0


def _count_rows(path, args: argparse.Namespace) -> int:
    with open(path, encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    return lines - 1 if args.format == "csv" else lines


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


HELP_OUT = (
    "output: a file (written atomically, as a whole), or a folder (a trailing '/' or an "
    "existing folder): part files and _manifest.json, staged beside the folder in "
    ".NAME.staging/ and moved into place at the end; a re-run with the same inputs and "
    "options resumes from the finished partitions"
)


def add_backend_arguments(p: argparse.ArgumentParser) -> None:
    """Backend options shared by shortlist, matches and cohort."""
    p.add_argument(
        "--backend",
        choices=("local", "dask"),
        default="local",
        help="where partitions are scored: here (local, default) or on a Dask cluster "
        "(needs pip install 'reintegra[dask]'); results are the same",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        default=None,
        help="with --backend dask: a running scheduler (workers must see the input files at "
        "the same paths); default: a local cluster started for this run",
    )
    p.add_argument(
        "--scheduler-timeout",
        type=float,
        default=10.0,
        dest="scheduler_timeout",
        metavar="SECONDS",
        help="give up connecting to --scheduler after this long (default: 10)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="local: processes (default 1); dask without --scheduler: local cluster workers",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reintegra",
        description="Match returnees' skills with vacancies (ESCO-based). "
        "Empareja las competencias de personas retornadas con vacantes.",
    )
    parser.add_argument(
        "--taxonomy", metavar="DIR", default=None, help="fixtures folder (default: the shipped one)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "file", nargs="?", default="-", help="input, one item per line ('-' = stdin)"
        )
        p.add_argument("--lang", choices=("es", "en", "auto"), default="auto")
        p.add_argument("--top-k", type=_positive_int, default=5, dest="top_k")
        p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
        p.add_argument("--out", default=None, help="output file (default: stdout)")

    p_norm = sub.add_parser("normalise", help="map skill or occupation mentions to ESCO concepts")
    common(p_norm)
    p_norm.add_argument("--kind", choices=("skill", "occupation"), default="skill")
    p_norm.set_defaults(func=_cmd_normalise)

    p_ext = sub.add_parser("extract", help="find ESCO skills in free text, one text per line")
    common(p_ext)
    p_ext.set_defaults(func=_cmd_extract, top_k=10)

    def batch(p: argparse.ArgumentParser) -> None:
        p.add_argument("--candidates", required=True, help="JSON Lines or CSV (.csv) file")
        p.add_argument("--vacancies", required=True, help="JSON Lines or CSV (.csv) file")
        p.add_argument("--top-k", type=_positive_int, default=10, dest="top_k")
        p.add_argument(
            "--lang", choices=("es", "en"), default="es", help="language of explanations"
        )
        p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
        p.add_argument("--out", required=True, help=HELP_OUT)
        p.add_argument(
            "--chunk-size",
            type=_positive_int,
            default=5000,
            dest="chunk_size",
            help="candidates per partition (default: 5000)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        add_backend_arguments(p)

    p_short = sub.add_parser("shortlist", help="ranked candidates for every vacancy (or one)")
    batch(p_short)
    p_short.add_argument("--vacancy", default=None, help="only this vacancy id")
    p_short.set_defaults(func=_cmd_shortlist)

    p_match = sub.add_parser("matches", help="ranked vacancies for every candidate (or one)")
    batch(p_match)
    p_match.add_argument("--candidate", default=None, help="only this candidate id")
    p_match.set_defaults(func=_cmd_matches)

    from matcher.cli_cohort import add_cohort_command

    add_cohort_command(sub)

    # Learning from outcomes lives in training/: imported only when these commands run.
    p_train = sub.add_parser("train", help="learn the scorer from placements and follow-ups")
    p_train.set_defaults(func=_cmd_training, training="train")
    p_eval = sub.add_parser("evaluate", help="a trained model against outcomes and the default")
    p_eval.set_defaults(func=_cmd_training, training="evaluate")
    _training_arguments(p_train, p_eval)

    # The service's commands live in api/ (FastAPI, SQLAlchemy): imported only when used.
    sub.add_parser("serve", help="run the HTTP service (needs the 'api' extra)", add_help=False)
    sub.add_parser("users", help="create users and API keys (needs 'api')", add_help=False)
    return parser


def _training_arguments(p_train: argparse.ArgumentParser, p_eval: argparse.ArgumentParser) -> None:
    try:
        from training.evaluate import add_evaluate_arguments
        from training.train import add_train_arguments
    except ImportError:  # installed without training/: the commands then say so when run
        return
    add_train_arguments(p_train)
    add_evaluate_arguments(p_eval)


def _cmd_training(args: argparse.Namespace) -> int:
    try:
        if args.training == "train":
            from training.train import run_train as run
        else:
            from training.evaluate import run_evaluate as run
    except ImportError as exc:
        _warn(f"{args.training} needs the training package: pip install 'reintegra[train]' ({exc})")
        return EXIT_USAGE
    return int(run(args))


API_COMMANDS = ("serve", "users")


def _api_main(argv: list[str]) -> int:
    try:
        from api.cli import main as api_main
    except ImportError as exc:
        _warn(f"{argv[0]} needs the service: pip install 'reintegra[api]' ({exc})")
        return EXIT_USAGE
    return api_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in API_COMMANDS:
        return _api_main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except MatcherError as exc:
        _warn(str(exc))
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
