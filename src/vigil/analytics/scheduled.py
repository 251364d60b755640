"""Analytics' periodic jobs."""

from __future__ import annotations

from vigil.analytics.downtime import refresh_in_steps
from vigil.db import Store
from vigil.jobs import scheduled

__all__ = ["refresh_availability"]


@scheduled("availability.refresh", every=lambda s: s.analytics_refresh_seconds)
def refresh_availability(store: Store) -> str:
    """Follow the incident and state-change feeds into the stored down intervals."""
    # Small steps: each holds the write lock ingestion needs for a few milliseconds.
    return f"{refresh_in_steps(store=store, step=20)} resource(s) rebuilt"
