"""Daily reminders of action items that are due within a day or overdue.

Each (channel, item, kind) gets at most one reminder per UTC day: the key
``a:CHANNEL:ITEM:KIND:DATE`` is unique, so running the job every hour is harmless.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.incidents import Incident
from vigil.notify.models import Channel, Route
from vigil.notify.outbox import facts_of, outbox_row, write_rows
from vigil.notify.rules import route_matches
from vigil.postmortems import ActionItem

__all__ = ["queue_reminders"]

_OPEN = ("open", "in_progress")


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
            ActionItem.due_date <= today + dt.timedelta(days=1),
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for item, incident in items:
        event = "action_overdue" if item.due_date and item.due_date < today else "action_due_soon"
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
                key=f"a:{channel.id}:{item.id}:{event}:{today.isoformat()}",
                channel=channel,
                incident_id=incident.id,
                entry_id=None,
                payload=payload,
                now=now,
            )
            for channel in channels.values()
        )
    return write_rows(session, rows)
