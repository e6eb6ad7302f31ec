"""``reintegra serve`` and ``reintegra users create``: reached lazily from :mod:`matcher.cli`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from matcher.exceptions import MatcherError

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app
    from api.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    if args.workers > 1:
        # Each worker process builds its own app (and engine) from the same environment.
        import os

        os.environ["REINTEGRA_HOST"] = settings.host
        os.environ["REINTEGRA_PORT"] = str(settings.port)
        uvicorn.run(
            "api.main:create_app",
            factory=True,
            workers=args.workers,
            host=settings.host,
            port=settings.port,
            access_log=False,
            log_level=settings.log_level.lower(),
        )
        return 0
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level=settings.log_level.lower(),
    )
    return 0


def create_user(*, name: str, role: str, employer_id: str | None) -> tuple[str, str]:
    """Create a user in the configured database; returns (user id, API key)."""
    from api.service import Service
    from api.settings import Settings
    from api.store.db import create_db_engine, migrate

    settings = Settings()
    db = create_db_engine(settings.database_url)
    try:
        migrate(db)
        # User management needs no engine: the service is built without one.
        return Service(settings, None, db).create_user(  # type: ignore[arg-type]
            name=name, role=role, employer_id=employer_id
        )
    finally:
        db.dispose()


def _users_create(args: argparse.Namespace) -> int:
    user_id, key = create_user(name=args.name, role=args.role, employer_id=args.employer_id)
    print(f"user {user_id} ({args.role}) created.")
    print("API key (shown once, store it now; only its hash is kept):")
    print(key)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reintegra")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the HTTP service (uvicorn)")
    p_serve.add_argument("--host", default=None, help="default: REINTEGRA_HOST or 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=None, help="default: REINTEGRA_PORT or 8000")
    p_serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    p_serve.set_defaults(func=_serve)
    p_users = sub.add_parser("users", help="manage users and their API keys")
    users = p_users.add_subparsers(dest="users_command", required=True)
    p_create = users.add_parser("create", help="create a user and print its API key once")
    p_create.add_argument("--role", required=True, choices=("admin", "caseworker", "employer"))
    p_create.add_argument("--name", required=True)
    p_create.add_argument("--employer-id", default=None, dest="employer_id")
    p_create.set_defaults(func=_users_create)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MatcherError as exc:
        print(f"reintegra: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # settings refused (pydantic) and similar: message, exit 2
        from pydantic import ValidationError as SettingsError

        if isinstance(exc, SettingsError):
            print(f"reintegra: invalid settings: {exc}", file=sys.stderr)
            return 2
        raise
