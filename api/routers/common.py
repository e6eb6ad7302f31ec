"""Shared route pieces: the problem responses every authenticated route may give."""

from __future__ import annotations

from typing import Any

from api.errors import PROBLEM_JSON
from api.schemas import ProblemOut


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    names = {
        401: "No or invalid API key",
        403: "Role not allowed",
        404: "Not found (or not visible to this user)",
        409: "Conflict with the stored state",
        413: "Body too large",
        422: "Invalid input: `errors` lists each field",
    }
    return {
        s: {"model": ProblemOut, "description": names[s], "content": {PROBLEM_JSON: {}}}
        for s in statuses
    }


AUTH = problems(401, 403, 413, 422)
