"""Pydantic shapes for incident input and output."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vigil.validation import LONG_TEXT, Instant, Labels, PatchModel, Records, Tags

__all__ = [
    "IncidentCreate",
    "IncidentFilter",
    "IncidentPage",
    "IncidentRead",
    "IncidentUpdate",
    "NoteCreate",
    "TimelineEntryRead",
    "TransitionRequest",
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


_TEXT = 200


class IncidentCreate(_Input):
    """Fields accepted when an incident is declared or logged."""

    title: str | None = Field(default=None, max_length=300, description="Short headline.")
    description: str = Field(default="", max_length=100_000)
    category: str = Field(
        default="OTHER", max_length=64, description="One of the configured categories."
    )
    severity: str | None = Field(
        default=None, max_length=16, description="critical, high, medium or low."
    )
    project_id: str | None = Field(default=None, max_length=_TEXT)
    order_id: str | None = Field(default=None, max_length=_TEXT)
    task_id: str | None = Field(default=None, max_length=_TEXT)
    service: str | None = Field(default=None, max_length=_TEXT)
    resource: str | None = Field(default=None, max_length=_TEXT)
    component: str | None = Field(default=None, max_length=_TEXT)
    host: str | None = Field(default=None, max_length=_TEXT)
    root_cause: str | None = Field(default=None, max_length=LONG_TEXT)
    resolution: str | None = Field(default=None, max_length=LONG_TEXT)
    affected_records: Records = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)
    tags: Tags = Field(default_factory=list)
    detected_at: Instant | None = Field(
        default=None, description="When it started; naive times are UTC. Default: now."
    )
    reported_by: str | None = Field(default=None, max_length=_TEXT)
    dedup_key: str | None = Field(default=None, max_length=300)


class IncidentUpdate(_Input, PatchModel):
    """Fields that can be edited; status changes go through transitions."""

    clearable = frozenset(
        {"project_id", "order_id", "task_id", "service", "resource", "component", "host"}
        | {"root_cause", "resolution"}
    )

    title: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=100_000)
    category: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, max_length=16)
    project_id: str | None = Field(default=None, max_length=_TEXT)
    order_id: str | None = Field(default=None, max_length=_TEXT)
    task_id: str | None = Field(default=None, max_length=_TEXT)
    service: str | None = Field(default=None, max_length=_TEXT)
    resource: str | None = Field(default=None, max_length=_TEXT)
    component: str | None = Field(default=None, max_length=_TEXT)
    host: str | None = Field(default=None, max_length=_TEXT)
    root_cause: str | None = Field(default=None, max_length=LONG_TEXT)
    resolution: str | None = Field(default=None, max_length=LONG_TEXT)
    affected_records: Records | None = None
    labels: Labels | None = None
    tags: Tags | None = None


class TransitionRequest(_Input):
    """Optional details of a status change."""

    note: str | None = Field(default=None, max_length=100_000)
    resolution: str | None = Field(
        default=None, max_length=LONG_TEXT, description="Only for resolve."
    )
    root_cause: str | None = Field(
        default=None, max_length=LONG_TEXT, description="Only for resolve."
    )
    at: Instant | None = Field(
        default=None,
        description="When it happened, for a move made outside Vigil (not in the future, in "
        "lifecycle order); the timeline marks it as backfilled. Default: now.",
    )


class NoteCreate(_Input):
    """A free-text note on the timeline."""

    text: str = Field(min_length=1, max_length=100_000)


class IncidentFilter(_Input):
    """Filters for listing incidents; every field narrows the result."""

    status: list[str] | None = None
    severity: list[str] | None = None
    category: list[str] | None = None
    project_id: str | None = None
    order_id: str | None = None
    task_id: str | None = None
    service: str | None = None
    resource: str | None = None
    assignee: str | None = Field(default=None, description="Handle of the person assigned.")
    since: Instant | None = None
    until: Instant | None = None
    q: str | None = Field(
        default=None,
        description="An incident ID, or words that must all appear in its title, text, notes "
        "or postmortem (the last word also as a prefix).",
    )


class IncidentRead(BaseModel):
    """An incident as every interface shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Human ID, e.g. INC_001.")
    uuid: uuid.UUID
    title: str
    description: str
    category: str
    severity: str
    status: str
    project_id: str | None
    order_id: str | None
    task_id: str | None
    service: str | None
    resource: str | None
    component: str | None
    host: str | None
    root_cause: str | None
    resolution: str | None
    affected_records: list[str]
    labels: dict[str, str]
    tags: list[str]
    source: str
    reported_by: str | None
    assignee: str | None = None
    dedup_key: str | None
    occurrence_count: int
    detected_at: dt.datetime
    last_seen_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    recurrence: dict[str, Any] | None = Field(
        default=None, description="Only on single-incident reads: e.g. '3rd time in 90 days'."
    )
    detection_to_ack_seconds: float | None = None
    ack_to_resolution_seconds: float | None = None
    total_duration_seconds: float | None = None

    @classmethod
    def from_incident(cls, incident: Any) -> IncidentRead:
        """Build from an ORM incident, deriving the lifecycle durations."""
        data = {
            name: getattr(incident, name) for name in cls.model_fields if hasattr(incident, name)
        }
        data["id"] = incident.human_id
        det, ack, res = incident.detected_at, incident.acknowledged_at, incident.resolved_at
        data["detection_to_ack_seconds"] = (ack - det).total_seconds() if ack else None
        data["ack_to_resolution_seconds"] = (res - ack).total_seconds() if ack and res else None
        data["total_duration_seconds"] = (res - det).total_seconds() if res else None
        return cls.model_validate(data)


class TimelineEntryRead(BaseModel):
    """One audit-trail entry."""

    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    actor: str
    kind: str
    message: str
    changes: dict[str, Any]


class IncidentPage(BaseModel):
    """One page of a listing and the cursor of the next one."""

    items: list[IncidentRead]
    next_cursor: str | None = None
