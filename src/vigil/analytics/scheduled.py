"""Analytics' periodic jobs."""

from __future__ import annotations

from vigil.analytics.downtime import refresh_in_steps
from vigil.db import Store
from vigil.jobs import scheduled

__all__ = ["prune_old_history", "refresh_availability"]


@scheduled("availability.refresh", every=lambda s: s.analytics_refresh_seconds)
def refresh_availability(store: Store) -> str:
    """Follow the incident and state-change feeds into the stored down intervals."""
    # Small steps: each holds the write lock ingestion needs for a few milliseconds.
    return f"{refresh_in_steps(store=store, step=20)} resource(s) rebuilt"


@scheduled("retention.prune", every=lambda s: 3600.0)
def prune_old_history(store: Store) -> str:
    """Prune the event log and the state history past their retention, in batches of
    10,000 rows (a short write transaction each), for at most 30 seconds a run."""
    from vigil.analytics.retention import prune_in_batches

    done = prune_in_batches(store=store, seconds=30)
    return ", ".join(f"{p.rows} {p.log} row(s) pruned" for p in done)
