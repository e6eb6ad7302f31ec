"""File access for the engine: the only module of ``matcher`` that touches disk.

Readers return pandas/plain objects; the engine itself never opens files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from matcher.exceptions import InputFileError, TaxonomyError
from matcher.taxonomy import SkillTaxonomy

__all__ = ["default_fixtures_dir", "load_taxonomy"]


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

    A file is written to a temporary name beside it and renamed at the end, so
    a failed or killed run never leaves a half-written result.
    """
    import os
    import sys
    import tempfile

    def render(handle: object) -> None:
        if fmt == "csv":
            frame.to_csv(handle, index=False, lineterminator="\n")  # type: ignore[arg-type]
        elif fmt == "jsonl":
            import json

            for record in frame.to_dict(orient="records"):
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")  # type: ignore[attr-defined]
        else:
            raise ValueError(f"unknown format {fmt!r}; use 'csv' or 'jsonl'")

    if path is None or str(path) == "-":
        render(sys.stdout)
        sys.stdout.flush()
        return
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputFileError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            render(handle)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
