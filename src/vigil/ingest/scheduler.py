"""The background heartbeat checker run by `vigil serve` and `vigil worker`."""

from __future__ import annotations

import logging
import threading
import time

from vigil.db.store import Store
from vigil.ingest.heartbeats import check_heartbeats

__all__ = ["HeartbeatScheduler"]

log = logging.getLogger("vigil.scheduler")


class HeartbeatScheduler:
    """Check heartbeats every ``heartbeat_check_seconds``; store down intervals every
    ``analytics_refresh_seconds``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start checking in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="vigil-heartbeats", daemon=True)
            self._thread.start()

    def run(self) -> None:
        """Check until :meth:`stop` is called (blocking)."""
        settings = self.store.settings
        refreshed = time.monotonic()
        while not self._stop.wait(settings.heartbeat_check_seconds):
            self.check_once()
            if time.monotonic() - refreshed >= settings.analytics_refresh_seconds:
                self.refresh_once()
                refreshed = time.monotonic()

    def refresh_once(self) -> int:
        """Store the down intervals that availability would otherwise recompute per read."""
        from vigil.analytics.downtime import refresh_in_steps

        try:
            # Small steps: each holds the write lock ingestion needs for a few milliseconds.
            return refresh_in_steps(store=self.store, step=20)
        except Exception:
            log.exception("availability refresh failed")
            return 0

    def check_once(self) -> int:
        """Run one check; return how many incidents it opened."""
        try:
            with self.store.write() as session:
                outcomes = check_heartbeats(session=session, settings=self.store.settings)
        except Exception:
            log.exception("heartbeat check failed")
            return 0
        return sum(1 for o in outcomes if o.outcome == "opened")

    def stop(self) -> None:
        """Stop after the current check."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
