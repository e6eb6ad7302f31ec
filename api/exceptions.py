"""The service's domain errors: :class:`~matcher.exceptions.MatcherError` subclasses with codes.

``api.errors`` maps every code to an HTTP status and a problem+json body, once.
"""

from __future__ import annotations

from matcher.exceptions import MatcherError

__all__ = [
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "Unauthenticated",
    "Unavailable",
]


class Unauthenticated(MatcherError):
    """No API key, or one that matches no active user."""

    code = "unauthenticated"


class Forbidden(MatcherError):
    """The user's role may not do this."""

    code = "forbidden"


class NotFound(MatcherError):
    """No such record, or none the user may see."""

    code = "not_found"

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"no {kind} with id {record_id!r}")


class Conflict(MatcherError):
    """The write clashes with what is stored (an existing id, a closed vacancy)."""

    code = "conflict"


class PayloadTooLarge(MatcherError):
    """The request body is larger than ``REINTEGRA_MAX_BODY_BYTES``."""

    code = "payload_too_large"


class Unavailable(MatcherError):
    """A dependency (the database) does not answer."""

    code = "unavailable"
