"""Shapes of ingestion input and output."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from vigil.validation import LONG_TEXT, Instant, Labels

__all__ = [
    "EventIn",
    "EventResult",
    "HeartbeatCreate",
    "HeartbeatRead",
    "IngestResponse",
    "IntegrationCreate",
    "IntegrationCreated",
    "IntegrationRead",
    "MaintenanceCreate",
    "MaintenanceRead",
    "PagerDutyInvalid",
]


class EventIn(BaseModel):
    """A native status event: a device or process reporting active, stuck or stopped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resource: str = Field(
        min_length=1, max_length=200, description="What is observed, e.g. device/capture folder."
    )
    component: str = Field(
        default="", max_length=200, description="Part of it, e.g. ffmpeg or monitor."
    )
    status: str = Field(
        min_length=1,
        max_length=32,
        description="active|ok|… (healthy) or stuck|stopped|… (failing).",
    )
    host: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=200)
    severity: str | None = Field(
        default=None, max_length=16, description="Overrides the status' default severity."
    )
    category: str | None = Field(default=None, max_length=64)
    summary: str = Field(default="", max_length=10_000)
    dedup_key: str | None = Field(
        default=None, max_length=250, description="Default: resource + component."
    )
    labels: Labels = Field(default_factory=dict)
    timestamp: Instant | None = Field(
        default=None, description="When observed; default: when received."
    )


class EventResult(BaseModel):
    """What one event did."""

    outcome: str = Field(
        description="opened, updated, resolved, acknowledged, suppressed, recorded or late."
    )
    incident_id: str | None = None


class IngestResponse(BaseModel):
    """202 body: every event was committed before this was sent."""

    status: str = "accepted"
    events: int
    incidents: list[str]
    results: list[EventResult]


class IntegrationCreate(BaseModel):
    """A new integration."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(
        default="events",
        max_length=32,
        description="events, pagerduty, alertmanager, grafana or heartbeat.",
    )


class IntegrationRead(BaseModel):
    """An integration without its key."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    kind: str
    key_prefix: str
    created_at: dt.datetime
    rotated_at: dt.datetime | None


class IntegrationCreated(IntegrationRead):
    """An integration with its key, shown once."""

    key: str


class HeartbeatCreate(BaseModel):
    """Register a resource that must check in regularly."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    resource: str | None = Field(default=None, max_length=200, description="Default: the name.")
    interval_seconds: int = Field(ge=1, le=86_400 * 7, strict=True)
    grace_seconds: int = Field(default=0, ge=0, le=86_400, strict=True)
    severity: str = Field(default="high", max_length=16)


class HeartbeatRead(BaseModel):
    """A heartbeat and whether it is missing."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    resource: str
    interval_seconds: int
    grace_seconds: int
    severity: str
    last_beat_at: dt.datetime | None
    missing: bool


class MaintenanceCreate(BaseModel):
    """A maintenance window."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    starts_at: Instant
    ends_at: Instant
    resource: str | None = Field(default=None, max_length=200, description="Glob, e.g. 'cam-*'.")
    match_labels: Labels = Field(default_factory=dict)
    reason: str = Field(default="", max_length=LONG_TEXT)


class MaintenanceRead(BaseModel):
    """A stored maintenance window."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    resource: str | None
    match_labels: dict[str, str]
    reason: str
    created_by: str


class PagerDutyInvalid(BaseModel):
    """PagerDuty Events API v2's answer to an invalid event."""

    status: str
    message: str
    errors: list[str]
