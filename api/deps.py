"""Annotated dependency aliases the routers declare: the service and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal
from api.service import Service

__all__ = ["CurrentUser", "ServiceDep"]

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer rk_...`")


# Both dependencies are async so that a request does not hop to a worker thread for them;
# only a key not seen in the last few seconds is looked up in the database, on a thread.
async def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


async def get_current_user(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    key = credentials.credentials if credentials else None
    user = service.known_principal(key)
    if user is None:
        user = await run_in_threadpool(service.authenticate, key)
    return user


CurrentUser = Annotated[Principal, Depends(get_current_user)]
