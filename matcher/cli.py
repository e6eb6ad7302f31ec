"""The ``reintegra`` command line: read files, run the engine, write files.

Exit codes: 0 success, 2 bad input or usage (message on stderr), 1 anything else.
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

    return tqdm(total=total, unit=unit, disable=quiet or not sys.stderr.isatty(), file=sys.stderr)


def _load_inputs(args: argparse.Namespace):
    from matcher.io import load_engine, read_candidates, read_vacancies

    vacancies = read_vacancies(args.vacancies)
    # Validate every candidate first: all problems of the file are reported at once, and no
    # output is started for a file that would fail half-way.
    n_candidates = len(read_candidates(args.candidates, chunk_size=args.chunk_size))
    engine = load_engine(args.taxonomy)
    return engine, vacancies, n_candidates


def _cmd_shortlist(args: argparse.Namespace) -> int:
    from matcher.batch import shortlist_table, shortlist_top
    from matcher.io import AtomicWriter, iter_candidate_chunks, render_frame

    engine, vacancies, n_candidates = _load_inputs(args)
    if args.vacancy:
        vacancies = [v for v in vacancies if v.id == args.vacancy]
        if not vacancies:
            raise InputFileError(
                f"--vacancy {args.vacancy!r}: no vacancy with that id in {args.vacancies}"
            )
    with _progress(n_candidates, args.quiet, "candidates") as bar:
        top = shortlist_top(
            engine,
            vacancies,
            iter_candidate_chunks(args.candidates, chunk_size=args.chunk_size),
            top_k=args.top_k,
            on_chunk=bar.update,
        )
    wanted = {cid for pairs in top.values() for cid, _ in pairs}
    finalists = [
        c
        for chunk in iter_candidate_chunks(args.candidates, chunk_size=args.chunk_size, ids=wanted)
        for c in chunk
    ]
    table = shortlist_table(engine, vacancies, top, finalists, lang=args.lang)
    with AtomicWriter(args.out) as handle:
        render_frame(table, handle, fmt=args.format)
    return 0


def _cmd_matches(args: argparse.Namespace) -> int:
    from matcher.batch import best_matches
    from matcher.io import AtomicWriter, iter_candidate_chunks, render_frame

    engine, vacancies, n_candidates = _load_inputs(args)
    chunks = iter_candidate_chunks(args.candidates, chunk_size=args.chunk_size)
    if args.candidate:
        chunks = iter_candidate_chunks(
            args.candidates, chunk_size=args.chunk_size, ids={args.candidate}
        )
        n_candidates = 1
    written = 0
    with AtomicWriter(args.out) as handle, _progress(n_candidates, args.quiet, "candidates") as bar:
        for frame in best_matches(engine, vacancies, chunks, top_k=args.top_k, lang=args.lang):
            render_frame(frame, handle, fmt=args.format, header=written == 0)
            written += len(frame) + 1
            bar.update(frame["candidate_id"].nunique() if len(frame) else 0)
        if written == 0:
            if args.candidate:
                raise InputFileError(
                    f"--candidate {args.candidate!r}: "
                    f"no candidate with that id in {args.candidates}"
                )
            import pandas as pd

            from matcher.batch import MATCHES_COLUMNS

            render_frame(pd.DataFrame(columns=MATCHES_COLUMNS), handle, fmt=args.format)
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


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
        p.add_argument("--out", required=True, help="output file, written atomically")
        p.add_argument("--chunk-size", type=_positive_int, default=5000, dest="chunk_size")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

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
