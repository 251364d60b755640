"""The Store: one database, its engines and transaction scopes.

Adapters (library façade, CLI, API, workers) open a Store and run service
functions inside ``store.write()`` or ``store.read()``; the Store owns commit
and rollback, services only flush.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from vigil.config import Settings
from vigil.db.base import INCIDENTS_CHANGED
from vigil.db.engine import WRITE_OPTION, make_engine, normalize_database_url
from vigil.errors import DatabaseError, SchemaOutOfDateError

__all__ = ["SCHEMA_REVISION", "Store"]

#: The Alembic head this code expects; a test keeps it equal to the newest revision.
SCHEMA_REVISION = "0012"


class Store:
    """A database connection pool plus Vigil's transaction rules."""

    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self.settings = settings
        self.url = normalize_database_url(url or settings.resolved_database_url)
        self.engine: Engine = make_engine(settings, self.url)
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self._writer = sessionmaker(bind=self._write_engine, expire_on_commit=False)
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._schema_checked = False
        #: Called after a commit that changed incidents (wakes notification delivery).
        self.after_change: list[Callable[[], None]] = []

    @property
    def backend(self) -> str:
        """Return ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """Open a write transaction; commit on success, roll back on any error."""
        self.ensure_schema()
        with self._writer() as session:
            with session.begin():
                yield session
            if session.info.pop(INCIDENTS_CHANGED, False):
                for hook in self.after_change:
                    hook()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Open a read transaction; closing returns the connection, which rolls it back.

        Objects stay loaded after the block (close detaches without expiring them). Reading
        never creates a database: a SQLite file that does not exist is an error.
        """
        self._refuse_missing_file()
        self.ensure_schema()
        with self._reader() as session:
            yield session

    def _refuse_missing_file(self) -> None:
        if self._schema_checked or self.backend != "sqlite":
            return
        path = self.engine.url.database
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            raise DatabaseError(
                f"no database at {path}; check VIGIL_DATA_DIR / VIGIL_DATABASE_URL, or create it "
                "with `vigil db upgrade`",
                field="database_url",
            )

    def current_revision(self) -> str | None:
        """Return the schema revision stored in the database, None if it has none."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
                conn.rollback()
        except (OperationalError, ProgrammingError):
            return None
        return row[0] if row else None

    def is_empty(self) -> bool:
        """Return True when the database holds no tables at all."""
        with self.engine.connect() as conn:
            names = inspect(conn).get_table_names()
            conn.rollback()
        return not names

    def ensure_schema(self) -> None:
        """Create the schema in an empty database; refuse a database behind this code."""
        if self._schema_checked:
            return
        try:
            revision = self.current_revision()
            if revision is None and self.is_empty():
                from vigil.db.schema import upgrade_engine

                upgrade_engine(self.engine, self.url)
                revision = self.current_revision()
        except OperationalError as exc:
            raise DatabaseError(f"cannot open database {self.safe_url}: {exc.orig}") from exc
        if revision != SCHEMA_REVISION:
            raise SchemaOutOfDateError(
                f"database {self.safe_url} is at schema revision {revision or 'none'}, "
                f"this Vigil needs {SCHEMA_REVISION}; run `vigil db upgrade`"
            )
        self._schema_checked = True

    @property
    def safe_url(self) -> str:
        """Return the URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
