"""Periodic jobs: one registry, leases so each due job runs once per period.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.jobs.registry import Job, all_jobs, scheduled
    from vigil.jobs.runner import runners_for
    from vigil.jobs.service import list_jobs

__all__ = [
    "Job",
    "all_jobs",
    "list_jobs",
    "runners_for",
    "scheduled",
]

_EXPORTS = {
    "Job": "registry",
    "all_jobs": "registry",
    "list_jobs": "service",
    "runners_for": "runner",
    "scheduled": "registry",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
