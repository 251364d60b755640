"""Small builders for test data."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from vigil.config import Settings
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


def store_copy(template: Path, directory: Path, name: str) -> Store:
    """Open a fresh copy of the migrated SQLite ``template`` as ``directory/name.db``."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, db)
    return Store(Settings(database_url=f"sqlite:///{db}", data_dir=directory))
