"""Incident, its timeline (the audit trail) and the human-ID counters."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base, UTCDateTime, utcnow

__all__ = ["ACTIVE_SQL", "IdSequence", "Incident", "TimelineEntry"]

ACTIVE_SQL = "status IN ('open', 'acknowledged', 'investigating')"


class Incident(Base):
    """One incident, covering the fields of every seed document."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    human_id: Mapped[str] = mapped_column(String(64), unique=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    project_id: Mapped[str | None] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(String(200), index=True)
    task_id: Mapped[str | None] = mapped_column(String(200), index=True)
    service: Mapped[str | None] = mapped_column(String(200))
    resource: Mapped[str | None] = mapped_column(String(200))
    component: Mapped[str | None] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(200))
    root_cause: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    affected_records: Mapped[list[str]] = mapped_column(JSON, default=list)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(32), default="api")
    external_id: Mapped[str | None] = mapped_column(String(200))
    dedup_key: Mapped[str | None] = mapped_column(String(300), index=True)
    occurrence_count: Mapped[int] = mapped_column(Integer, default=1)
    reported_by: Mapped[str | None] = mapped_column(String(200))
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_incidents_detected_at", "detected_at"),
        Index("ix_incidents_status_detected_at", "status", "detected_at"),
        # Summaries group by (category, severity): walking these in order avoids a sort.
        Index("ix_incidents_cat_sev_detected", "category", "severity", "detected_at"),
        Index(
            "ix_incidents_project_cat_sev_detected",
            "project_id",
            "category",
            "severity",
            "detected_at",
        ),
        Index("ix_incidents_category_detected_at", "category", "detected_at"),
        Index("ix_incidents_severity_detected_at", "severity", "detected_at"),
        Index("ix_incidents_resource_component", "resource", "component"),
        # Availability: the first incident of each resource, read from the index alone.
        Index("ix_incidents_resource_detected_at", "resource", "detected_at"),
        # Seed 002's unique_open_incident: at most one active incident per dedup key, held
        # by the database so it survives concurrent writers and several server processes.
        Index(
            "uq_incidents_open_dedup_key",
            "dedup_key",
            unique=True,
            sqlite_where=text(ACTIVE_SQL),
            postgresql_where=text(ACTIVE_SQL),
        ),
    )


class TimelineEntry(Base):
    """One immutable entry of an incident's audit trail."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IdSequence(Base):
    """A counter per rendered ID prefix, so human IDs are never reused."""

    __tablename__ = "id_sequences"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
