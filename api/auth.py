"""API keys: shown once at creation, stored only as a SHA-256 hash; roles and who may do what."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from api.exceptions import Forbidden

__all__ = ["ROLES", "Principal", "hash_key", "new_key", "require_role"]

ROLES = ("admin", "caseworker", "employer")
KEY_PREFIX = "rk_"


def new_key() -> str:
    """A fresh API key: 256 random bits, so a fast hash is enough to store it."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user id, a role, and for employers their employer id."""

    id: str
    name: str
    role: str
    employer_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "caseworker")


def require_role(user: Principal, *roles: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"role {user.role!r} may not do this; allowed: {', '.join(roles)}")
