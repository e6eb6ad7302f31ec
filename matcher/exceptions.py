"""Domain errors. Every error has a stable ``code``; the API and the CLI map codes once.

Messages name the record and field, what was expected, what was received, and the fix.
Validation collects every problem of an input and raises once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "FieldProblem",
    "InputFileError",
    "MatcherError",
    "NotFittedError",
    "TaxonomyError",
    "ValidationError",
]


class MatcherError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "matcher_error"


class TaxonomyError(MatcherError):
    """The taxonomy files are missing, malformed or inconsistent."""

    code = "taxonomy_invalid"


class ConfigError(MatcherError, ValueError):
    """An option has a value the engine cannot work with."""

    code = "config_invalid"


class InputFileError(MatcherError):
    """An input file cannot be opened, read or decoded."""

    code = "input_unreadable"


class NotFittedError(MatcherError):
    """A scorer was asked to predict before it was fitted."""

    code = "not_fitted"


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field of one record: where it is, and what is wrong."""

    record: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "record"
        return f"{where} ({self.record}), field '{self.field}': {self.message}"


class ValidationError(MatcherError, ValueError):
    """One or more records are invalid; ``problems`` lists every one of them."""

    code = "validation_failed"

    def __init__(self, problems: Sequence[FieldProblem], *, source: str = "input") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} invalid field(s):\n{lines}")
