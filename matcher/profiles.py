"""Candidates and vacancies: the records the engine works on, and their validation.

Records arrive as dicts (from JSON Lines, CSV or the API). :func:`parse_candidates`
and :func:`parse_vacancies` check every field of every record, collect every
problem, and raise one :class:`~matcher.exceptions.ValidationError` naming each
record (by line when known) and field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matcher.exceptions import FieldProblem, ValidationError
from matcher.gcpause import collector_paused

__all__ = [
    "OUTCOME_COLUMNS",
    "SECTORS",
    "Candidate",
    "InvalidRecord",
    "SkillMention",
    "Vacancy",
    "parse_candidates",
    "parse_vacancies",
]

SECTORS = ("energy", "telecom", "environment", "other")

#: Columns of the placements-and-follow-ups export (``GET /v1/placements/export``), one row per
#: follow-up visit: the contract between the service that writes it and ``training/`` that reads it.
OUTCOME_COLUMNS = (
    "placement_id",
    "candidate_id",
    "vacancy_id",
    "employer_id",
    "start_date",
    "placement_wage_pen",
    "followup_id",
    "visit_date",
    "still_employed",
    "monthly_wage_pen",
    "satisfaction",
    "economic_score",
    "social_score",
    "psychosocial_score",
)


@dataclass(frozen=True)
class SkillMention:
    """A skill as written: the text, and years of practice (candidates) or required (vacancies)."""

    text: str
    years: float | None = None


@dataclass(frozen=True)
class Candidate:
    """A returnee's profile. Personal and audit-only fields are never scored."""

    id: str
    skills: tuple[SkillMention, ...] = ()
    past_job_titles: tuple[str, ...] = ()
    experience_years: float = 0.0
    region: str = ""
    willing_to_relocate: bool = False
    certifications: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    consent_to_share: bool = False
    # Personal data: shown to caseworkers, to employers only with consent; never scored.
    name: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    # Audit-only: read by the fairness audit alone.
    gender: str | None = field(default=None, repr=False)
    birth_year: int | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Vacancy:
    """An employer's vacancy."""

    id: str
    employer_id: str
    title: str
    sector: str = "other"
    description: str = ""
    required_skills: tuple[SkillMention, ...] = ()
    optional_skills: tuple[SkillMention, ...] = ()
    required_certifications: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    region: str = ""
    remote: bool = False
    openings: int = 1
    monthly_wage_pen: float | None = None
    min_experience_years: float = 0.0


class InvalidRecord(str):
    """Stands for a record that could not even be read (bad JSON); the text says why."""


_CANDIDATE_FIELDS = {f for f in Candidate.__dataclass_fields__}
_VACANCY_FIELDS = {f for f in Vacancy.__dataclass_fields__}


class _Checker:
    """Reads typed fields from one record, noting every problem instead of stopping."""

    def __init__(self, record: Mapping[str, Any], rid: str, line: int | None) -> None:
        self.record = record
        self.rid = rid
        self.line = line
        self.problems: list[FieldProblem] = []

    def fail(self, name: str, message: str) -> None:
        self.problems.append(
            FieldProblem(record=self.rid, field=name, message=message, line=self.line)
        )

    def _value(self, name: str) -> Any:
        value = self.record.get(name)
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, str) and not value.strip() and name not in ("id",):
            return None
        return value

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self._value(name)
        if value is None:
            if required:
                self.fail(name, "is required and missing")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.fail(name, f"expected text, got {type(value).__name__} {value!r}")
            return default
        text = str(value).strip()
        if required and not text:
            self.fail(name, "is required and empty")
        return text

    def optional_text(self, name: str) -> str | None:
        return self.text(name) or None

    def number(
        self,
        name: str,
        *,
        default: float | None = 0.0,
        minimum: float | None = 0.0,
        integer: bool = False,
    ) -> float | None:
        value = self._value(name)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                value = float(value.replace(",", ".")) if not integer else int(value)
            except ValueError:
                kind = "a whole number" if integer else "a number"
                self.fail(name, f"expected {kind}, got {value!r}")
                return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(name, f"expected a number, got {value!r}")
            return default
        if integer and float(value) != int(value):
            self.fail(name, f"expected a whole number, got {value!r}")
            return default
        if minimum is not None and value < minimum:
            self.fail(name, f"must be >= {minimum:g}, got {value!r}")
            return default
        return float(value)

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self._value(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        self.fail(name, f"expected true or false, got {value!r}")
        return default

    def text_list(self, name: str) -> tuple[str, ...]:
        value = self._value(name)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [part for part in value.split(";")]
        if not isinstance(value, list | tuple):
            self.fail(name, f"expected a list of text, got {type(value).__name__}")
            return ()
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"{name}[{i}]", f"expected text, got {item!r}")
            elif item.strip():
                out.append(item.strip())
        return tuple(out)

    def skills(self, name: str, years_key: str) -> tuple[SkillMention, ...]:
        value = self._value(name)
        if value is None:
            return ()
        if isinstance(value, str):
            value = value.split(";")
        if not isinstance(value, list | tuple):
            self.fail(name, f"expected a list of skills, got {type(value).__name__}")
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                if written := item.strip():
                    out.append(SkillMention(written))
                continue
            where = f"{name}[{i}]"
            if isinstance(item, Mapping):
                text = item.get("text")
                if not isinstance(text, str) or not text.strip():
                    self.fail(f"{where}.text", "is required: the skill as written")
                    continue
                extra = set(item) - {"text", years_key}
                if extra:
                    self.fail(where, f"unknown key(s) {sorted(extra)}; allowed: text, {years_key}")
                years = item.get(years_key)
                if years is not None and (
                    isinstance(years, bool) or not isinstance(years, int | float) or years < 0
                ):
                    self.fail(f"{where}.{years_key}", f"must be a number >= 0, got {years!r}")
                    years = None
                out.append(SkillMention(text.strip(), None if years is None else float(years)))
            else:
                self.fail(where, f"expected text or {{'text', '{years_key}'}}, got {item!r}")
        return tuple(out)

    def languages(self, name: str) -> tuple[str, ...]:
        codes = self.text_list(name)
        out = []
        for code in codes:
            code = code.lower()
            if len(code) != 2 or not code.isalpha():
                self.fail(name, f"expected ISO 639-1 codes such as 'es', got {code!r}")
            else:
                out.append(code)
        return tuple(dict.fromkeys(out))

    def unknown_fields(self, allowed: set[str]) -> None:
        extra = sorted(set(self.record) - allowed)
        if extra:
            self.fail(
                extra[0] if len(extra) == 1 else ",".join(extra),
                "unknown field(s); check the spelling",
            )


_TRUE = {"true", "1", "yes", "si", "sí", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _records(records: Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]]):
    for i, rec in enumerate(records, start=1):
        if isinstance(rec, tuple):
            yield rec
        else:
            yield i, rec


def _parse(records, build, *, source: str, allowed: set[str] | None, seen: dict[str, int] | None):
    """Run ``build`` on every record, collecting every problem; raise once if there are any."""
    with collector_paused():
        return _parse_all(records, build, source=source, allowed=allowed, seen=seen)


def _parse_all(records, build, *, source: str, allowed, seen) -> list:
    out = []
    problems: list[FieldProblem] = []
    seen = {} if seen is None else seen
    for line, rec in _records(records):
        if not isinstance(rec, Mapping):
            why = str(rec) if isinstance(rec, InvalidRecord) else "expected a JSON object"
            problems.append(FieldProblem(f"#{line}", "(record)", why, line))
            continue
        checker = _Checker(rec, str(rec.get("id") or f"#{line}"), line)
        obj = build(checker)
        if obj.id:
            if obj.id in seen:
                checker.fail("id", f"duplicate id {obj.id!r} (first seen at line {seen[obj.id]})")
            else:
                seen[obj.id] = line
        if allowed is not None:
            checker.unknown_fields(allowed)
        problems.extend(checker.problems)
        out.append(obj)
    if problems:
        raise ValidationError(problems, source=source)
    return out


def parse_candidates(
    records: Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]],
    *,
    source: str = "candidates",
    strict_fields: bool = True,
    seen: dict[str, int] | None = None,
) -> list[Candidate]:
    """Validate candidate records and build :class:`Candidate` objects.

    ``records`` are dicts, or ``(line, dict)`` pairs when the line numbers of a
    file are known. Every problem of every record is collected; if there is
    any, one :class:`ValidationError` lists them all. ``seen`` (id -> line)
    carries the duplicate check across the chunks of one file.

    >>> rec = {"id": "R1", "skills": ["soldadura", {"text": "OTDR", "years": 2}]}
    >>> parse_candidates([rec])[0].skills
    (SkillMention(text='soldadura', years=None), SkillMention(text='OTDR', years=2.0))
    >>> parse_candidates([{"id": "R1", "experience_years": -1}])
    Traceback (most recent call last):
    ...
    matcher.exceptions.ValidationError: candidates: 1 invalid field(s):
      - line 1 (R1), field 'experience_years': must be >= 0, got -1
    """

    def build(c: _Checker) -> Candidate:
        birth = c.number("birth_year", default=None, minimum=1900, integer=True)
        return Candidate(
            id=c.text("id", required=True),
            skills=c.skills("skills", "years"),
            past_job_titles=c.text_list("past_job_titles"),
            experience_years=c.number("experience_years") or 0.0,
            region=c.text("region"),
            willing_to_relocate=c.flag("willing_to_relocate"),
            certifications=c.text_list("certifications"),
            languages=c.languages("languages"),
            consent_to_share=c.flag("consent_to_share"),
            name=c.optional_text("name"),
            phone=c.optional_text("phone"),
            email=c.optional_text("email"),
            gender=c.optional_text("gender"),
            birth_year=None if birth is None else int(birth),
        )

    fields = _CANDIDATE_FIELDS if strict_fields else None
    return _parse(records, build, source=source, allowed=fields, seen=seen)


def parse_vacancies(
    records: Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]],
    *,
    source: str = "vacancies",
    strict_fields: bool = True,
    seen: dict[str, int] | None = None,
) -> list[Vacancy]:
    """Validate vacancy records and build :class:`Vacancy` objects (see :func:`parse_candidates`).

    >>> parse_vacancies([{"id": "V1", "employer_id": "E1", "title": "Liniero", "openings": 0}])
    Traceback (most recent call last):
    ...
    matcher.exceptions.ValidationError: vacancies: 1 invalid field(s):
      - line 1 (V1), field 'openings': must be >= 1, got 0
    """

    def build(c: _Checker) -> Vacancy:
        sector = c.text("sector", default="other").lower()
        if sector not in SECTORS:
            c.fail("sector", f"expected one of {', '.join(SECTORS)}, got {sector!r}")
            sector = "other"
        return Vacancy(
            id=c.text("id", required=True),
            employer_id=c.text("employer_id", required=True),
            title=c.text("title", required=True),
            sector=sector,
            description=c.text("description"),
            required_skills=c.skills("required_skills", "min_years"),
            optional_skills=c.skills("optional_skills", "min_years"),
            required_certifications=c.text_list("required_certifications"),
            languages=c.languages("languages"),
            region=c.text("region"),
            remote=c.flag("remote"),
            openings=int(c.number("openings", default=1, minimum=1, integer=True) or 1),
            monthly_wage_pen=c.number("monthly_wage_pen", default=None, minimum=0),
            min_experience_years=c.number("min_experience_years") or 0.0,
        )

    fields = _VACANCY_FIELDS if strict_fields else None
    return _parse(records, build, source=source, allowed=fields, seen=seen)


def candidate_records(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    """Plain dicts of candidates (the inverse of :func:`parse_candidates`)."""
    from dataclasses import asdict

    return [asdict(c) for c in candidates]
