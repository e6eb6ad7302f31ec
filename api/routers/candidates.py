"""Candidates (staff only): create, import, list, read, replace, erase, and their matches."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from api.deps import CurrentUser, ServiceDep
from api.routers.common import AUTH, problems
from api.schemas import (
    BulkOut,
    CandidateBulkIn,
    CandidateIn,
    CandidateOut,
    CandidateUpdate,
    ErasedOut,
    MatchesOut,
)

router = APIRouter(prefix="/v1/candidates", tags=["candidates"], responses=AUTH)
CandidateId = Annotated[str, Path(max_length=100)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(409))
def create_candidate(body: CandidateIn, user: CurrentUser, service: ServiceDep) -> CandidateOut:
    """Register a returnee; skills are normalised to ESCO now, not on every request."""
    return CandidateOut(**service.create_candidate(user, body.model_dump(mode="json")))


@router.post("/import", responses=problems(409))
def import_candidates(body: CandidateBulkIn, user: CurrentUser, service: ServiceDep) -> BulkOut:
    """Create or replace many candidates by id in one transaction; safe to re-run."""
    records = [c.model_dump(mode="json") for c in body.candidates]
    return BulkOut(**service.import_candidates(user, records))


@router.get("")
def list_candidates(
    user: CurrentUser,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CandidateOut]:
    """List candidates (erased ones are gone)."""
    return [CandidateOut(**r) for r in service.list_candidates(user, limit=limit, offset=offset)]


@router.get("/{candidate_id}", responses=problems(404))
def read_candidate(
    candidate_id: CandidateId, user: CurrentUser, service: ServiceDep
) -> CandidateOut:
    """Read one candidate."""
    return CandidateOut(**service.get_candidate(user, candidate_id))


@router.put("/{candidate_id}", responses=problems(404, 409))
def update_candidate(
    candidate_id: CandidateId, body: CandidateUpdate, user: CurrentUser, service: ServiceDep
) -> CandidateOut:
    """Replace (correct) a candidate's data."""
    record = body.model_dump(mode="json")
    return CandidateOut(**service.update_candidate(user, candidate_id, record))


@router.delete("/{candidate_id}", responses=problems(404))
def erase_candidate(candidate_id: CandidateId, user: CurrentUser, service: ServiceDep) -> ErasedOut:
    """Erase a candidate's personal data; only an anonymised audit trail remains."""
    return ErasedOut(**service.erase_candidate(user, candidate_id))


@router.get("/{candidate_id}/matches", responses=problems(404))
def matches(
    candidate_id: CandidateId,
    user: CurrentUser,
    service: ServiceDep,
    top_k: Annotated[int, Query(ge=1, le=100)] = 10,
    lang: Literal["es", "en"] = "es",
) -> MatchesOut:
    """Best open vacancies for a candidate; every request is audited."""
    return MatchesOut(**service.matches(user, candidate_id, top_k=top_k, lang=lang))
