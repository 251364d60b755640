"""Fresh databases for benchmarks: a SQLite file, or a PostgreSQL database dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from vigil.config import Settings
from vigil.db.migrate import upgrade_schema
from vigil.db.store import Store

__all__ = ["PG_ADMIN", "database"]

PG_ADMIN = os.environ.get("VIGIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def database(backend: str, **overrides: object) -> Iterator[Settings]:
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    if backend == "sqlite":
        settings = Settings(database_url=f"sqlite:///{tmp / 'vigil.db'}", data_dir=tmp, **overrides)  # type: ignore[arg-type]
        try:
            store = Store(settings)
            upgrade_schema(store)
            store.close()
            yield settings
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    import psycopg

    name = f"vigil_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    settings = Settings(database_url=url, data_dir=tmp, **overrides)  # type: ignore[arg-type]
    try:
        store = Store(settings)
        upgrade_schema(store)
        store.close()
        yield settings
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        shutil.rmtree(tmp, ignore_errors=True)
