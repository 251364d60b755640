"""Incidents: the record, its lifecycle and its timeline.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.incidents.changes import (
        ConcurrentChangeError,
        IncidentChange,
        NewIncident,
        Sightings,
        apply_change,
        apply_changes,
        count_sightings,
        escalation,
        transition,
    )
    from vigil.incidents.ids import next_human_id
    from vigil.incidents.lifecycle import (
        ACTIVE_STATUSES,
        SEVERITIES,
        normalize_category,
        normalize_severity,
        severity_rank,
    )
    from vigil.incidents.models import ACTIVE_SQL, DURATION_COLUMNS, Incident, TimelineEntry
    from vigil.incidents.schemas import IncidentCreate, IncidentFilter, IncidentRead, IncidentUpdate

__all__ = [
    "ACTIVE_SQL",
    "ACTIVE_STATUSES",
    "DURATION_COLUMNS",
    "SEVERITIES",
    "ConcurrentChangeError",
    "Incident",
    "IncidentChange",
    "IncidentCreate",
    "IncidentFilter",
    "IncidentRead",
    "IncidentUpdate",
    "NewIncident",
    "Sightings",
    "TimelineEntry",
    "apply_change",
    "apply_changes",
    "count_sightings",
    "escalation",
    "next_human_id",
    "normalize_category",
    "normalize_severity",
    "severity_rank",
    "transition",
]

_EXPORTS = {
    "ACTIVE_SQL": "models",
    "ACTIVE_STATUSES": "lifecycle",
    "ConcurrentChangeError": "changes",
    "DURATION_COLUMNS": "models",
    "Incident": "models",
    "IncidentChange": "changes",
    "IncidentCreate": "schemas",
    "IncidentFilter": "schemas",
    "IncidentRead": "schemas",
    "IncidentUpdate": "schemas",
    "NewIncident": "changes",
    "SEVERITIES": "lifecycle",
    "Sightings": "changes",
    "TimelineEntry": "models",
    "apply_change": "changes",
    "apply_changes": "changes",
    "count_sightings": "changes",
    "escalation": "changes",
    "next_human_id": "ids",
    "normalize_category": "lifecycle",
    "normalize_severity": "lifecycle",
    "severity_rank": "lifecycle",
    "transition": "changes",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
