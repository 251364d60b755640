"""Postmortems, their timeline entries and action items."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db import Base, UTCDateTime, utcnow

__all__ = ["ActionItem", "Postmortem", "PostmortemTimelineEntry"]


class Postmortem(Base):
    """The review of one incident (the full report, or the quick report)."""

    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="full")
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    summary: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(200), default="")
    affected_systems: Mapped[list[str]] = mapped_column(JSON, default=list)
    problem_statement: Mapped[str] = mapped_column(Text, default="")
    facilitator: Mapped[str | None] = mapped_column(String(200))
    whys: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: The report's Root Cause paragraph (a summary people write).
    root_cause: Mapped[str] = mapped_column(Text, default="")
    #: Where the five whys ended ("ROOT CAUSE:" under the whys); kept apart from the summary.
    whys_root_cause: Mapped[str] = mapped_column(Text, default="", server_default="")
    root_cause_category: Mapped[str | None] = mapped_column(String(100))
    sections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    review_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostmortemTimelineEntry(Base):
    """A reconstructed event: from the incident, entered by hand, or imported (git, logs)."""

    __tablename__ = "postmortem_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(Text)
    component: Mapped[str] = mapped_column(String(200), default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="manual")

    __table_args__ = (
        UniqueConstraint("postmortem_id", "at", "event", "evidence"),
        Index("ix_postmortem_timeline_pm_at", "postmortem_id", "at"),
    )


class ActionItem(Base):
    """A follow-up from an incident; ``AI-001`` numbering restarts per incident."""

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    team: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    github_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("incident_id", "number"),)
