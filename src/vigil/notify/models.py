"""Channels, routing rules, the notification outbox and its delivery history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db import Base, UTCDateTime, utcnow

__all__ = [
    "Channel",
    "DeliveryAttempt",
    "Notification",
    "NotificationThread",
    "Route",
    "UsedActionLink",
]


class Channel(Base):
    """A named destination: an apprise URL or a signed JSON webhook.

    The URL (which often holds a token) and the webhook's signing secret are stored
    encrypted; ``display`` is the URL with its secrets masked, the only form ever shown.
    """

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # apprise, webhook
    scheme: Mapped[str] = mapped_column(String(32))  # mailto, slack, json, https, ...
    display: Mapped[str] = mapped_column(String(1000))
    url_encrypted: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=0)  # 0: no limit
    bundle_after: Mapped[int] = mapped_column(Integer, default=0)  # 0: never bundle
    #: A person's contact method (pages only: not listed with channels, no routes).
    personal: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: The earliest time the next message may go out (the rate limit, shared by processes).
    next_send_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Route(Base):
    """Which incident changes go to a channel: events plus optional filters (all must hold)."""

    __tablename__ = "notification_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_severity: Mapped[str | None] = mapped_column(String(16))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    resources: Mapped[list[str]] = mapped_column(JSON, default=list)  # shell-style patterns
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """One message owed to one channel: written with the change it reports, then delivered.

    ``key`` is the idempotency key a receiver sees (stable across retries). States:
    pending → sending → sent, or back to pending with a later ``next_attempt_at`` after a
    failure, until ``failed``; ``bundled`` when it went out inside the digest ``bundle_id``.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    channel_name: Mapped[str] = mapped_column(String(100))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: ``host:pid`` of the process sending it (a dead local sender's claims are taken back).
    owner: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bundle_id: Mapped[int | None] = mapped_column(Integer)
    is_digest: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_notifications_due", "state", "next_attempt_at"),
        Index("ix_notifications_channel_incident", "channel_id", "incident_id", "id"),
    )


class DeliveryAttempt(Base):
    """One step of a notification's history: claimed, sent, failed, with the answer."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text, default="")


class UsedActionLink(Base):
    """An action link that has been followed: a second use is refused."""

    __tablename__ = "used_action_links"

    link_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationThread(Base):
    """The chat thread an incident's messages on a channel reply in (Slack ``ts``, ...)."""

    __tablename__ = "notification_threads"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
