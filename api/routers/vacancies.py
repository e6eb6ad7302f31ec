"""Vacancies: employers manage their own; staff see all."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import CurrentUser, ServiceDep
from api.routers.common import AUTH, problems
from api.schemas import ShortlistOut, VacancyIn, VacancyOut, VacancyUpdate

router = APIRouter(prefix="/v1/vacancies", tags=["vacancies"], responses=AUTH)
VacancyId = Annotated[str, Path(max_length=100)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(409))
def create_vacancy(body: VacancyIn, user: CurrentUser, service: ServiceDep) -> VacancyOut:
    """Create a vacancy (employers: only for their own employer id)."""
    return VacancyOut(**service.create_vacancy(user, body.model_dump(mode="json")))


@router.get("")
def list_vacancies(
    user: CurrentUser,
    service: ServiceDep,
    status: Literal["open", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[VacancyOut]:
    """List vacancies: an employer sees only its own."""
    rows = service.list_vacancies(user, status=status, limit=limit, offset=offset)
    return [VacancyOut(**r) for r in rows]


@router.get("/{vacancy_id}", responses=problems(404))
def read_vacancy(vacancy_id: VacancyId, user: CurrentUser, service: ServiceDep) -> VacancyOut:
    """Read one vacancy."""
    return VacancyOut(**service.get_vacancy(user, vacancy_id))


@router.put("/{vacancy_id}", responses=problems(404, 409))
def update_vacancy(
    vacancy_id: VacancyId, body: VacancyUpdate, user: CurrentUser, service: ServiceDep
) -> VacancyOut:
    """Replace an open vacancy."""
    return VacancyOut(**service.update_vacancy(user, vacancy_id, body.model_dump(mode="json")))


@router.post("/{vacancy_id}/close", responses=problems(404))
def close_vacancy(vacancy_id: VacancyId, user: CurrentUser, service: ServiceDep) -> VacancyOut:
    """Close a vacancy: it leaves candidates' matches and becomes read-only."""
    return VacancyOut(**service.close_vacancy(user, vacancy_id))


@router.get("/{vacancy_id}/shortlist", response_model=ShortlistOut, responses=problems(404))
async def shortlist(
    vacancy_id: VacancyId,
    user: CurrentUser,
    service: ServiceDep,
    top_k: Annotated[int, Query(ge=1, le=100)] = 10,
    lang: Literal["es", "en"] = "es",
) -> Response:
    """Best candidates for the vacancy, with reasons and skill gaps; every request is audited.

    The vacancy's employer sees pseudonymised candidates unless a candidate consented to share.
    """
    # The service renders each shortlist once (validated against ShortlistOut) and reuses it.
    body = await service.shortlist(user, vacancy_id, top_k=top_k, lang=lang)
    return Response(body, media_type="application/json")
