"""Channels, routes and the delivery log: the rules behind the API and CLI."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.crypto import SecretBox
from vigil.errors import ConfigurationError, ConflictError, NotFoundError, ValidationError
from vigil.incidents import Incident, normalize_severity
from vigil.notify.models import Channel, DeliveryAttempt, Notification, Route
from vigil.notify.outbox import start_following
from vigil.notify.phone import check_email, check_phone
from vigil.notify.rules import DEFAULT_EVENTS, DEFAULT_SEVERITIES, EVENTS
from vigil.notify.schemas import DeliveryStep, NotificationRead
from vigil.notify.senders import check_apprise_url, check_webhook_url
from vigil.notify.threads import BOT_KINDS, parse_bot_url
from vigil.validation import require_name

__all__ = [
    "NewChannel",
    "RouteSpec",
    "add_channel",
    "add_route",
    "channel_count",
    "check_key_for_channels",
    "delivery_history",
    "get_channel",
    "list_channels",
    "list_notifications",
    "list_routes",
    "notification_reads",
    "remove_channel",
    "remove_route",
]

_PERSONAL_KINDS = ("email", "sms", "voice")
#: Messages per minute a new channel of each scheme may send (chat services throttle).
_DEFAULT_RATES = {
    "slack-bot": 60,
    "mattermost-bot": 60,
    "telegram-bot": 20,
    "slack": 60,
    "mmost": 60,
    "mmosts": 60,
    "discord": 30,
    "tgram": 20,
    "workflows": 60,
    "msteams": 60,
    "ntfy": 60,
    "ntfys": 60,
    "mailto": 60,
    "mailtos": 60,
}


@dataclass(frozen=True, slots=True)
class NewChannel:
    """A channel just added, with the webhook signing secret shown only now."""

    channel: Channel
    signing_secret: str | None


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """What a route asks for."""

    events: Sequence[str] = DEFAULT_EVENTS
    min_severity: str | None = DEFAULT_SEVERITIES
    services: Sequence[str] = ()
    categories: Sequence[str] = ()
    resources: Sequence[str] = ()
    sources: Sequence[str] = ()
    labels: dict[str, str] | None = None


def add_channel(
    *,
    session: Session,
    settings: Settings,
    name: str,
    url: str,
    kind: str = "apprise",
    default_route: bool = False,
    rate_per_minute: int | None = None,
    bundle_after: int | None = None,
    personal: bool = False,
) -> NewChannel:
    """Add a channel (URL encrypted at rest); with ``default_route``, open/resolve of high+.

    A ``personal`` channel is a person's contact method (kinds email, sms and voice too):
    pages reach it, routes cannot, and channel lists leave it out."""
    if not personal:
        require_name(name)
    box = SecretBox(settings)
    if not box.ready:
        raise ConflictError(
            "channels need VIGIL_SECRET_KEY (their URLs are stored encrypted): make one with "
            "`vigil notify new-key` and set it for every Vigil process",
            field="url",
        )
    url = url.strip()
    if personal and kind in ("sms", "voice"):
        url = check_phone(url)  # written with spaces or dashes, stored as +4915...
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url) or " " in url:
        raise ValidationError("url: spaces and control characters are not allowed", field="url")
    if kind == "apprise" and url.split("://", 1)[0].lower() in BOT_KINDS:
        kind = url.split("://", 1)[0].lower()  # a chat bot that threads by incident
    if personal and kind in _PERSONAL_KINDS:
        scheme = kind
        url = check_email(url) if kind == "email" else check_phone(url)
        display = url if kind == "email" else url[:4] + "…" + url[-3:]
    elif kind == "webhook":
        display, scheme = check_webhook_url(url), "webhook"
    elif kind in BOT_KINDS:
        display, scheme = parse_bot_url(url).display, kind
    elif kind == "apprise":
        scheme, display = check_apprise_url(url)
    else:
        raise ValidationError(
            f"kind: one of apprise, webhook, {', '.join(BOT_KINDS)}", field="kind"
        )
    if session.execute(select(Channel.id).where(Channel.name == name)).first():
        raise ConflictError(f"a channel named {name!r} already exists", field="name")
    for value, field in ((rate_per_minute, "rate_per_minute"), (bundle_after, "bundle_after")):
        if value is not None and not 0 <= value <= 100_000:
            raise ValidationError(f"{field}: a whole number from 0 to 100000", field=field)
    secret = secrets.token_urlsafe(32) if kind == "webhook" else None
    start_following(session=session)
    channel = Channel(
        name=name,
        kind=kind,
        scheme=scheme,
        display=display,
        url_encrypted=box.seal(url),
        secret_encrypted=box.seal(secret) if secret else None,
        rate_per_minute=_DEFAULT_RATES.get(scheme, 0)
        if rate_per_minute is None
        else rate_per_minute,
        # A person's pages are bundled too: in a storm one digest beats a hundred pages.
        bundle_after=settings.notify_bundle_after if bundle_after is None else bundle_after,
        personal=personal,
    )
    session.add(channel)
    session.flush()
    if default_route:
        add_route(session=session, channel=name, spec=RouteSpec())
    return NewChannel(channel, secret)


def get_channel(*, session: Session, name: str, personal: bool = False) -> Channel:
    """The channel called ``name`` (``personal``: a contact method's)."""
    stmt = select(Channel).where(Channel.name == name, Channel.personal.is_(personal))
    channel = session.execute(stmt).scalar_one_or_none()
    if channel is None:
        raise NotFoundError(f"channel {name!r} does not exist", field="name")
    return channel


def list_channels(*, session: Session) -> Sequence[Channel]:
    """Every channel, by name (people's contact methods are listed with the people)."""
    stmt = select(Channel).where(Channel.personal.is_(False)).order_by(Channel.name)
    return session.execute(stmt).scalars().all()


def channel_count(*, session: Session) -> int:
    """How many channels exist (a key is required once there is one)."""
    return int(session.execute(select(func.count(Channel.id))).scalar() or 0)


def check_key_for_channels(*, session: Session, settings: Settings) -> None:
    """Refuse to run with channels but without the key that decrypts them."""
    box = SecretBox(settings)  # a malformed key is refused here too
    if not box.ready and channel_count(session=session):
        raise ConfigurationError(
            "this database has notification channels but VIGIL_SECRET_KEY is not set: set the "
            "key they were stored with (without it nothing can be delivered)"
        )
    channel = session.execute(select(Channel).limit(1)).scalar_one_or_none()
    if channel is not None:
        box.open(channel.url_encrypted)  # the wrong key is refused at start, not per message


def remove_channel(*, session: Session, name: str, personal: bool = False) -> Channel:
    """Remove a channel and its routes; its delivery log stays, naming it."""
    channel = get_channel(session=session, name=name, personal=personal)
    pending = select(Notification.id).where(
        Notification.channel_id == channel.id, Notification.state.in_(("pending", "sending"))
    )
    session.execute(
        update(Notification)
        .where(Notification.id.in_(pending))
        .values(state="failed", answer="the channel was removed")
    )
    session.delete(channel)
    session.flush()
    return channel


def _pick(values: Sequence[str], allowed: Sequence[str], field: str) -> list[str]:
    out = []
    for value in values:
        v = value.strip().lower()
        if v not in allowed:
            raise ValidationError(
                f"{field}: {value!r} is not one of: {', '.join(allowed)}", field=field
            )
        out.append(v)
    return sorted(set(out), key=list(allowed).index)


def add_route(*, session: Session, channel: str, spec: RouteSpec) -> Route:
    """Send ``spec.events`` matching its filters to ``channel``."""
    target = get_channel(session=session, name=channel)
    events = _pick(spec.events, EVENTS, "events")
    if not events:
        raise ValidationError(f"events: name at least one of: {', '.join(EVENTS)}", field="events")
    severity = (
        normalize_severity(spec.min_severity, field="min_severity") if spec.min_severity else None
    )
    route = Route(
        channel_id=target.id,
        events=events,
        min_severity=severity,
        services=list(spec.services),
        categories=[c.strip().upper() for c in spec.categories],
        resources=list(spec.resources),
        sources=list(spec.sources),
        labels=dict(spec.labels or {}),
    )
    session.add(route)
    session.flush()
    return route


def list_routes(*, session: Session, channel: str | None = None) -> Sequence[tuple[Route, str]]:
    """Routes with their channel's name."""
    stmt = select(Route, Channel.name).join(Channel).order_by(Channel.name, Route.id)
    if channel:
        stmt = stmt.where(Channel.name == channel)
    return [(r, name) for r, name in session.execute(stmt).all()]


def remove_route(*, session: Session, route_id: int) -> None:
    """Remove one route."""
    if session.execute(delete(Route).where(Route.id == route_id)).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"route {route_id} does not exist", field="route_id")


#: Every state a notification can be in.
NOTIFICATION_STATES = ("pending", "sending", "sent", "failed", "bundled", "silenced")


def list_notifications(
    *,
    session: Session,
    incident: str | None = None,
    channel: str | None = None,
    state: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> Sequence[tuple[Notification, str | None]]:
    """Recent notifications, newest first, with their incident's human ID."""
    n = Notification
    stmt = select(n, Incident.human_id).outerjoin(Incident, Incident.id == n.incident_id)
    if incident:
        found = session.execute(
            select(Incident.id).where(Incident.human_id == incident)
        ).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"incident {incident} does not exist", field="incident")
        stmt = stmt.where(n.incident_id == found)
    if channel:
        stmt = stmt.where(n.channel_name == channel)
    if state:
        stmt = stmt.where(n.state == _pick([state], NOTIFICATION_STATES, "state")[0])
    if since:
        stmt = stmt.where(n.created_at >= since)
    rows = session.execute(stmt.order_by(n.id.desc()).limit(max(1, min(limit, 1000)))).all()
    return [(row[0], row[1]) for row in rows]


def delivery_history(
    *, session: Session, notification_ids: Sequence[int]
) -> dict[int, list[DeliveryAttempt]]:
    """Each notification's state changes, oldest first."""
    out: dict[int, list[DeliveryAttempt]] = {i: [] for i in notification_ids}
    if notification_ids:
        rows = session.execute(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.notification_id.in_(notification_ids))
            .order_by(DeliveryAttempt.id)
        ).scalars()
        for row in rows:
            out[row.notification_id].append(row)
    return out


def notification_reads(
    *, session: Session, rows: Sequence[tuple[Notification, str | None]]
) -> list[NotificationRead]:
    """Notifications with their delivery history, as the API and CLI show them."""
    history = delivery_history(session=session, notification_ids=[n.id for n, _ in rows])
    return [
        NotificationRead(
            id=n.id,
            key=n.key,
            channel=n.channel_name,
            incident=ref,
            event=n.event,
            state=n.state,
            attempts=n.attempts,
            created_at=n.created_at,
            next_attempt_at=n.next_attempt_at if n.state == "pending" else None,
            sent_at=n.sent_at,
            answer=n.answer,
            history=[DeliveryStep(at=h.at, state=h.state, answer=h.answer) for h in history[n.id]],
        )
        for n, ref in rows
    ]
