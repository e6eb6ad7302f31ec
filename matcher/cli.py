"""The ``reintegra`` command line: read files, run the engine, write files.

Exit codes: 0 success, 2 bad input or usage (message on stderr), 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from matcher.exceptions import MatcherError

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
