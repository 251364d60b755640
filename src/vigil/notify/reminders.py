"""Daily reminders of action items that are due within a day or overdue.

Each (channel, item, kind) gets at most one reminder per day: the key
``a:CHANNEL:ITEM:KIND:DATE`` is unique, so running the job every hour is harmless. When the
owner is a person with a time zone (on-call registers a lookup in ``OWNER_TIME_ZONES``), the
day is the owner's, and the reminder waits until 09:00 there; otherwise the day is UTC's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.incidents import Incident
from vigil.notify.models import Channel, Route
from vigil.notify.outbox import facts_of, outbox_row, write_rows
from vigil.notify.rules import route_matches
from vigil.postmortems import ActionItem

__all__ = ["OWNER_TIME_ZONES", "queue_reminders"]

_OPEN = ("open", "in_progress")
_MORNING = 9
#: Lookups from owner names to IANA time zones (on-call adds the people's).
OWNER_TIME_ZONES: list[Callable[[Session, Collection[str]], dict[str, str]]] = []


def _owner_zones(session: Session, owners: Collection[str]) -> dict[str, ZoneInfo]:
    out: dict[str, ZoneInfo] = {}
    for lookup in OWNER_TIME_ZONES:
        for owner, name in lookup(session, owners).items():
            try:
                out[owner] = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return out


def queue_reminders(*, session: Session, now: dt.datetime | None = None) -> int:
    """Queue today's reminders; return how many were new."""
    now = now or utcnow()
    today = now.date()
    routes = [
        (r, c)
        for r, c in session.execute(select(Route, Channel).join(Channel)).all()
        if {"action_due_soon", "action_overdue"} & set(r.events)
    ]
    if not routes:
        return 0
    items = session.execute(
        select(ActionItem, Incident)
        .join(Incident, Incident.id == ActionItem.incident_id)
        .where(
            ActionItem.status.in_(_OPEN),
            ActionItem.due_date.is_not(None),
            ActionItem.due_date <= today + dt.timedelta(days=2),  # a day ahead anywhere
        )
    ).all()
    zones = _owner_zones(session, {i.owner for i, _ in items if i.owner})
    rows: list[dict[str, Any]] = []
    for item, incident in items:
        day = today
        zone = zones.get(item.owner or "")
        if zone is not None:
            local = now.astimezone(zone)
            if local.hour < _MORNING:
                continue  # not yet morning where the owner is
            day = local.date()
        if item.due_date and item.due_date > day + dt.timedelta(days=1):
            continue
        event = "action_overdue" if item.due_date and item.due_date < day else "action_due_soon"
        facts = facts_of(incident)
        channels = {c.id: c for r, c in routes if route_matches(r, event, facts)}
        payload = {
            "event": event,
            "incident": incident.human_id,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            "what": f"Action item #{item.number} {item.title!r} is due "
            f"{item.due_date.isoformat() if item.due_date else ''}",
            "by": item.owner or "nobody yet",
            "at": now.isoformat(),
            "service": incident.service,
            "resource": incident.resource,
        }
        rows.extend(
            outbox_row(
                key=f"a:{channel.id}:{item.id}:{event}:{day.isoformat()}",
                channel=channel,
                incident_id=incident.id,
                entry_id=None,
                payload=payload,
                now=now,
            )
            for channel in channels.values()
        )
    return write_rows(session, rows)
