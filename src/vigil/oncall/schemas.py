"""What the API takes and returns for people, schedules, overrides, swaps and policies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from vigil.oncall.hours import describe_windows
from vigil.oncall.models import EscalationPolicy, Person, ScheduleLayer
from vigil.validation import Instant

__all__ = [
    "ContactCreate",
    "ContactRead",
    "LayerCreate",
    "LayerRead",
    "OverrideCreate",
    "OverrideRead",
    "PersonCreate",
    "PersonRead",
    "PersonRef",
    "PersonUpdate",
    "PieceRead",
    "PolicyCreate",
    "PolicyRead",
    "RuleCreate",
    "RuleRead",
    "ScheduleCreate",
    "StepCreate",
    "SwapCreate",
    "SwapRead",
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonRef(_Input):
    """A person's handle."""

    person: str = Field(min_length=1, max_length=50)


class PersonCreate(_Input):
    """A person to add."""

    handle: str = Field(max_length=50)
    name: str = Field(max_length=200)
    time_zone: str = Field(default="UTC", max_length=64)
    working_hours: str = Field(default="mon-fri 09:00-17:00", max_length=500)
    quiet_hours: str | None = Field(default=None, max_length=50)
    test_page_days: int = Field(strict=True, default=0, ge=0, le=365)


class PersonUpdate(_Input):
    """Fields of a person to change."""

    name: str | None = Field(default=None, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    working_hours: str | None = Field(default=None, max_length=500)
    quiet_hours: str | None = Field(default=None, max_length=50)
    test_page_days: int | None = Field(strict=True, default=None, ge=0, le=365)


class ContactCreate(_Input):
    """A contact method: ``address`` is an email, a phone number, an apprise or webhook URL."""

    label: str = Field(max_length=50)
    kind: str = Field(max_length=16, description="email, sms, voice, apprise or webhook")
    address: str = Field(max_length=2000)


class ContactRead(BaseModel):
    """A contact method (never its URL's secrets)."""

    label: str
    kind: str
    verified: bool
    signing_secret: str | None = Field(
        default=None, description="Only in the answer to adding a webhook."
    )


class RuleCreate(_Input):
    """A notification rule."""

    urgency: str = Field(max_length=8, description="high or low")
    contact: str = Field(max_length=50)
    delay_minutes: float = Field(strict=True, default=0, ge=0, le=1440)
    repeat_minutes: float = Field(strict=True, default=0, ge=0, le=1440)


class RuleRead(BaseModel):
    """A notification rule."""

    id: int
    urgency: str
    contact: str
    delay_minutes: float
    repeat_minutes: float


class PersonRead(BaseModel):
    """A person with how to reach them."""

    handle: str
    name: str
    time_zone: str
    working_hours: str
    quiet_hours: str | None
    test_page_days: int
    contacts: list[ContactRead]
    rules: list[RuleRead]

    @classmethod
    def build(cls, session: Session, person: Person) -> PersonRead:
        """Read a person with their contact methods and rules."""
        from vigil.oncall import people

        contacts = people.list_contacts(session=session, handle=person.handle)
        rules = people.list_rules(session=session, handle=person.handle)
        quiet = person.quiet_hours
        return cls(
            handle=person.handle, name=person.name, time_zone=person.time_zone,
            working_hours=describe_windows(person.working_hours),
            quiet_hours=f"{quiet['start']}-{quiet['end']}" if quiet else None,
            test_page_days=person.test_page_days,
            contacts=[ContactRead(label=c.label, kind=c.kind, verified=c.verified_at is not None) for c in contacts],
            rules=[
                RuleRead(id=r.id, urgency=r.urgency, contact=c.label,
                         delay_minutes=r.delay_seconds / 60, repeat_minutes=r.repeat_seconds / 60)
                for r, c in rules
            ],
        )  # fmt: skip


class ScheduleCreate(_Input):
    """A schedule to add."""

    name: str = Field(max_length=100)
    time_zone: str = Field(default="UTC", max_length=64)
    description: str = Field(default="", max_length=2000)


class LayerCreate(_Input):
    """A layer: a rotation, or an imported iCalendar (``ical_url`` or ``ical_text``)."""

    name: str = Field(max_length=100)
    participants: list[str] = Field(default_factory=list, max_length=100)
    shift: str = Field(
        default="weekly", max_length=16, description="hourly, daily, weekly, or 12h/3d/90m"
    )
    handoff: str = Field(default="", max_length=19, description="Wall-clock, e.g. 2026-12-07T09:00")
    restrictions: list[str] = Field(
        default_factory=list, max_length=20, description="e.g. mon-fri 09:00-17:00"
    )
    time_zone: str | None = Field(default=None, max_length=64)
    ical_url: str | None = Field(default=None, max_length=1000)
    ical_text: str | None = Field(default=None, max_length=5_000_000)
    ical_mode: str = Field(
        default="on_call", max_length=8, description="on_call or away (holidays)"
    )


class LayerRead(BaseModel):
    """A layer as stored."""

    name: str
    position: int
    kind: str
    time_zone: str | None
    participants: list[str]
    handoff: str
    shift_minutes: int
    restrictions: str
    ical_url: str | None
    ical_error: str | None

    @classmethod
    def of(cls, row: ScheduleLayer) -> LayerRead:
        """Read a stored layer."""
        return cls(
            name=row.name, position=row.position, kind=row.kind, time_zone=row.time_zone,
            participants=list(row.participants), handoff=row.handoff, shift_minutes=row.length_minutes,
            restrictions=describe_windows(row.restrictions), ical_url=row.ical_url, ical_error=row.ical_error,
        )  # fmt: skip


class OverrideCreate(_Input):
    """An override: ``add`` person, ``remove`` person, or ``replace`` replaces with person."""

    kind: str = Field(max_length=8)
    start: Instant
    end: Instant
    person: str = Field(max_length=50)
    replaces: str | None = Field(default=None, max_length=50)
    note: str = Field(default="", max_length=2000)


class OverrideRead(BaseModel):
    """A stored override."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    start: dt.datetime
    end: dt.datetime
    person: str
    replaces: str | None
    note: str
    created_by: str


class SwapCreate(_Input):
    """A request for cover."""

    requester: str = Field(max_length=50)
    start: Instant
    end: Instant
    note: str = Field(default="", max_length=2000)


class SwapRead(BaseModel):
    """A swap request."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    requester: str
    start: dt.datetime
    end: dt.datetime
    state: str
    accepted_by: str | None
    override_id: int | None
    note: str


class PieceRead(BaseModel):
    """A stretch of the final schedule."""

    start: dt.datetime
    end: dt.datetime
    people: list[str]
    decided_by: list[str]


class StepCreate(_Input):
    """One escalation step."""

    targets: list[str] = Field(
        min_length=1, max_length=20, description="person:H, schedule:N, channel:N"
    )
    delay_minutes: float = Field(strict=True, default=5, ge=0, le=1440)


class PolicyCreate(_Input):
    """An escalation policy."""

    name: str = Field(max_length=100)
    steps: list[StepCreate] = Field(min_length=1, max_length=20)
    repeat: int = Field(strict=True, default=0, ge=0, le=9)
    priority: int = Field(strict=True, default=100, ge=0, le=10_000)
    services: list[str] = Field(default_factory=list, max_length=100)
    categories: list[str] = Field(default_factory=list, max_length=100)
    labels: dict[str, str] = Field(default_factory=dict)
    min_severity: str | None = Field(default=None, max_length=16)


class PolicyRead(BaseModel):
    """A stored policy."""

    name: str
    steps: list[dict[str, Any]]
    repeat: int
    priority: int
    services: list[str]
    categories: list[str]
    labels: dict[str, str]
    min_severity: str | None

    @classmethod
    def of(cls, row: EscalationPolicy) -> PolicyRead:
        """Read a stored policy."""
        return cls(
            name=row.name, steps=list(row.steps), repeat=row.repeat, priority=row.priority,
            services=list(row.services), categories=list(row.categories), labels=dict(row.labels),
            min_severity=row.min_severity,
        )  # fmt: skip
