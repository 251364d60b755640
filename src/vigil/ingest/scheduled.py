"""Ingestion's periodic jobs."""

from __future__ import annotations

from vigil.db import Store
from vigil.ingest.heartbeats import check_heartbeats
from vigil.jobs import scheduled

__all__ = ["check_missed_heartbeats"]


@scheduled("heartbeats.check", every=lambda s: s.heartbeat_check_seconds)
def check_missed_heartbeats(store: Store) -> str:
    """Open incidents for heartbeats that missed their check-in."""
    with store.write() as session:
        outcomes = check_heartbeats(session=session, settings=store.settings)
    opened = sum(1 for o in outcomes if o.outcome == "opened")
    return f"{opened} incident(s) opened"
