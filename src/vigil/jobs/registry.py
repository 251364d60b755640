"""The registry of periodic jobs: each domain adds its own in its ``scheduled.py``.

A job is a function of the :class:`~vigil.db.store.Store` that owns its transactions and
returns a one-line summary; ``every`` reads its period from the settings. Registering is a
decorator::

    @scheduled("heartbeats.check", every=lambda s: s.heartbeat_check_seconds)
    def check(store: Store) -> str: ...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept light: `vigil --help` imports this package
    from vigil.config import Settings
    from vigil.db import Store

__all__ = ["DOMAINS", "Job", "all_jobs", "scheduled"]

#: Modules whose import registers their jobs.
DOMAINS = (
    "vigil.ingest.scheduled",
    "vigil.analytics.scheduled",
    "vigil.notify.scheduled",
    "vigil.oncall.scheduled",
)


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job."""

    name: str
    every: Callable[[Settings], float]
    run: Callable[[Store], str]
    description: str
    #: Also run at once (without the lease) when a commit in this process changed
    #: incidents; only for jobs whose own claims make concurrent runs safe.
    wake_on_commit: bool = False


_JOBS: dict[str, Job] = {}


def scheduled(
    name: str, *, every: Callable[[Settings], float], wake_on_commit: bool = False
) -> Callable[[Callable[[Store], str]], Callable[[Store], str]]:
    """Register the decorated function as the job ``name``, due every ``every(settings)`` s."""

    def register(fn: Callable[[Store], str]) -> Callable[[Store], str]:
        if name in _JOBS and _JOBS[name].run is not fn:
            raise ValueError(f"two jobs are named {name!r}")
        doc = (fn.__doc__ or "").strip().splitlines()
        _JOBS[name] = Job(name, every, fn, doc[0] if doc else "", wake_on_commit)
        return fn

    return register


def all_jobs() -> list[Job]:
    """Every registered job, by name (importing each domain's ``scheduled`` module)."""
    for module in DOMAINS:
        importlib.import_module(module)
    return [_JOBS[n] for n in sorted(_JOBS)]
