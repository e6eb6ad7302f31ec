"""File access for the engine: the only module of ``matcher`` that touches disk.

Readers return pandas/plain objects; the engine itself never opens files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from matcher.exceptions import InputFileError, TaxonomyError
from matcher.taxonomy import SkillTaxonomy

__all__ = ["default_fixtures_dir", "load_engine", "load_scorer", "load_taxonomy"]


def default_fixtures_dir() -> Path:
    """The ``fixtures/`` folder shipped beside the packages."""
    return Path(__file__).resolve().parent.parent / "fixtures"


def _read_csv(path: Path, **kwargs: object) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)  # type: ignore[call-overload]
    except FileNotFoundError as exc:
        raise TaxonomyError(f"taxonomy file not found: {path}") from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise TaxonomyError(f"taxonomy file {path} is not valid UTF-8 CSV: {exc}") from exc


def load_taxonomy(directory: str | Path | None = None, *, synonyms: bool = True) -> SkillTaxonomy:
    """Read the ESCO subset (and the Peru/Latin-American synonym layer) from ``directory``.

    ``directory`` is a fixtures folder holding ``esco/`` and ``synonyms/``;
    by default the one shipped with the project.
    """
    root = Path(directory) if directory is not None else default_fixtures_dir()
    esco = root / "esco"
    files = {
        "skills": esco / "skills.csv",
        "occupations": esco / "occupations.csv",
        "relations": esco / "occupation_skills.csv",
        "isco": esco / "isco_groups.csv",
    }
    syn_path = root / "synonyms" / "peru_latam.csv"
    groups_path = root / "synonyms" / "word_groups.csv"
    frames = {name: _read_csv(path) for name, path in files.items()}
    syn = _read_csv(syn_path) if synonyms and syn_path.exists() else None
    groups = _read_csv(groups_path) if groups_path.exists() else None

    digest = hashlib.sha256()
    extra = [p for p, f in ((syn_path, syn), (groups_path, groups)) if f is not None]
    for path in [*files.values(), *extra]:
        digest.update(path.read_bytes())
    for frame in (frames["skills"],):
        frame["isTransversal"] = frame.get("isTransversal", "0").replace("", "0").astype(int)
    version = f"esco-subset+pe@{digest.hexdigest()[:10]}"
    return SkillTaxonomy.from_frames(
        skills=frames["skills"],
        occupations=frames["occupations"],
        relations=frames["relations"],
        isco_groups=frames["isco"],
        synonyms=syn,
        word_groups=groups,
        version=version,
    )


def read_lines(path: str | Path | None) -> list[bytes]:
    """Raw lines of a file (``None`` or ``"-"`` for standard input), without line ends."""
    import sys

    try:
        if path is None or str(path) == "-":
            data = sys.stdin.buffer.read()
        else:
            data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.rstrip(b"\r") for line in lines]


def write_frame(frame: pd.DataFrame, path: str | Path | None, *, fmt: str = "csv") -> None:
    """Write ``frame`` as CSV or JSON Lines to ``path`` (stdout when ``None`` or ``"-"``).

    A file is written through :class:`AtomicWriter`, so a failed or killed run
    never leaves a half-written result.
    """
    import sys

    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}; use 'csv' or 'jsonl'")
    if path is None or str(path) == "-":
        render_frame(frame, sys.stdout, fmt=fmt)
        sys.stdout.flush()
        return
    with AtomicWriter(path) as handle:
        render_frame(frame, handle, fmt=fmt)


def render_frame(frame: pd.DataFrame, handle, *, fmt: str = "csv", header: bool = True) -> None:
    """Write ``frame`` to an open text handle as CSV or JSON Lines."""
    if fmt == "csv":
        frame.to_csv(handle, index=False, header=header, lineterminator="\n")
    else:
        import json

        for record in frame.to_dict(orient="records"):
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def load_regions(directory: str | Path | None = None):
    """Peru's departments shipped in ``fixtures/geo/peru_departments.csv``."""
    from matcher.regions import Regions

    root = Path(directory) if directory is not None else default_fixtures_dir()
    path = root / "geo" / "peru_departments.csv"
    if not path.exists():
        return Regions.empty()
    return Regions.from_frame(pd.read_csv(path, keep_default_na=False))


def load_engine(
    directory: str | Path | None = None,
    *,
    config=None,
    scorer=None,
    model_path: str | Path | None = None,
):
    """A :class:`~matcher.engine.MatchEngine` on the shipped (or given) fixtures.

    ``model_path`` (a model folder or its ``model.json``, as ``reintegra train`` writes)
    replaces the default weights with a scorer learned from outcomes; the engine's
    ``model_version`` then names it. Without it the default weights are used and named
    ``default-weights``.
    """
    from matcher.engine import MatchEngine

    version = "default-weights"
    if model_path is not None and str(model_path) != "":
        scorer, version = load_scorer(model_path)
    return MatchEngine(
        load_taxonomy(directory),
        regions=load_regions(directory),
        config=config,
        scorer=scorer,
        model_version=version,
    )


MODEL_FILE = "model.json"


def load_scorer(path: str | Path):
    """``(scorer, model_version)`` from a model folder or file written by ``reintegra train``.

    Only versioned JSON is read (never pickle): loading parses numbers and executes
    nothing. A foreign, altered or incompatible file raises
    :class:`~matcher.learned.ModelArtifactError` saying why.
    """
    import json

    from matcher.learned import ModelArtifactError, OutcomeScorer

    target = Path(path)
    if target.is_dir():
        target = target / MODEL_FILE
    if not target.is_file():
        raise ModelArtifactError(f"model not found: {target} (expected a folder with {MODEL_FILE})")
    raw = target.read_bytes()
    if raw[:2] in (b"\x80\x03", b"\x80\x04", b"\x80\x05") or raw[:4] == b"PK\x03\x04":
        raise ModelArtifactError(
            f"{target}: a pickle or zip (skops) file, not a reintegra JSON model; refusing to "
            "load it (pickles can execute code)"
        )
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelArtifactError(f"{target}: not a JSON model file ({exc})") from exc
    return OutcomeScorer.from_dict(payload, source=str(target))


def iter_records(path: str | Path, *, chunk_size: int = 5000):
    """``(line, record)`` pairs of a JSON Lines or CSV file, ``chunk_size`` at a time.

    The format follows the extension (``.csv``; anything else is JSON Lines).
    In CSV, list fields hold their items separated by ``;``. A line that is not
    valid JSON is passed on as an :class:`~matcher.profiles.InvalidRecord` so
    that validation reports it with the others.
    """
    import json

    from matcher.profiles import InvalidRecord

    target = Path(path)
    if not target.is_file():
        raise InputFileError(f"cannot read {target}: no such file")
    try:
        if target.suffix.lower() == ".csv":
            reader = pd.read_csv(
                target, dtype=str, keep_default_na=False, chunksize=chunk_size, encoding="utf-8"
            )
            line = 1
            for frame in reader:
                records = [
                    (line + 1 + i, {k: v for k, v in rec.items() if v != ""})
                    for i, rec in enumerate(frame.to_dict(orient="records"))
                ]
                line += len(frame)
                yield records
            return
        with target.open("rb") as handle:
            chunk: list = []
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    record = InvalidRecord(f"not valid JSON ({exc.__class__.__name__}: {exc})")
                chunk.append((number, record))
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk
    except OSError as exc:
        raise InputFileError(f"cannot read {target}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"cannot read {target}: not valid UTF-8 CSV ({exc})") from exc


def read_candidates(path: str | Path, *, chunk_size: int = 5000):
    """Validate a whole candidates file (every problem reported at once), in chunks."""
    return _validate_file(path, "candidates", chunk_size)


def read_vacancies(path: str | Path, *, chunk_size: int = 5000):
    """Validate a whole vacancies file and return its :class:`~matcher.profiles.Vacancy` list."""
    return _validate_file(path, "vacancies", chunk_size)


def _validate_file(path: str | Path, kind: str, chunk_size: int) -> list:
    from matcher.exceptions import ValidationError
    from matcher.profiles import parse_candidates, parse_vacancies

    parse = parse_candidates if kind == "candidates" else parse_vacancies
    seen: dict[str, int] = {}
    problems = []
    out: list = []
    for chunk in iter_records(path, chunk_size=chunk_size):
        try:
            out.extend(parse(chunk, source=str(path), seen=seen))
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems, source=str(path))
    return out


def iter_candidate_chunks(path: str | Path, *, chunk_size: int = 5000, ids: set[str] | None = None):
    """Candidates of an already validated file, chunk by chunk (only ``ids`` when given)."""
    from matcher.profiles import parse_candidates

    for chunk in iter_records(path, chunk_size=chunk_size):
        if ids is not None:
            chunk = [(n, r) for n, r in chunk if str(r.get("id", "")) in ids]
        yield parse_candidates(chunk, source=str(path))


class AtomicWriter:
    """A text file written under a temporary name and renamed into place on success.

    On any failure (or a kill before the rename) the target is untouched.
    """

    def __init__(self, path: str | Path) -> None:
        self.target = Path(path)
        self.handle = None
        self.tmp: Path | None = None

    def __enter__(self):
        import os
        import tempfile

        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                dir=self.target.parent, prefix=f".{self.target.name}.", suffix=".tmp"
            )
        except OSError as exc:
            raise InputFileError(f"cannot write {self.target}: {exc.strerror or exc}") from exc
        self.tmp = Path(tmp)
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self.handle

    def __exit__(self, exc_type, exc, tb) -> None:
        import os

        assert self.handle is not None and self.tmp is not None
        self.handle.close()
        if exc_type is None:
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)
