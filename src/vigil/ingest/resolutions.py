"""Auto-resolutions of one ingestion batch, written together with ``executemany``."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, update
from sqlalchemy.orm import Session

from vigil.db.base import utcnow
from vigil.db.fastpath import PreparedStatement, insert_all_columns
from vigil.incidents.models import Incident, TimelineEntry
from vigil.ingest.signals import Signal

__all__ = ["Resolutions"]

_INCIDENTS = cast(Table, Incident.__table__)
_RESOLVE_INCIDENT = PreparedStatement(
    update(_INCIDENTS)
    .where(_INCIDENTS.c.id == bindparam("pk"))
    .values(
        status="resolved",
        resolved_at=bindparam("at"),
        resolution=func.coalesce(_INCIDENTS.c.resolution, bindparam("note")),
        updated_at=bindparam("now"),
    )
)
_INSERT_ENTRY = PreparedStatement(insert_all_columns(cast(Table, TimelineEntry.__table__)))


class Resolutions:
    """Auto-resolutions of one batch, written together with ``executemany``."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.updates: list[dict[str, Any]] = []
        self.entries: list[dict[str, Any]] = []
        self.keys: set[str] = set()

    def add(self, incident: dict[str, Any], sig: Signal, note: str, at: dt.datetime) -> None:
        now = utcnow()
        self.updates.append({"pk": incident["id"], "at": at, "note": note, "now": now})
        self.keys.add(sig.dedup_key)
        self.entries.append(
            {
                "incident_id": incident["id"],
                "at": at,
                "actor": sig.sender,
                "kind": "status_changed",
                "message": f"Status {incident['status']} → resolved: {note}",
                "changes": {
                    "status": {"from": incident["status"], "to": "resolved"},
                    "resolved_at": {"from": None, "to": at.isoformat()},
                },
            }
        )

    def flush(self) -> None:
        """Write pending resolutions (before any insert that reuses their dedup keys)."""
        if self.updates:
            conn = self._session.connection()
            _RESOLVE_INCIDENT.executemany(conn, self.updates)
            _INSERT_ENTRY.executemany(conn, self.entries)
            self.updates, self.entries, self.keys = [], [], set()
