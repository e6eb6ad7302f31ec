"""Deployment configuration from the environment (``REINTEGRA_`` prefix); unsafe values fail fast.

>>> Settings(minimum_wage_pen=1130).minimum_wage_pen
1130.0
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

#: The legal minimum monthly wage in Peru (remuneración mínima vital), soles.
PERU_MINIMUM_WAGE_PEN = 1130.0
_MAX_BODY_CEILING = 50 * 1024 * 1024


class Settings(BaseSettings):
    """Where the database is, where to listen, and the limits the service enforces."""

    model_config = SettingsConfigDict(env_prefix="REINTEGRA_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///reintegra.db",
        description="SQLAlchemy URL: sqlite:///FILE (default, created on first start) "
        "or postgresql+psycopg://USER:PASSWORD@HOST/DB",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    allow_public_bind: bool = Field(
        default=False, description="must be true to listen on a non-loopback address"
    )
    minimum_wage_pen: float = Field(default=PERU_MINIMUM_WAGE_PEN, gt=0)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_top_k: int = Field(default=100, ge=1, le=1000)
    fixtures_dir: str | None = Field(default=None, description="taxonomy folder (default: shipped)")
    model_path: str | None = Field(
        default=None,
        description="model folder written by `reintegra train` (default: the documented "
        "default weights, named default-weights)",
    )
    log_level: str = "INFO"
    shortlist_cache_size: int = Field(default=512, ge=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}:
            raise ValueError(
                f"REINTEGRA_DATABASE_URL: expected sqlite:///FILE or "
                f"postgresql+psycopg://..., got scheme {scheme!r}"
            )
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @field_validator("max_body_bytes")
    @classmethod
    def _bounded_body(cls, value: int) -> int:
        if value > _MAX_BODY_CEILING:
            raise ValueError(f"must be <= {_MAX_BODY_CEILING} bytes, got {value}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {value!r}")
        return level

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> Settings:
        try:
            loopback = self.host == "localhost" or ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            loopback = False
        if not loopback and not self.allow_public_bind:
            raise ValueError(
                f"REINTEGRA_HOST={self.host!r} is not a loopback address; put the service "
                "behind a TLS proxy and set REINTEGRA_ALLOW_PUBLIC_BIND=true to confirm"
            )
        return self
