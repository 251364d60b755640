"""Per-key locks that serialize writers of the same incident key across processes.

On PostgreSQL these are transaction-scoped advisory locks, taken in sorted order so two
writers cannot deadlock; on SQLite every write transaction already holds the one write lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["lock_keys"]


def lock_keys(session: Session, keys: Iterable[str]) -> None:
    """Hold a lock on each of ``keys`` until the transaction ends (PostgreSQL only)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(h) FROM (SELECT hashtextextended(k, 0) AS h "
            "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY 1) AS s"
        ),
        {"keys": sorted(set(keys))},
    )
