"""Request and response shapes of channels, routes and the delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.notify.rules import DEFAULT_EVENTS
from vigil.validation import Labels, ShortText

__all__ = [
    "ChannelCreate",
    "ChannelCreated",
    "ChannelRead",
    "ChannelTestResult",
    "DeliveryStep",
    "NotificationRead",
    "RouteCreate",
    "RouteRead",
]


class ChannelCreate(BaseModel):
    """A new channel. ``url`` is an apprise URL, or for ``kind=webhook`` an http(s) URL."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: str = Field(min_length=3, max_length=2000)
    kind: Literal["apprise", "webhook", "slack-bot", "mattermost-bot", "telegram-bot"] = Field(
        default="apprise",
        description="apprise (the default; slack-bot://, mattermost-bot:// and "
        "telegram-bot:// URLs are recognised), webhook, or one of those bots.",
    )
    default_route: bool = Field(
        default=False,
        description="Also route opened, severity raised, resolved and reopened of high and "
        "critical incidents here.",
    )
    rate_per_minute: int | None = Field(default=None, ge=0, le=100_000)
    bundle_after: int | None = Field(default=None, ge=0, le=100_000)


class ChannelRead(BaseModel):
    """A channel as shown: its URL with secrets masked, never the secrets."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    kind: str
    scheme: str
    display: str
    rate_per_minute: int
    bundle_after: int
    created_at: dt.datetime


class ChannelCreated(ChannelRead):
    """The new channel; a webhook's signing secret is in this response only."""

    signing_secret: str | None = None


class ChannelTestResult(BaseModel):
    """What the destination answered to a test message."""

    delivered: bool
    answer: str


class RouteCreate(BaseModel):
    """Which changes go to the channel; every filter given must hold."""

    model_config = ConfigDict(extra="forbid")

    events: list[ShortText] = Field(default_factory=lambda: list(DEFAULT_EVENTS), max_length=20)
    min_severity: ShortText | None = "high"
    services: list[ShortText] = Field(default_factory=list, max_length=50)
    categories: list[ShortText] = Field(default_factory=list, max_length=50)
    resources: list[ShortText] = Field(default_factory=list, max_length=50)
    sources: list[ShortText] = Field(default_factory=list, max_length=50)
    labels: Labels = Field(default_factory=dict)


class RouteRead(BaseModel):
    """A routing rule."""

    id: int
    channel: str
    events: list[str]
    min_severity: str | None
    services: list[str]
    categories: list[str]
    resources: list[str]
    sources: list[str]
    labels: dict[str, str]


class DeliveryStep(BaseModel):
    """One state a notification went through."""

    at: dt.datetime
    state: str
    answer: str


class NotificationRead(BaseModel):
    """One notification and how its delivery went."""

    id: int
    key: str
    channel: str
    incident: str | None
    event: str
    state: str
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    answer: str
    history: list[DeliveryStep] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)
