"""The background heartbeat checker run by `vigil serve` and `vigil worker`."""

from __future__ import annotations

import logging
import threading

from vigil.db.store import Store
from vigil.ingest.heartbeats import check_heartbeats

__all__ = ["HeartbeatScheduler"]

log = logging.getLogger("vigil.scheduler")


class HeartbeatScheduler:
    """Every ``heartbeat_check_seconds``: check heartbeats, then refresh down intervals."""

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
        while not self._stop.wait(self.store.settings.heartbeat_check_seconds):
            self.check_once()
            self.refresh_once()

    def refresh_once(self) -> int:
        """Store the down intervals that availability would otherwise recompute per read."""
        from vigil.analytics.downtime import refresh_downtime

        try:
            with self.store.write() as session:
                return refresh_downtime(session=session)
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
