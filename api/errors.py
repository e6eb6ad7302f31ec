"""Every error as ``application/problem+json`` (RFC 9457), mapped from domain codes in one place.

A body has a stable ``type`` (``urn:reintegra:problem:<code>``), a ``title``, the ``status``,
a human ``detail`` and, for 422, ``errors``: one entry per invalid field.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher.exceptions import ConfigError, MatcherError, ValidationError

__all__ = ["PROBLEM_JSON", "install_error_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("api.errors")

#: code -> (status, title)
STATUS_BY_CODE: dict[str, tuple[int, str]] = {
    "unauthenticated": (401, "Authentication required"),
    "forbidden": (403, "Not allowed for this role"),
    "not_found": (404, "Not found"),
    "conflict": (409, "Conflict with the stored state"),
    "payload_too_large": (413, "Request body too large"),
    "validation_failed": (422, "Invalid input"),
    "config_invalid": (422, "Invalid option"),
    "input_unreadable": (422, "Unreadable input"),
    "unavailable": (503, "Service unavailable"),
}


def problem_type(code: str) -> str:
    return f"urn:reintegra:problem:{code}"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _is_tag(part: str) -> bool:
    return part[:1].isupper() or "[" in part or part in {"str", "int", "float", "bool"}


def _field_of(loc: tuple[Any, ...]) -> str:
    """``("body", "skills", 0, "text")`` -> ``"skills[0].text"``; query/path keep their source."""
    parts = list(loc)
    prefix = ""
    if parts and parts[0] == "body":
        parts = parts[1:]
    elif parts and parts[0] in ("query", "path", "header"):
        prefix = f"{parts[0]}."
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return prefix + (out or "(body)")


async def _on_request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        # Drop the model-union tags pydantic adds ("str", "SkillIn") so the field reads cleanly.
        loc = tuple(p for p in loc if not (isinstance(p, str) and _is_tag(p)))
        if err.get("type") == "json_invalid":
            errors.append({"field": "(body)", "message": f"malformed JSON: {err.get('msg')}"})
            continue
        errors.append({"field": _field_of(loc), "message": str(err.get("msg"))})
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        422,
        "validation_failed",
        "Invalid input",
        f"{len(errors)} invalid field(s): {names}",
        errors=errors,
    )


async def _on_matcher_error(request: Request, exc: MatcherError) -> JSONResponse:
    status, title = STATUS_BY_CODE.get(exc.code, (400, "Bad request"))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, ValidationError):
        errors = [
            {"field": p.field, "message": p.message, "record": p.record} for p in exc.problems
        ]
        names = ", ".join(dict.fromkeys(p.field for p in exc.problems))
        detail = f"{len(errors)} invalid field(s): {names}"
        return problem_response(status, exc.code, title, detail, errors=errors)
    if isinstance(exc, ConfigError):
        return problem_response(422, exc.code, title, str(exc), errors=[])
    return problem_response(status, exc.code, title, str(exc), headers=headers)


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}.get(
        exc.status_code, f"http_{exc.status_code}"
    )
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    return problem_response(
        exc.status_code, code, detail, detail, headers=getattr(exc, "headers", None)
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The message of an unexpected error may quote stored data: log its type only.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem_response(500, "internal_error", "Internal error", "unexpected server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(MatcherError, _on_matcher_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
