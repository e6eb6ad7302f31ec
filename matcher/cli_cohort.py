"""``reintegra cohort``: choose who is offered which vacancy, and write the report.

Exit codes as for every command: 0 success, 2 bad input (message on stderr, no output
folder written), 1 anything else.
"""

from __future__ import annotations

import argparse
import datetime

__all__ = ["add_cohort_command", "run_cohort"]

HELP = {
    "command": "optimal cohort: who is offered which vacancy / selección óptima de la cohorte",
    "min_score": "pairs scoring under this are never used (0-1) / puntaje mínimo",
    "fairness": "gender or age_band: groups of the fairness audit and constraint "
    "/ atributo de equidad",
    "ratio": "each group's selection rate >= this share of the best group's (0.8 = four-fifths)"
    " / razón de impacto mínima",
    "lock": "CSV candidate_id,vacancy_id: pairs locked in / pares fijados",
    "exclude": "CSV candidate_id,vacancy_id: pairs ruled out / pares excluidos",
    "households": "CSV household_id,candidate_id: placed together or not at all / hogares",
}


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value}")
    return value


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value}")
    return value


def _positive(text: str) -> int:
    from matcher.cli import _positive_int

    return _positive_int(text)


def add_cohort_command(sub) -> None:
    """Register ``cohort`` on the subparsers of the ``reintegra`` parser."""
    p = sub.add_parser("cohort", help=HELP["command"])
    p.add_argument("--candidates", required=True, help="JSON Lines or CSV (.csv) file")
    p.add_argument("--vacancies", required=True, help="JSON Lines or CSV (.csv) file")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder, written atomically")
    p.add_argument(
        "--min-score", type=_score, default=0.3, dest="min_score", help=HELP["min_score"]
    )
    p.add_argument(
        "--fairness-attribute", default=None, dest="fairness_attribute", help=HELP["fairness"]
    )
    p.add_argument(
        "--min-impact-ratio", type=_ratio, default=None, dest="min_impact_ratio", help=HELP["ratio"]
    )
    p.add_argument("--lock", default=None, metavar="FILE", help=HELP["lock"])
    p.add_argument("--exclude", default=None, metavar="FILE", help=HELP["exclude"])
    p.add_argument("--households", default=None, metavar="FILE", help=HELP["households"])
    p.add_argument("--lang", choices=("es", "en"), default="es", help="report language / idioma")
    p.add_argument(
        "--chunk-size",
        type=_positive,
        default=5000,
        dest="chunk_size",
        help="candidates per partition scored at once / candidatos por partición",
    )
    from matcher.cli import add_backend_arguments

    add_backend_arguments(p)
    p.set_defaults(func=run_cohort)


def run_cohort(args: argparse.Namespace, *, engine=None) -> int:
    """Read inputs, validate them all, select the cohort, write the folder.

    The pairs are scored partition by partition on the chosen backend (``--backend
    dask`` runs them on a Dask cluster, each worker reading its partition of the
    candidates file); the selection, audit and report are computed here, and do not
    depend on the backend.
    """
    from matcher.cli import _check_backend, _engine_spec, _open_backend
    from matcher.cohort import CohortOptions, select_cohort
    from matcher.cohort_io import read_households, read_pairs, write_cohort
    from matcher.io import read_vacancies, scan_candidates

    defaults = {"backend": "local", "scheduler": None, "workers": None, "scheduler_timeout": 10.0}
    for name, value in defaults.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    _check_backend(args)
    vacancies = read_vacancies(args.vacancies)
    source = scan_candidates(args.candidates, rows_per_partition=args.chunk_size)
    candidates = [c for part in source.partitions for c in part.load()]
    options = CohortOptions(
        min_score=args.min_score,
        fairness_attribute=args.fairness_attribute,
        min_impact_ratio=args.min_impact_ratio,
        locked=read_pairs(args.lock, kind="lock") if args.lock else (),
        excluded=read_pairs(args.exclude, kind="exclude") if args.exclude else (),
        households=read_households(args.households) if args.households else (),
        reference_year=datetime.date.today().year,
    )
    options.validate()  # before the engine loads: bad options fail fast
    spec = None
    if engine is None:
        spec = _engine_spec(args)
        engine = spec.build()
    with _open_backend(args) as backend:
        result = select_cohort(
            engine,
            candidates,
            vacancies,
            options,
            backend=backend,
            partitions=source.partitions,
            engine_spec=spec,
        )
    write_cohort(result, args.out, lang=args.lang)
    return 0
