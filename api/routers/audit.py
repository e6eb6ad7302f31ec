"""The audit log of automated rankings (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServiceDep
from api.routers.common import AUTH
from api.schemas import AuditOut

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=AUTH)


@router.get("")
def list_audit(
    user: CurrentUser,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    vacancy_id: Annotated[str | None, Query(max_length=100)] = None,
    candidate_id: Annotated[str | None, Query(max_length=100)] = None,
) -> list[AuditOut]:
    """One record per shortlist or matches request, newest first."""
    rows = service.list_audit(
        user, limit=limit, offset=offset, vacancy_id=vacancy_id, candidate_id=candidate_id
    )
    return [AuditOut(**r) for r in rows]
