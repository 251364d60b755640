"""What an incident change is, and how each kind is built (checked against the lifecycle).

The values here are applied by the one writer, :mod:`vigil.incidents.changes`; building one
writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from vigil.db import utcnow
from vigil.incidents.lifecycle import check_transition
from vigil.incidents.models import Incident
from vigil.validation import rfc3339

__all__ = [
    "Change",
    "IncidentChange",
    "IncidentView",
    "NewIncident",
    "Sightings",
    "edit",
    "escalation",
    "note",
    "recorded",
    "transition",
]


class IncidentView(Protocol):
    """What a change is decided on: an ORM incident or ingestion's view of an active one."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def acknowledged_at(self) -> dt.datetime | None: ...
    @property
    def resolved_at(self) -> dt.datetime | None: ...
    @property
    def closed_at(self) -> dt.datetime | None: ...
    @property
    def resolution(self) -> str | None: ...
    @property
    def root_cause(self) -> str | None: ...


@dataclass(slots=True)
class IncidentChange:
    """A change to one incident and the timeline entry that records it.

    ``fields`` maps each changed column to (old, new); ``fill`` sets columns only where they
    are still NULL (an auto-resolution's default resolution text), and is not recorded.
    """

    incident_id: int
    actor: str
    kind: str  # the entry's kind: status_changed, updated, note
    message: str
    at: dt.datetime
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    fill: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Changes of one shape share one compiled UPDATE."""
        return tuple(self.fields), tuple(self.fill)


@dataclass(slots=True)
class NewIncident:
    """An incident to record, its fields already checked and normalized by a service."""

    human_id: str
    title: str
    category: str
    severity: str
    detected_at: dt.datetime
    actor: str
    source: str
    status: str = "open"
    description: str = ""
    project_id: str | None = None
    order_id: str | None = None
    task_id: str | None = None
    service: str | None = None
    resource: str | None = None
    component: str | None = None
    host: str | None = None
    root_cause: str | None = None
    resolution: str | None = None
    affected_records: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    external_id: str | None = None
    dedup_key: str | None = None
    reported_by: str | None = None


@dataclass(slots=True)
class Sightings:
    """Repeats of an active incident not yet counted, and the latest of them."""

    count: int
    last_seen: dt.datetime

    def add(self, count: int, at: dt.datetime) -> None:
        """Count ``count`` more sightings, the latest at ``at``."""
        self.count += count
        if at > self.last_seen:
            self.last_seen = at


Change = IncidentChange | NewIncident


def _jsonable(value: Any) -> Any:
    return rfc3339(value) if isinstance(value, dt.datetime) else value


def recorded(fields: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {k: {"from": _jsonable(a), "to": _jsonable(b)} for k, (a, b) in fields.items()}


def transition(
    incident: IncidentView,
    target: str,
    *,
    actor: str,
    at: dt.datetime | None = None,
    note: str | None = None,
    resolution: str | None = None,
    root_cause: str | None = None,
    default_resolution: str | None = None,
) -> IncidentChange:
    """Build the move of ``incident`` to ``target`` (a canonical status), checked now and again
    when applied; ``default_resolution`` fills the resolution only if none was written."""
    current = incident.status
    check_transition(current, target)
    now = at or utcnow()
    fields: dict[str, tuple[Any, Any]] = {"status": (current, target)}

    def put(name: str, value: Any) -> None:
        old = getattr(incident, name)
        if old != value:
            fields[name] = (old, value)

    if target in ("acknowledged", "investigating") and incident.acknowledged_at is None:
        put("acknowledged_at", now)
    elif target == "resolved":
        put("resolved_at", now)
        if resolution:
            put("resolution", resolution)
        if root_cause:
            put("root_cause", root_cause)
    elif target == "closed":
        put("closed_at", now)
    elif target == "open":
        put("resolved_at", None)
        put("closed_at", None)
    verb = "Reopened" if target == "open" else f"Status {current} → {target}"
    fill = {"resolution": default_resolution} if default_resolution else {}
    return IncidentChange(
        incident.id, actor, "status_changed", f"{verb}: {note}" if note else verb, now, fields, fill
    )


def edit(incident: Incident, values: Mapping[str, Any], *, actor: str) -> IncidentChange | None:
    """Build an edit of the ``values`` that differ from ``incident``'s (None if none do)."""
    fields = {
        name: (getattr(incident, name), value)
        for name, value in sorted(values.items())
        if getattr(incident, name) != value
    }
    if not fields:
        return None
    return IncidentChange(
        incident.id, actor, "updated", "Updated " + ", ".join(fields), utcnow(), fields
    )


def note(incident_id: int, text: str, *, actor: str) -> IncidentChange:
    """Build a free-text note on the timeline (the incident's fields stay as they are)."""
    return IncidentChange(incident_id, actor, "note", text, utcnow())


def escalation(
    incident: IncidentView, severity: str, *, actor: str, at: dt.datetime, reason: str
) -> IncidentChange:
    """Build a raise of an incident's severity because of ``reason``."""
    old = incident.severity
    return IncidentChange(
        incident.id,
        actor,
        "updated",
        f"Severity {old} → {severity}: {reason}",
        at,
        {"severity": (old, severity)},
    )
