"""The iCalendar feed: action item due dates and scheduled postmortem reviews (RFC 5545)."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.incidents.models import Incident
from vigil.postmortems.models import ActionItem, Postmortem

__all__ = ["calendar_feed"]


def calendar_feed(*, session: Session, include_done: bool = False) -> bytes:
    """Return an iCalendar document; UIDs are stable so clients update events in place."""
    cal = Calendar()
    cal.add("prodid", "-//Vigil//Incident management//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Vigil: action items and reviews")
    stmt = (
        select(ActionItem, Incident)
        .join(Incident, Incident.id == ActionItem.incident_id)
        .where(ActionItem.due_date.is_not(None))
    )
    for item, incident in session.execute(stmt).all():
        if not include_done and item.status in ("completed", "cancelled"):
            continue
        assert item.due_date is not None
        event = Event()
        event.add("uid", f"action-{incident.uuid}-{item.number}@vigil")
        event.add("summary", f"[AI-{item.number:03d}] {item.title} ({incident.human_id})")
        event.add("dtstart", item.due_date)
        event.add("dtend", item.due_date + dt.timedelta(days=1))
        event.add("dtstamp", item.updated_at)
        event.add("last-modified", item.updated_at)
        event.add(
            "description",
            f"{item.description}\nOwner: {item.owner or 'unassigned'}; priority {item.priority}; status {item.status}".strip(),
        )
        event.add("status", "CANCELLED" if item.status == "cancelled" else "CONFIRMED")
        event.add("categories", ["action-item", item.type])
        cal.add_component(event)
    reviews = (
        select(Postmortem, Incident)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(Postmortem.review_at.is_not(None))
    )
    for pm, incident in session.execute(reviews).all():
        assert pm.review_at is not None
        event = Event()
        event.add("uid", f"postmortem-review-{incident.uuid}@vigil")
        event.add("summary", f"Postmortem review: {incident.human_id} {incident.title}")
        event.add("dtstart", pm.review_at)
        event.add("dtend", pm.review_at + dt.timedelta(hours=1))
        event.add("dtstamp", pm.updated_at)
        event.add("last-modified", pm.updated_at)
        event.add("categories", ["postmortem"])
        cal.add_component(event)
    return bytes(cal.to_ical())
