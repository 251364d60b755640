"""Small builders for test data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vigil.db.store import Store
from vigil.incidents import service
from vigil.incidents.schemas import IncidentCreate


def make_incident(store: Store, actor: str = "tester", **fields: Any) -> str:
    """Create an incident with sensible defaults and return its ID."""
    fields.setdefault("title", "Disk full on db-1")
    fields.setdefault("category", "SYSTEM_ERROR")
    fields.setdefault("severity", "high")
    with store.write() as session:
        return service.create_incident(
            session=session, settings=store.settings, data=IncidentCreate(**fields), actor=actor
        )


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """Return 2026-01-<day> <hour>:<minute> UTC."""
    return dt.datetime(2026, 1, day, hour, minute, tzinfo=dt.UTC)
