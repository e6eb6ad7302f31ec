"""Annotated dependency aliases the routers declare: the service and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal
from api.service import Service

__all__ = ["CurrentUser", "ServiceDep"]

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer rk_...`")


def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_current_user(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    user = service.authenticate(credentials.credentials if credentials else None)
    return user


CurrentUser = Annotated[Principal, Depends(get_current_user)]
