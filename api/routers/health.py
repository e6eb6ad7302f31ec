"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep
from api.routers.common import problems
from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", responses=problems(422) | {503: {"description": "not ready"}})
def readyz(service: ServiceDep) -> HealthOut:
    """The database answers and the engine is loaded."""
    service.ready()
    return HealthOut(status="ready")
