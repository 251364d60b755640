"""Turn what a database driver raised into the Vigil error a user can act on.

SQLAlchemy wraps driver errors raised through it, but the ingestion fast path calls the
drivers directly, so both shapes are handled here, once. Driver messages name SQL and
internals: they are logged by the caller, never shown to the user.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DBAPIError

from vigil.errors import ConflictError, DatabaseError, ValidationError, VigilError

__all__ = ["DRIVER_ERRORS", "translate_db_error"]

#: Every exception type that can carry a database failure to an interface.
DRIVER_ERRORS: tuple[type[Exception], ...] = (DBAPIError, sqlite3.Error, psycopg.Error)


def translate_db_error(exc: BaseException) -> VigilError | None:
    """Return the Vigil error for a driver failure, or None if it is a bug in Vigil."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(exc, sa_exc.IntegrityError | sa_exc.DataError | sa_exc.OperationalError):
        orig = exc  # SQLAlchemy already classified it
    if isinstance(orig, sqlite3.IntegrityError | psycopg.IntegrityError | sa_exc.IntegrityError):
        return ConflictError(
            "the change clashes with data stored meanwhile (a duplicate or a missing "
            "reference); reload and retry"
        )
    if isinstance(orig, psycopg.DataError | sqlite3.DataError | sa_exc.DataError):
        return ValidationError(
            "a value is too long or out of range for where it is stored; shorten it"
        )
    if isinstance(
        orig, psycopg.OperationalError | sqlite3.OperationalError | sa_exc.OperationalError
    ):
        return DatabaseError("the database is busy or unavailable; retry the request shortly")
    if isinstance(orig, psycopg.InterfaceError | sqlite3.InterfaceError):
        return DatabaseError("the database connection failed; retry the request shortly")
    return None
