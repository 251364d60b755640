"""Database layer: engine, sessions, schema and migrations.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.db.base import (
        INCIDENTS_CHANGED,
        Base,
        UTCDateTime,
        elapsed_bucket,
        epoch_diff,
        epoch_seconds,
        later_of,
        utcnow,
        uuid7,
    )
    from vigil.db.engine import normalize_database_url, sqlite_path
    from vigil.db.failures import DRIVER_ERRORS, translate_db_error
    from vigil.db.fastpath import PreparedStatement, insert_all_columns
    from vigil.db.locks import lock_keys
    from vigil.db.runfiles import owner_alive, register_process
    from vigil.db.store import Store

__all__ = [
    "DRIVER_ERRORS",
    "INCIDENTS_CHANGED",
    "Base",
    "PreparedStatement",
    "Store",
    "UTCDateTime",
    "elapsed_bucket",
    "epoch_diff",
    "epoch_seconds",
    "insert_all_columns",
    "later_of",
    "lock_keys",
    "normalize_database_url",
    "owner_alive",
    "register_process",
    "sqlite_path",
    "translate_db_error",
    "utcnow",
    "uuid7",
]

_EXPORTS = {
    "Base": "base",
    "DRIVER_ERRORS": "failures",
    "INCIDENTS_CHANGED": "base",
    "PreparedStatement": "fastpath",
    "Store": "store",
    "UTCDateTime": "base",
    "elapsed_bucket": "base",
    "epoch_diff": "base",
    "epoch_seconds": "base",
    "insert_all_columns": "fastpath",
    "later_of": "base",
    "lock_keys": "locks",
    "normalize_database_url": "engine",
    "sqlite_path": "engine",
    "owner_alive": "runfiles",
    "register_process": "runfiles",
    "translate_db_error": "failures",
    "utcnow": "base",
    "uuid7": "base",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
