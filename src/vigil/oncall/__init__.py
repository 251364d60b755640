"""On-call: people and contact methods, schedules (layers, overrides, swaps), escalation
policies that page people through the notification outbox, assignment and incident roles.

Other packages import these names from here; each loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.oncall.checks import check_coverage, paging_for_learning, paging_stats
    from vigil.oncall.models import IncidentRole, Person
    from vigil.oncall.schedules import who_is_on_call

__all__ = [
    "PAGING_FOR_LEARNING",
    "IncidentRole",
    "Person",
    "check_coverage",
    "paging_for_learning",
    "paging_stats",
    "who_is_on_call",
]

_EXPORTS = {
    "IncidentRole": "models",
    "Person": "models",
    "check_coverage": "checks",
    "paging_for_learning": "checks",
    "paging_stats": "checks",
    "who_is_on_call": "schedules",
}

#: The learning report's paging part, by name (the report loads it when it is made).
PAGING_FOR_LEARNING = "vigil.oncall.checks:paging_for_learning"

__getattr__ = lazy_exports(__name__, _EXPORTS)
