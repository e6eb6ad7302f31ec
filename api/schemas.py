"""Request (``*In``) and response (``*Out``) models. Unknown fields and wrong types are refused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]
SkillText = Annotated[str, StringConstraints(min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=5000)]
LangCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Years = Annotated[float, Field(ge=0, le=80, allow_inf_nan=False)]
Wage = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
Score01 = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
# JSON has no date type: an ISO 8601 string is the strict form of a date here.
Day = Annotated[date, Field(strict=False)]
Sector = Literal["energy", "telecom", "environment", "other"]
Role = Literal["admin", "caseworker", "employer"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CandidateSkillIn(_In):
    text: SkillText
    years: Years | None = None


class RequiredSkillIn(_In):
    text: SkillText
    min_years: Years | None = None


class VacancyFields(_In):
    employer_id: Id
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    sector: Sector = "other"
    description: LongText = ""
    required_skills: list[SkillText | RequiredSkillIn] = Field(default_factory=list, max_length=50)
    optional_skills: list[SkillText | RequiredSkillIn] = Field(default_factory=list, max_length=50)
    required_certifications: list[ShortText] = Field(default_factory=list, max_length=20)
    languages: list[LangCode] = Field(default_factory=list, max_length=10)
    region: ShortText = ""
    remote: bool = False
    openings: int = Field(default=1, ge=1, le=10_000)
    monthly_wage_pen: Wage
    min_experience_years: Years = 0.0


class VacancyIn(VacancyFields):
    """A new vacancy. ``monthly_wage_pen`` must be at least the legal minimum wage."""

    id: Id


class VacancyUpdate(VacancyFields):
    """The whole vacancy, replacing the stored one (its id comes from the path)."""


class VacancyOut(VacancyIn):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "closed"]
    created_at: datetime
    updated_at: datetime


class CandidateFields(_In):
    skills: list[SkillText | CandidateSkillIn] = Field(default_factory=list, max_length=100)
    past_job_titles: list[ShortText] = Field(default_factory=list, max_length=20)
    experience_years: Years = 0.0
    region: ShortText = ""
    willing_to_relocate: bool = False
    certifications: list[ShortText] = Field(default_factory=list, max_length=30)
    languages: list[LangCode] = Field(default_factory=list, max_length=10)
    consent_to_share: bool = False
    name: ShortText | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    email: ShortText | None = None
    gender: Annotated[str, StringConstraints(max_length=20)] | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)


class CandidateIn(CandidateFields):
    id: Id


class CandidateUpdate(CandidateFields):
    """The whole candidate, replacing the stored one (its id comes from the path)."""


class CandidateBulkIn(_In):
    """Candidates to create or replace by id (an upsert: re-running an import is safe)."""

    candidates: list[CandidateIn] = Field(min_length=1, max_length=1000)


class BulkOut(BaseModel):
    created: int
    updated: int
    ids: list[str]


class NormalisedSkillOut(BaseModel):
    text: str
    uri: str
    label_es: str
    label_en: str
    score: float
    matched: bool


class CandidateOut(CandidateIn):
    model_config = ConfigDict(extra="forbid")
    pseudonym: str
    skills_normalised: list[NormalisedSkillOut]
    created_at: datetime
    updated_at: datetime


class ErasedOut(BaseModel):
    id: str
    erased: bool
    erased_at: datetime


class MatchedSkillOut(BaseModel):
    requirement: str
    kind: str
    uri: str
    label_es: str
    label_en: str
    candidate_text: str
    credit: float


class SkillGapOut(BaseModel):
    requirement: str
    uri: str
    label_es: str
    label_en: str
    related_text: str | None = None
    related_credit: float = 0.0


class ShortlistItemOut(BaseModel):
    """One ranked candidate. Identity fields appear for staff, and for the employer on consent."""

    rank: int
    score: float
    pseudonym: str
    candidate_id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    consent_to_share: bool
    skills: list[str]
    matched: list[MatchedSkillOut]
    missing: list[SkillGapOut]
    explanation: str


class ShortlistOut(BaseModel):
    vacancy_id: str
    lang: str
    model_version: str
    taxonomy_version: str
    candidates_considered: int
    items: list[ShortlistItemOut]


class MatchItemOut(BaseModel):
    rank: int
    score: float
    vacancy_id: str
    employer_id: str
    title: str
    matched: list[MatchedSkillOut]
    missing: list[SkillGapOut]
    explanation: str


class MatchesOut(BaseModel):
    candidate_id: str
    lang: str
    model_version: str
    taxonomy_version: str
    items: list[MatchItemOut]


class NormaliseIn(_In):
    mentions: list[SkillText] = Field(min_length=1, max_length=200)
    kind: Literal["skill", "occupation"] = "skill"
    lang: Literal["es", "en", "auto"] = "auto"
    top_k: int = Field(default=1, ge=1, le=10)


class NormaliseRowOut(BaseModel):
    mention: str
    rank: int
    uri: str
    label_es: str
    label_en: str
    score: float
    method: str
    matched: bool


class ExtractIn(_In):
    texts: list[LongText] = Field(min_length=1, max_length=20)
    lang: Literal["es", "en", "auto"] = "auto"
    top_k: int = Field(default=10, ge=1, le=30)


class ExtractRowOut(BaseModel):
    line: int
    rank: int
    uri: str
    label_en: str
    label_es: str
    score: float
    evidence: str


class PlacementIn(_In):
    candidate_id: Id
    vacancy_id: Id
    start_date: Day
    monthly_wage_pen: Wage


class PlacementOut(PlacementIn):
    id: str
    employer_id: str
    created_at: datetime


class FollowUpIn(_In):
    visit_date: Day
    still_employed: bool
    monthly_wage_pen: Wage | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    economic_score: Score01 | None = None
    social_score: Score01 | None = None
    psychosocial_score: Score01 | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class FollowUpOut(FollowUpIn):
    id: str
    placement_id: str
    created_at: datetime


class RankedIdOut(BaseModel):
    id: str
    rank: int
    score: float


class AuditOut(BaseModel):
    id: int
    at: datetime
    user_id: str
    role: str
    action: str
    vacancy_id: str | None
    candidate_id: str | None
    model_version: str
    taxonomy_version: str
    top_k: int | None
    results: list[RankedIdOut]


class HealthOut(BaseModel):
    status: str


class ProblemOut(BaseModel):
    """An RFC 9457 problem body."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
