"""Placements and follow-up visits: the outcomes training learns from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from fastapi.responses import Response

from api.deps import CurrentUser, ServiceDep
from api.routers.common import AUTH, problems
from api.schemas import FollowUpIn, FollowUpOut, PlacementIn, PlacementOut

router = APIRouter(prefix="/v1/placements", tags=["placements"], responses=AUTH)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(404))
def create_placement(body: PlacementIn, user: CurrentUser, service: ServiceDep) -> PlacementOut:
    """Record that a candidate was hired into a vacancy."""
    return PlacementOut(**service.create_placement(user, body.model_dump()))


@router.post(
    "/{placement_id}/followups", status_code=status.HTTP_201_CREATED, responses=problems(404)
)
def add_followup(
    placement_id: Annotated[str, Path(max_length=36)],
    body: FollowUpIn,
    user: CurrentUser,
    service: ServiceDep,
) -> FollowUpOut:
    """Record a follow-up visit (reintegration sustainability: economic, social, psychosocial)."""
    return FollowUpOut(**service.add_followup(user, placement_id, body.model_dump()))


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_outcomes(user: CurrentUser, service: ServiceDep) -> Response:
    """Placements with their follow-ups as CSV (ids and outcomes only) for training."""
    return Response(service.export_outcomes(user), media_type="text/csv")
