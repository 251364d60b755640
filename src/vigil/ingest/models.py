"""Tables of the ingestion domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db import Base, UTCDateTime, utcnow

__all__ = [
    "Event",
    "Heartbeat",
    "IngestPending",
    "MaintenanceWindow",
    "ResourceState",
    "ResourceStateChange",
]


class Event(Base):
    """Every accepted event, as received (the ingestion log)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(100))
    resource: Mapped[str] = mapped_column(String(200))
    component: Mapped[str] = mapped_column(String(200), default="")
    host: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    dedup_key: Mapped[str] = mapped_column(String(300))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    outcome: Mapped[str] = mapped_column(String(16))

    # Only the arrival order is indexed: an index by key would put every batch's rows on
    # pages all over the tree, and ingestion writes tens of thousands of rows a second.
    __table_args__ = (Index("ix_events_received_at", "received_at"),)


class ResourceState(Base):
    """The current status of one (resource, component)."""

    __tablename__ = "resource_states"

    state_key: Mapped[str] = mapped_column(String(401), primary_key=True)
    resource: Mapped[str] = mapped_column(String(200), index=True)
    component: Mapped[str] = mapped_column(String(200), default="")
    host: Mapped[str | None] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    health: Mapped[str] = mapped_column(String(16))
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class ResourceStateChange(Base):
    """One change of a resource's status; repeats of the same status add no row."""

    __tablename__ = "resource_state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state_key: Mapped[str] = mapped_column(String(401))
    resource: Mapped[str] = mapped_column(String(200))
    component: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32))
    health: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str | None] = mapped_column(String(32))
    #: PostgreSQL: the writing transaction's id, which orders followers (see vigil.feed).
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())

    # A resource's history from a time on (availability refresh) and its first change; the
    # refresh follows new rows in feed order. Nothing else: every ingest batch adds rows.
    __table_args__ = (
        Index("ix_resource_state_changes_resource_at", "resource", "at"),
        Index(
            "ix_resource_state_changes_txid",
            "txid",
            "id",
            sqlite_where=text("txid IS NOT NULL"),
            postgresql_where=text("txid IS NOT NULL"),
        ),
    )


class Heartbeat(Base):
    """A resource expected to check in every ``interval_seconds``."""

    __tablename__ = "heartbeats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    resource: Mapped[str] = mapped_column(String(200))
    component: Mapped[str] = mapped_column(String(200), default="heartbeat")
    severity: Mapped[str] = mapped_column(String(16), default="high")
    interval_seconds: Mapped[int] = mapped_column(Integer)
    grace_seconds: Mapped[int] = mapped_column(Integer, default=0)
    last_beat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaintenanceWindow(Base):
    """A time range in which matching failures are recorded but open no incident."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    resource: Mapped[str | None] = mapped_column(String(200))
    match_labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestPending(Base):
    """Event-log ranges whose repeat counters a writer holds in memory, not yet written.

    See :mod:`vigil.ingest.cache`: the rows of one ``period`` are deleted when its counters
    are written; rows left by a stopped writer are folded from the event log on start-up.
    """

    __tablename__ = "ingest_pending"
    # Ids are never reused (a writer tells its surviving rows by id after others folded some).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(32), index=True)
    first_event_id: Mapped[int] = mapped_column(Integer)
    last_event_id: Mapped[int] = mapped_column(Integer)
