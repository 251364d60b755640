"""Vigil: incident management from detection to lessons learned.

The library façade. Names load lazily so the ``vigil`` command starts fast::

    from vigil import IncidentLogger, log_incident
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "IncidentLogHandler",
    "IncidentLogger",
    "Settings",
    "Store",
    "errors",
    "log_incident",
    "open_store",
    "record_incident_on_error",
]

_LAZY = {
    "IncidentLogger": "vigil.library",
    "IncidentLogHandler": "vigil.error_capture",
    "log_incident": "vigil.library",
    "record_incident_on_error": "vigil.error_capture",
    "Settings": "vigil.config",
    "Store": "vigil.db.store",
}

if TYPE_CHECKING:
    from vigil import errors
    from vigil.config import Settings
    from vigil.db import Store
    from vigil.error_capture import IncidentLogHandler, record_incident_on_error
    from vigil.library import IncidentLogger, log_incident


def open_store(database_url: str | None = None, settings: Any = None) -> Any:
    """Open a :class:`~vigil.db.store.Store` (default database from ``VIGIL_*`` settings)."""
    from vigil.config import Settings
    from vigil.db import Store

    return Store(settings or Settings(), database_url)


def __getattr__(name: str) -> Any:
    if name == "errors":
        return import_module("vigil.errors")
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vigil' has no attribute {name!r}")
