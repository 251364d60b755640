"""Ingestion: events, resource state history, heartbeats, receivers, maintenance windows.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.ingest.maintenance import active_windows, covering_window
    from vigil.ingest.models import Event, MaintenanceWindow, ResourceStateChange

__all__ = [
    "Event",
    "MaintenanceWindow",
    "ResourceStateChange",
    "active_windows",
    "covering_window",
]

_EXPORTS = {
    "Event": "models",
    "MaintenanceWindow": "models",
    "ResourceStateChange": "models",
    "active_windows": "maintenance",
    "covering_window": "maintenance",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
