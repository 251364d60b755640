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


def _event(
    uid: str,
    summary: str,
    start: dt.date | dt.datetime,
    end: dt.date | dt.datetime,
    changed: dt.datetime,
    categories: list[str],
    **extra: object,
) -> Event:
    """One VEVENT with the fields every Vigil event has (``changed`` stamps it)."""
    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    for name, value in extra.items():
        event.add(name, value)
    event.add("categories", categories)
    return event


def _incident_events(cal: Calendar, session: Session, now: dt.datetime) -> None:
    since = now - dt.timedelta(days=INCIDENT_DAYS)
    for incident in session.execute(
        select(Incident).where(Incident.detected_at >= since).order_by(Incident.detected_at)
    ).scalars():
        cal.add_component(
            _event(
                f"incident-{incident.uuid}@vigil",
                f"Incident declared: {incident.human_id} {incident.title}",
                incident.detected_at,
                incident.detected_at + dt.timedelta(minutes=15),
                incident.updated_at,
                ["incident", incident.severity],
                description=f"Severity {incident.severity}, status {incident.status}, "
                f"category {incident.category}. {incident.description}".strip(),
            )
        )
        if incident.acknowledged_at is None:
            continue
        end = incident.resolved_at or incident.closed_at or max(now, incident.acknowledged_at)
        cal.add_component(
            _event(
                f"investigation-{incident.uuid}@vigil",
                f"Investigating {incident.human_id}: {incident.title}",
                incident.acknowledged_at,
                max(end, incident.acknowledged_at + dt.timedelta(minutes=1)),
                incident.updated_at,
                ["investigation"],
                status="CONFIRMED" if incident.resolved_at else "TENTATIVE",
            )
        )


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
        cal.add_component(
            _event(
                f"action-{incident.uuid}-{item.number}@vigil",
                f"[AI-{item.number:03d}] {item.title} ({incident.human_id})",
                item.due_date,
                item.due_date + dt.timedelta(days=1),
                item.updated_at,
                ["action-item", item.type],
                description=f"{item.description}\nOwner: {item.owner or 'unassigned'}; "
                f"priority {item.priority}; status {item.status}".strip(),
                status="CANCELLED" if item.status == "cancelled" else "CONFIRMED",
            )
        )
    reviews = (
        select(Postmortem, Incident)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(Postmortem.review_at.is_not(None))
    )
    for pm, incident in session.execute(reviews).all():
        assert pm.review_at is not None
        cal.add_component(
            _event(
                f"postmortem-review-{incident.uuid}@vigil",
                f"Postmortem review: {incident.human_id} {incident.title}",
                pm.review_at,
                pm.review_at + dt.timedelta(hours=1),
                pm.updated_at,
                ["postmortem"],
            )
        )
    return bytes(cal.to_ical())
