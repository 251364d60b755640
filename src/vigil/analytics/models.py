"""Derived tables that keep availability reads proportional to resources, not to history.

``resource_downtime`` holds, per resource, its maximal down intervals (the union of its
components' failing intervals and its incidents' impact intervals) in epoch seconds; an
interval still going on has no end. ``resource_observations`` holds when each resource was
first observed. Both are derived from ``resource_state_changes`` and ``incidents`` by
:func:`vigil.analytics.downtime.refresh_downtime`, which follows the two append-only logs
(state changes and the incident timeline) as the change-feed follower ``availability``.
They can be dropped and rebuilt at any time: nothing else is stored in them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db import Base, UTCDateTime

__all__ = ["ResourceDowntime", "ResourceObservation"]


class ResourceDowntime(Base):
    """One maximal down interval of a resource; intervals of a resource never overlap."""

    __tablename__ = "resource_downtime"
    __table_args__ = {"sqlite_with_rowid": False}

    resource: Mapped[str] = mapped_column(String(200), primary_key=True)
    start_s: Mapped[float] = mapped_column(Float, primary_key=True)
    end_s: Mapped[float | None] = mapped_column(Float)


class ResourceObservation(Base):
    """When a resource was first observed (first status change or first incident)."""

    __tablename__ = "resource_observations"

    resource: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_seen_s: Mapped[float] = mapped_column(Float)


class RetentionCut(Base):
    """How far back a log has been pruned: nothing before ``pruned_before`` is kept."""

    __tablename__ = "retention_cuts"

    log: Mapped[str] = mapped_column(String(64), primary_key=True)
    pruned_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
