"""Engine construction: SQLite in WAL mode with explicit transactions, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.pool import NullPool

from vigil.config import Settings
from vigil.errors import ConfigurationError

__all__ = ["WRITE_OPTION", "make_engine", "normalize_database_url", "sqlite_path"]

#: Execution option marking a connection that will write; SQLite then takes the
#: write lock at BEGIN, so read-then-write transactions never fail to upgrade.
WRITE_OPTION = "vigil_write"


def normalize_database_url(value: str) -> str:
    """Turn a plain file path into a SQLite URL and plain PostgreSQL URLs into psycopg 3 ones."""
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def sqlite_path(url: str) -> Path | None:
    """Return the file behind a SQLite URL, or None for other backends and memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    """Create the engine for ``url`` (default: the configured database)."""
    url = normalize_database_url(url or settings.resolved_database_url)
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:
        raise ConfigurationError(f"database URL {url!r} is not valid: {exc}") from exc
    if backend == "sqlite":
        return _sqlite_engine(settings, url)
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise ConfigurationError(
        f"database backend {backend!r} is not supported; use sqlite or postgresql+psycopg"
    )


class _HintingSQLiteCompiler(SQLiteCompiler):
    """Render ``select().with_hint(table, "INDEXED BY ix", "sqlite")`` after the table name.

    SQLAlchemy's SQLite compiler drops table hints; a few aggregate queries need SQLite to
    walk a particular index instead of sorting (the plans are in docs/benchmarks.md).
    """

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def _sqlite_engine(settings: Settings, url: str) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        poolclass=NullPool if path is None else None,
        # Every transaction ends with its own COMMIT or ROLLBACK (SQLAlchemy rolls back one
        # left open when a connection closes), so the pool's extra rollback on each return
        # is pure overhead on the hot path.
        pool_reset_on_return=None,
    )
    engine.dialect.statement_compiler = _HintingSQLiteCompiler
    synchronous = settings.sqlite_synchronous
    busy_ms = settings.sqlite_busy_timeout_ms
    cache_mib = settings.sqlite_cache_mib

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver: it would not BEGIN before DDL,
        # which makes migrations non-transactional, and cannot BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.execute(f"PRAGMA cache_size={-1024 * int(cache_mib)}")
        # Checkpoint every 64 MiB of WAL rather than 4: pages rewritten by every ingest batch
        # (indexes, states) are then copied to the database once per checkpoint, not per few.
        cur.execute("PRAGMA wal_autocheckpoint=16384")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        # Straight to the driver: a statement through SQLAlchemy's execution machinery costs
        # more than SQLite's BEGIN itself, on every transaction.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
