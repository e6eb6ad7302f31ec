"""Skill normalisation and extraction for any authenticated user."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, ServiceDep
from api.routers.common import AUTH
from api.schemas import ExtractIn, ExtractRowOut, NormaliseIn, NormaliseRowOut

router = APIRouter(prefix="/v1/skills", tags=["skills"], responses=AUTH)


@router.post("/normalise")
def normalise(body: NormaliseIn, user: CurrentUser, service: ServiceDep) -> list[NormaliseRowOut]:
    """Map skill or occupation mentions to ESCO concepts, ``top_k`` rows per mention."""
    rows = service.normalise_skills(
        user, body.mentions, kind=body.kind, lang=body.lang, top_k=body.top_k
    )
    return [NormaliseRowOut(**r) for r in rows]


@router.post("/extract")
def extract(body: ExtractIn, user: CurrentUser, service: ServiceDep) -> list[ExtractRowOut]:
    """Find the ESCO skills a job ad or CV text mentions, with the evidence span."""
    rows = service.extract_skills(user, body.texts, lang=body.lang, top_k=body.top_k)
    return [ExtractRowOut(**r) for r in rows]
