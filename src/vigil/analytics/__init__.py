"""Analytics: summaries, recurrence and trends, computed in SQL.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.analytics.reports import csv_safe, parse_window
    from vigil.analytics.service import fingerprint_recurrence, incidents_summary, recurrence_rate

__all__ = [
    "csv_safe",
    "fingerprint_recurrence",
    "incidents_summary",
    "parse_window",
    "recurrence_rate",
]

_EXPORTS = {
    "csv_safe": "reports",
    "fingerprint_recurrence": "service",
    "incidents_summary": "service",
    "parse_window": "reports",
    "recurrence_rate": "service",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
