"""Database engine, sessions and migrations.

SQLite gets WAL mode, foreign keys and a busy timeout on every connection; a crash (even
SIGKILL) leaves each transaction either fully written or absent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "create_db_engine",
    "migrate",
    "nowait_writer",
    "session_factory",
    "transaction",
    "writer_lock",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file is created (with its folder) on first use."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            # Transactions are begun explicitly below (pysqlite's own handling is off).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # pragma: no cover - trivial
            # A writer takes the write lock up front, so read-then-write never fails mid-way.
            options = conn.get_execution_options()
            if not options.get("write", False):
                conn.exec_driver_sql("BEGIN")
            elif options.get("nowait", False):
                # Fail at once (OperationalError, "database is locked") instead of waiting
                # while another process writes: the caller then waits somewhere it may block.
                conn.exec_driver_sql("PRAGMA busy_timeout=0")
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                finally:
                    conn.exec_driver_sql("PRAGMA busy_timeout=30000")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


class WriterLock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...
    def release(self) -> None: ...
    def __enter__(self) -> bool: ...
    def __exit__(self, kind: Any, value: Any, traceback: Any, /) -> None: ...


class _NoLock:
    """Where the database queues concurrent writers itself (PostgreSQL)."""

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        pass

    def __enter__(self) -> bool:
        return True

    def __exit__(self, kind: Any, value: Any, traceback: Any, /) -> None:
        pass


def writer_lock(engine: Engine) -> WriterLock:
    """A lock for one process's write transactions on SQLite (a no-op elsewhere).

    SQLite lets one writer in at a time and a blocked writer sleep-polls (1, 2, 5 ... 100 ms),
    so under concurrent requests some wait far longer than the lock is held. Queueing a
    process's writers on this lock first leaves SQLite's busy wait to other processes only.
    """
    return threading.Lock() if engine.dialect.name == "sqlite" else _NoLock()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def nowait_writer(engine: Engine) -> Engine | None:
    """Write transactions that never wait for the SQLite write lock; None if not a SQLite file.

    Beginning one raises :class:`sqlalchemy.exc.OperationalError` if another connection
    holds the lock; short writes on a local file may then run on the event loop itself.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None  # an in-memory database lives in one thread's connection
    return engine.execution_options(write=True, nowait=True)


def session_factory(engine: Engine, *, write: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or (``write=True``) for writing; SQLite writers lock up front."""
    bind = engine.execution_options(write=True) if write else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, one transaction: committed on success, rolled back on any error."""
    with factory() as session, session.begin():
        yield session
