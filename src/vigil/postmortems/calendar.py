"""The iCalendar feed (RFC 5545): incident declarations and investigation time, postmortem
review meetings and action item due dates.

Every event has a stable UID (from the incident's UUID), so calendar clients update events in
place: an investigation block (acknowledged → resolved) grows while the incident is open.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.incidents import Incident
from vigil.postmortems.models import ActionItem, Postmortem

__all__ = ["calendar_feed"]


#: Incidents detected this many days back or later appear as declarations and investigations.
INCIDENT_DAYS = 90


def _incident_events(cal: Calendar, session: Session, now: dt.datetime) -> None:
    since = now - dt.timedelta(days=INCIDENT_DAYS)
    for incident in session.execute(
        select(Incident).where(Incident.detected_at >= since).order_by(Incident.detected_at)
    ).scalars():
        declared = Event()
        declared.add("uid", f"incident-{incident.uuid}@vigil")
        declared.add("summary", f"Incident declared: {incident.human_id} {incident.title}")
        declared.add("dtstart", incident.detected_at)
        declared.add("dtend", incident.detected_at + dt.timedelta(minutes=15))
        declared.add("dtstamp", incident.updated_at)
        declared.add("last-modified", incident.updated_at)
        declared.add(
            "description",
            f"Severity {incident.severity}, status {incident.status}, category "
            f"{incident.category}. {incident.description}".strip(),
        )
        declared.add("categories", ["incident", incident.severity])
        cal.add_component(declared)
        if incident.acknowledged_at is None:
            continue
        block = Event()
        block.add("uid", f"investigation-{incident.uuid}@vigil")
        block.add("summary", f"Investigating {incident.human_id}: {incident.title}")
        block.add("dtstart", incident.acknowledged_at)
        end = incident.resolved_at or incident.closed_at or max(now, incident.acknowledged_at)
        block.add("dtend", max(end, incident.acknowledged_at + dt.timedelta(minutes=1)))
        block.add("dtstamp", incident.updated_at)
        block.add("last-modified", incident.updated_at)
        block.add("status", "CONFIRMED" if incident.resolved_at else "TENTATIVE")
        block.add("categories", ["investigation"])
        cal.add_component(block)


def calendar_feed(
    *, session: Session, include_done: bool = False, now: dt.datetime | None = None
) -> bytes:
    """Return an iCalendar document; UIDs are stable so clients update events in place."""
    cal = Calendar()
    cal.add("prodid", "-//Vigil//Incident management//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Vigil: incidents, reviews and action items")
    _incident_events(cal, session, now or utcnow())
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
