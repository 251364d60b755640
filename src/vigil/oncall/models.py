"""People and their contact methods, schedules with layers and overrides, shift swaps,
escalation policies, and the escalation state and roles of incidents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db import Base, UTCDateTime, utcnow

__all__ = [
    "ContactMethod",
    "EscalationPolicy",
    "IncidentEscalation",
    "IncidentRole",
    "NotificationRule",
    "Override",
    "Person",
    "Schedule",
    "ScheduleLayer",
    "SwapRequest",
]


class Person(Base):
    """Somebody who can be paged. Hours are wall-clock in the person's own time zone."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handle: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: [{"days": [0..6], "start": "09:00", "end": "17:00"}]: when low urgency may page.
    working_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: {"start": "22:00", "end": "07:00"} or None: no low-urgency pages then.
    quiet_hours: Mapped[dict[str, str] | None] = mapped_column(JSON)
    #: Send a test page every this many days (0: never).
    test_page_days: Mapped[int] = mapped_column(Integer, default=0)
    last_test_page_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactMethod(Base):
    """A way to reach a person: a channel of its own, used for pages once verified."""

    __tablename__ = "contact_methods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(16))  # email, apprise, webhook, sms, voice
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("person_id", "label"),)


class NotificationRule(Base):
    """For ``urgency`` pages: use ``contact`` after ``delay_seconds``, again every
    ``repeat_seconds`` (0: once) until the incident is acknowledged."""

    __tablename__ = "notification_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact_methods.id", ondelete="CASCADE"))
    urgency: Mapped[str] = mapped_column(String(8))  # high, low
    delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    repeat_seconds: Mapped[int] = mapped_column(Integer, default=0)


class Schedule(Base):
    """Who is on call, from layers (higher wins) and overrides."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduleLayer(Base):
    """A rotation (participants in turn, wall-clock shifts, optional restrictions) or an
    imported iCalendar; ``position`` orders layers, higher wins."""

    __tablename__ = "schedule_layers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="rotation")  # rotation, ical
    time_zone: Mapped[str | None] = mapped_column(String(64))
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)  # handles, in turn
    handoff: Mapped[str] = mapped_column(String(19), default="")  # wall-clock ISO, no zone
    length_minutes: Mapped[int] = mapped_column(Integer, default=10080)
    #: [{"days": [0..6], "start": "09:00", "end": "17:00"}]
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ical_url: Mapped[str | None] = mapped_column(String(1000))
    ical_text: Mapped[str | None] = mapped_column(Text)
    ical_fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ical_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("schedule_id", "name"),)


class Override(Base):
    """For [start, end): ``add`` person, ``remove`` person, or ``replace`` replaces → person."""

    __tablename__ = "schedule_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    person: Mapped[str] = mapped_column(String(50))
    replaces: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SwapRequest(Base):
    """A person asks for cover; whoever accepts gets a replace override (undoable)."""

    __tablename__ = "swap_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    requester: Mapped[str] = mapped_column(String(50))
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="open")  # open accepted undone
    accepted_by: Mapped[str | None] = mapped_column(String(50))
    override_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EscalationPolicy(Base):
    """Ordered steps (a delay and targets each), repeated; which incidents it takes."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: [{"delay_minutes": 5, "targets": [{"person": h} | {"schedule": n} | {"channel": n}]}]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower is tried first
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    min_severity: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncidentEscalation(Base):
    """An incident's climb of the policy frozen when it opened. ``step`` is the next step
    to fire at ``next_at``; ``state``: climbing, repeating (the last step fired; its pages
    repeat at ``next_at`` until acknowledged), acknowledged, resolved, done."""

    __tablename__ = "incident_escalations"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    policy: Mapped[str] = mapped_column(String(100))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    repeat: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[str] = mapped_column(String(8))
    step: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12), default="climbing")
    next_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Handles paged by the last step fired (the assignee if the answer names nobody).
    paged: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: When the last step fired (its pages' repeats count from there, state ``repeating``).
    fired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_incident_escalations_due", "state", "next_at"),)


class IncidentRole(Base):
    """Who holds a role (commander, communications, scribe) on an incident."""

    __tablename__ = "incident_roles"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    person: Mapped[str] = mapped_column(String(50))
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
