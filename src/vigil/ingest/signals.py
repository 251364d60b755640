"""The one internal shape every ingestion source is turned into."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from vigil.config import Settings
from vigil.validation import require_one_of

__all__ = [
    "DEDUP_KEY_LENGTH",
    "Outcome",
    "Signal",
    "classify_status",
    "namespaced_key",
    "state_key",
]

Action = Literal["auto", "trigger", "acknowledge", "resolve"]


def state_key(resource: str, component: str) -> str:
    """Return the key of a (resource, component) pair."""
    return f"{resource}\x1f{component}"


#: The longest dedup key stored (incidents.dedup_key and events.dedup_key columns).
DEDUP_KEY_LENGTH = 300


def namespaced_key(source: str, sender: str, key: str) -> str:
    """Return ``source:sender:key``: an integration only ever matches incidents it opened.

    A key that would not fit the column keeps its start and ends in a hash of the whole, so
    it stays unique and the same for every event that carries it.
    """
    full = f"{source}:{sender}:{key}"
    if len(full) <= DEDUP_KEY_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:32]
    return f"{full[: DEDUP_KEY_LENGTH - 33]}#{digest}"


@dataclass(slots=True)
class Signal:
    """One observation: a resource/component is healthy or failing (or an explicit action)."""

    resource: str
    component: str
    status: str
    health: Literal["ok", "failing"]
    occurred_at: dt.datetime
    source: str
    sender: str
    dedup_key: str
    severity: str | None = None
    summary: str = ""
    host: str | None = None
    service: str | None = None
    category: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    action: Action = "auto"

    @property
    def state_key(self) -> str:
        """Return the key of this signal's (resource, component)."""
        return state_key(self.resource, self.component)


@dataclass(slots=True)
class Outcome:
    """What one signal did."""

    outcome: str
    incident_id: str | None = None
    pk: int | None = field(default=None, repr=False)


def classify_status(
    settings: Settings, status: str, *, field: str = "status"
) -> tuple[str, str, str | None]:
    """Return (status, health, default severity) for an event status, or raise naming the allowed ones."""
    allowed = sorted(settings.healthy_statuses) + sorted(settings.status_severity)
    canonical = require_one_of(status.strip().lower(), allowed, field=field, given=status)
    if canonical in settings.healthy_statuses:
        return canonical, "ok", None
    return canonical, "failing", settings.status_severity[canonical]
