"""File access for the engine: the only module of ``matcher`` that touches disk.

Readers return pandas/plain objects; the engine itself never opens files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from matcher.exceptions import InputFileError, TaxonomyError
from matcher.gcpause import collector_paused
from matcher.taxonomy import SkillTaxonomy

if TYPE_CHECKING:
    from matcher.backends.base import PartitionSource
    from matcher.profiles import Candidate

__all__ = [
    "MANIFEST",
    "AtomicWriter",
    "CandidateInput",
    "InputPartition",
    "StagedOutput",
    "default_fixtures_dir",
    "file_fingerprint",
    "input_format",
    "iter_records",
    "load_engine",
    "load_scorer",
    "load_taxonomy",
    "read_candidates",
    "read_vacancies",
    "scan_candidates",
]


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


def load_real_words(path: str | Path | None = None) -> frozenset[str]:
    """Folded Spanish and English words of everyday text (``fixtures/lexicon/``).

    The list is derived from the wordfreq frequency lists by
    ``python -m fixtures.lexicon.generate``; lines starting with ``#`` are comments.

    >>> words = load_real_words()
    >>> "camioneta" in words and "screen" in words and "maintanance" not in words
    True
    """
    path = Path(path) if path is not None else _real_words_path(default_fixtures_dir())
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise TaxonomyError(f"word list not found: {path}") from exc
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def _real_words_path(root: Path) -> Path:
    return root / "lexicon" / "everyday_words.txt"


def load_taxonomy(
    directory: str | Path | None = None, *, synonyms: bool = True, real_words: bool = True
) -> SkillTaxonomy:
    """Read the ESCO subset (and the Peru/Latin-American synonym layer) from ``directory``.

    ``directory`` is a fixtures folder holding ``esco/`` and ``synonyms/``;
    by default the one shipped with the project. ``real_words`` adds the everyday
    words of :func:`load_real_words` (``lexicon/`` there), which the normaliser never
    takes for typos.
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
    words_path = _real_words_path(root)
    words: frozenset[str] = frozenset()
    if real_words and words_path.exists():
        words = load_real_words(words_path)
        digest.update(words_path.read_bytes())
    version = f"esco-subset+pe@{digest.hexdigest()[:10]}"
    return SkillTaxonomy.from_frames(
        skills=frames["skills"],
        occupations=frames["occupations"],
        relations=frames["relations"],
        isco_groups=frames["isco"],
        synonyms=syn,
        word_groups=groups,
        version=version,
        real_words=words,
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


def input_format(path: str | Path) -> str:
    """``"csv"``, ``"parquet"`` or ``"jsonl"``, from the file's extension.

    ``.csv`` is CSV, ``.parquet`` / ``.pq`` is Parquet, anything else is JSON Lines.

    >>> input_format("people.parquet"), input_format("people.CSV"), input_format("x.jsonl")
    ('parquet', 'csv', 'jsonl')
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "jsonl"


def _parquet_file(target: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputFileError(
            f"{target}: reading Parquet needs pyarrow: pip install 'reintegra[parquet]' ({exc})"
        ) from exc
    try:
        return pq.ParquetFile(target)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"cannot read {target}: not a Parquet file ({exc})") from exc


def _json_record(raw: bytes):
    import json

    from matcher.profiles import InvalidRecord

    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return InvalidRecord(f"not valid JSON ({exc.__class__.__name__}: {exc})")


def _csv_chunks(target: Path, chunk_size: int, *, skip: int = 0, nrows: int | None = None):
    """``(line, record)`` chunks of a CSV file; the first data row is line 2."""
    reader = pd.read_csv(
        target,
        dtype=str,
        keep_default_na=False,
        chunksize=chunk_size,
        encoding="utf-8",
        skiprows=range(1, skip + 1) if skip else None,
        nrows=nrows,
    )
    line = 1 + skip
    for frame in reader:
        yield [
            (line + 1 + i, {k: v for k, v in rec.items() if v != ""})
            for i, rec in enumerate(frame.to_dict(orient="records"))
        ]
        line += len(frame)


def _parquet_chunks(target: Path, chunk_size: int):
    """``(row, record)`` chunks of a Parquet file, rows numbered from 1 (reported as lines)."""
    row = 0
    for batch in _parquet_file(target).iter_batches(batch_size=chunk_size):
        records = batch.to_pylist()
        yield [(row + 1 + i, rec) for i, rec in enumerate(records)]
        row += len(records)


def iter_records(path: str | Path, *, chunk_size: int = 5000):
    """``(line, record)`` pairs of a JSON Lines, CSV or Parquet file, ``chunk_size`` at a time.

    The format follows the extension (see :func:`input_format`). In CSV, list
    fields hold their items separated by ``;``; in Parquet they are list columns
    (of text, or of structs such as ``{text, years}``), and rows are numbered
    from 1 like lines. A line that is not valid JSON is passed on as an
    :class:`~matcher.profiles.InvalidRecord` so that validation reports it with
    the others.
    """
    target = Path(path)
    if not target.is_file():
        raise InputFileError(f"cannot read {target}: no such file")
    fmt = input_format(target)
    try:
        if fmt == "csv":
            yield from _csv_chunks(target, chunk_size)
            return
        if fmt == "parquet":
            yield from _parquet_chunks(target, chunk_size)
            return
        with target.open("rb") as handle:
            chunk: list = []
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                chunk.append((number, _json_record(raw)))
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


@dataclass(frozen=True)
class InputPartition:
    """One slice of a candidates file: read by whoever processes it, where it runs.

    Only this small description travels to a worker (which must see the same
    ``path``, e.g. on shared storage); the records never pass through the
    scheduler. ``offset`` is the number of records before the partition in the
    file, so partition results can carry global row numbers.

    JSON Lines partitions are byte ranges ``[start, stop)`` aligned to line
    starts (``first_line`` is the line number at ``start``); CSV and Parquet
    partitions are record ranges ``[offset, offset + length)``.
    """

    path: str
    fmt: str
    index: int
    offset: int
    length: int
    start: int = 0
    stop: int = 0
    first_line: int = 1

    def records(self) -> list[tuple[int, Any]]:
        """``(line, record)`` pairs of this partition, as :func:`iter_records` gives them."""
        with collector_paused():
            return self._records()

    def _records(self) -> list[tuple[int, Any]]:
        target = Path(self.path)
        try:
            if self.fmt == "csv":
                return [
                    rec
                    for chunk in _csv_chunks(
                        target, max(1, self.length), skip=self.offset, nrows=self.length
                    )
                    for rec in chunk
                ]
            if self.fmt == "parquet":
                return _parquet_rows(target, self.offset, self.length)
            with target.open("rb") as handle:
                handle.seek(self.start)
                data = handle.read(self.stop - self.start)
        except FileNotFoundError as exc:
            raise InputFileError(
                f"cannot read {target}: no such file (every worker must see the input "
                "files at the same path, e.g. on shared storage)"
            ) from exc
        except OSError as exc:
            raise InputFileError(f"cannot read {target}: {exc.strerror or exc}") from exc
        out = []
        for number, raw in enumerate(data.split(b"\n"), start=self.first_line):
            if raw.strip():
                out.append((number, _json_record(raw)))
        return out

    def load(self, ids: frozenset[str] | None = None) -> list:
        """The partition's :class:`~matcher.profiles.Candidate` objects (only ``ids`` if given)."""
        from matcher.profiles import parse_candidates

        records = self.records()
        if ids is not None:
            records = [(n, r) for n, r in records if isinstance(r, dict) and r.get("id") in ids]
        return parse_candidates(records, source=self.path)


def _parquet_rows(target: Path, offset: int, length: int) -> list[tuple[int, Any]]:
    """Rows ``[offset, offset + length)`` of a Parquet file, reading only the row groups needed."""
    pf = _parquet_file(target)
    meta = pf.metadata
    groups, first, row = [], None, 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if row + n > offset and row < offset + length:
            groups.append(g)
            first = row if first is None else first
        row += n
    if not groups:
        return []
    assert first is not None
    table = pf.read_row_groups(groups).slice(offset - first, length)
    return [(offset + 1 + i, rec) for i, rec in enumerate(table.to_pylist())]


@dataclass(frozen=True)
class CandidateInput:
    """A validated candidates file: its partitions, record count and content fingerprint."""

    path: str
    fmt: str
    partitions: tuple[InputPartition, ...]
    n_records: int
    sha256: str
    #: The last partition's candidates, parsed by the scan's own validation: a run in this
    #: process starts from them instead of reading and parsing that partition again.
    tail: tuple[Candidate, ...] = field(default=(), compare=False, repr=False)

    def in_process_partitions(self) -> list[PartitionSource]:
        """The partitions, the last one as the candidates already parsed (for a backend
        that runs partitions in this process; others must read every partition)."""
        from matcher.backends.base import MemoryPartition

        parts: list[PartitionSource] = list(self.partitions)
        if parts and self.tail:
            last = self.partitions[-1]
            parts[-1] = MemoryPartition(last.index, last.offset, self.tail)
        return parts


def scan_candidates(path: str | Path, *, rows_per_partition: int = 5000) -> CandidateInput:
    """Validate a whole candidates file and plan its partitions, in one streaming pass.

    Every problem of every record is collected and raised once as a
    :class:`~matcher.exceptions.ValidationError` naming line (or Parquet row) and
    field, exactly as :func:`read_candidates` does, but the candidates are not
    kept: memory holds one partition at a time. The partitions hold
    ``rows_per_partition`` records each (the last may hold fewer), so the same
    file and size always give the same partitions: that is what lets an
    interrupted run resume.
    """
    with collector_paused():
        return _scan(path, rows_per_partition)


def _scan(path: str | Path, rows_per_partition: int) -> CandidateInput:
    from matcher.exceptions import ValidationError
    from matcher.profiles import parse_candidates

    target = Path(path).resolve()
    if not Path(path).is_file():
        raise InputFileError(f"cannot read {path}: no such file")
    fmt = input_format(target)
    seen: dict[str, int] = {}
    problems: list = []
    parts: list[InputPartition] = []
    digest = hashlib.sha256()

    tail: list = []

    def check(chunk: list) -> None:
        nonlocal tail
        try:
            tail = parse_candidates(chunk, source=str(path), seen=seen)
        except ValidationError as exc:
            tail = []
            problems.extend(exc.problems)

    n = 0
    if fmt == "jsonl":
        try:
            with target.open("rb") as handle:
                chunk: list = []
                pos = start = 0
                first = 1
                for number, raw in enumerate(handle, start=1):
                    digest.update(raw)
                    line_start, pos = pos, pos + len(raw)
                    if not raw.strip():
                        continue
                    if not chunk:
                        start, first = line_start, number
                    chunk.append((number, _json_record(raw)))
                    if len(chunk) >= rows_per_partition:
                        parts.append(
                            InputPartition(
                                str(target), fmt, len(parts), n, len(chunk), start, pos, first
                            )
                        )
                        n += len(chunk)
                        check(chunk)
                        chunk = []
                if chunk:
                    parts.append(
                        InputPartition(
                            str(target), fmt, len(parts), n, len(chunk), start, pos, first
                        )
                    )
                    n += len(chunk)
                    check(chunk)
        except OSError as exc:
            raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    else:
        for chunk in iter_records(target, chunk_size=rows_per_partition):
            parts.append(InputPartition(str(target), fmt, len(parts), n, len(chunk)))
            n += len(chunk)
            check(chunk)
        digest.update(_file_digest(target).encode())
    if problems:
        raise ValidationError(problems, source=str(path))
    return CandidateInput(str(target), fmt, tuple(parts), n, digest.hexdigest(), tuple(tail))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_fingerprint(path: str | Path) -> str:
    """SHA-256 of a file's bytes (what a resumable run's manifest records of its inputs)."""
    try:
        return _file_digest(Path(path))
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


MANIFEST = "_manifest.json"


class StagedOutput:
    """A partitioned result built beside its target folder and moved into place at the end.

    Everything is written under ``.<name>.staging/``, a sibling of the target
    (never inside it): finished partitions as ``parts/<name>`` files, each
    renamed into place once complete, and ``manifest.json`` with the run's
    ``identity`` (input fingerprints and parameters). :meth:`commit` moves the
    final files into the target in one rename (an existing target is swapped
    out first), so a killed run leaves the target exactly as it was. A re-run
    with the same identity resumes from the finished partitions; with another
    identity the staging folder is cleaned and the run starts afresh.
    """

    def __init__(self, target: str | Path, identity: dict) -> None:
        self.target = Path(target).absolute()
        self.identity = identity
        self.staging = self.target.parent / f".{self.target.name}.staging"
        self.parts = self.staging / "parts"

    def open(self) -> set[str]:
        """Prepare the staging folder; the names of parts finished by an earlier run."""
        import json
        import os
        import shutil

        try:
            previous = self.staging / "previous"
            if previous.is_dir() and not self.target.exists():
                os.replace(previous, self.target)  # a commit was killed between its two renames
            manifest = self.staging / "manifest.json"
            if manifest.is_file():
                try:
                    same = json.loads(manifest.read_text("utf-8")) == self.identity
                except (ValueError, UnicodeDecodeError):
                    same = False
                if same and self.parts.is_dir():
                    return {p.name for p in self.parts.iterdir() if not p.name.startswith(".")}
            if self.staging.exists():
                shutil.rmtree(self.staging)
            self.parts.mkdir(parents=True)
            tmp = self.staging / ".manifest.json.tmp"
            tmp.write_text(json.dumps(self.identity, indent=1, sort_keys=True), "utf-8")
            os.replace(tmp, manifest)
        except OSError as exc:
            raise InputFileError(f"cannot write {self.staging}: {exc.strerror or exc}") from exc
        return set()

    def part_path(self, name: str) -> Path:
        return self.parts / name

    def write_part(self, name: str, write) -> None:
        """Write one finished part: ``write(path)`` fills a temporary file that is then renamed."""
        import os

        tmp = self.parts / f".{name}.tmp"
        write(tmp)
        os.replace(tmp, self.parts / name)

    def commit(self, parts: list[str], manifest: dict) -> Path:
        """Move ``parts`` (names of finished parts) and ``manifest`` into the target folder."""
        import json
        import os
        import shutil

        result = self.staging / "result"
        try:
            if result.exists():
                shutil.rmtree(result)
            result.mkdir()
            for name in parts:
                os.replace(self.parts / name, result / name)
            (result / MANIFEST).write_text(
                json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", "utf-8"
            )
            os.chmod(result, 0o755)
            if self.target.exists():
                if not self.target.is_dir():
                    raise InputFileError(f"cannot write {self.target}: exists and is not a folder")
                os.replace(self.target, self.staging / "previous")
            os.replace(result, self.target)
            shutil.rmtree(self.staging, ignore_errors=True)
        except OSError as exc:
            raise InputFileError(f"cannot write {self.target}: {exc.strerror or exc}") from exc
        return self.target


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
