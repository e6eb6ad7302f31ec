"""The FastAPI application: routers, problem+json errors, a lifespan that builds the engine once.

Run it with ``reintegra serve`` (uvicorn) or ``create_app()`` in tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.errors import install_error_handlers, problem_response
from api.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger("api.access")


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413 before any handler parses them."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: dict, receive: Any, send: Any) -> None:
        response = problem_response(
            413,
            "payload_too_large",
            "Request body too large",
            f"the body exceeds {self.limit} bytes (REINTEGRA_MAX_BODY_BYTES); send smaller batches",
            errors=[{"field": "(body)", "message": f"larger than {self.limit} bytes"}],
        )
        await response(scope, receive, send)


class AccessLog:
    """One line per request: method, path, status, milliseconds. Never bodies or headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            ms = (time.perf_counter() - start) * 1000
            log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, ms)


def configure_logging(level: str) -> None:
    """Service logs on stderr; uvicorn's own access log is off (ours logs paths only)."""
    root = logging.getLogger("api")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def create_app(settings: Settings | None = None, *, engine: Any = None) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings : Settings, optional
        Default: read from the environment (``REINTEGRA_*``).
    engine : MatchEngine, optional
        An engine already built (tests share one); default: :func:`matcher.io.load_engine`
        once, in the lifespan.
    """
    settings = settings or Settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from api.service import Service
        from api.store.db import create_db_engine, migrate

        match_engine = engine
        if match_engine is None:
            from matcher.io import load_engine

            match_engine = load_engine(settings.fixtures_dir, model_path=settings.model_path)
        # Build the normaliser's skill index now, not on the first request.
        match_engine.normaliser.match(["warm-up"], kind="skill", top_k=1)
        db = create_db_engine(settings.database_url)
        migrate(db)
        app.state.service = Service(settings, match_engine, db)
        logging.getLogger("api").info(
            "ready: model %s, taxonomy %s, database %s",
            match_engine.model_version,
            match_engine.taxonomy_version,
            db.dialect.name,
        )
        try:
            yield
        finally:
            db.dispose()

    app = FastAPI(
        title="reintegra",
        version="1.0.0",
        summary="Explainable job matching for returning migrants (ESCO skills).",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)

    from api.routers import audit, candidates, health, placements, skills, vacancies

    for module in (health, vacancies, candidates, placements, skills, audit):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app
