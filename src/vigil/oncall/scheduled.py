"""On-call jobs: climb escalation policies, refresh imported calendars, send test pages."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.db import Store, utcnow
from vigil.feed import has_news
from vigil.incidents import TimelineEntry
from vigil.jobs import scheduled
from vigil.notify import reminders
from vigil.oncall.flows import refresh_calendars, send_due_test_pages
from vigil.oncall.models import EscalationPolicy, IncidentEscalation, Person
from vigil.oncall.paging import FOLLOWER, follow_incident_changes
from vigil.oncall.steps import fire_due_steps

__all__ = ["escalate", "people_time_zones", "refresh_imported_calendars", "test_pages"]


def people_time_zones(session: Session, owners: Collection[str]) -> dict[str, str]:
    """Action-item owners who are people (by handle or full name) → their time zones."""
    rows = session.execute(
        select(Person.handle, Person.name, Person.time_zone).where(
            or_(Person.handle.in_(owners), Person.name.in_(owners))
        )
    ).all()
    out: dict[str, str] = {}
    for handle, name, zone in rows:
        for key in (handle, name):
            if key in owners:
                out[key] = zone
    return out


# Reminders of action items come in the owner's morning when the owner is a person.
if people_time_zones not in reminders.OWNER_TIME_ZONES:
    reminders.OWNER_TIME_ZONES.append(people_time_zones)


#: The timeline entries that start, stop or end a climb.
_RELEVANT = TimelineEntry.__table__.c.kind.in_(("created", "status_changed"))


def _work_waiting(store: Store) -> bool:
    ie = IncidentEscalation
    with store.read() as session:
        if session.execute(select(EscalationPolicy.id).limit(1)).first() is None:
            return False
        news = has_news(
            session=session, follower=FOLLOWER, log="timeline_entries", relevant=_RELEVANT
        )
        due = session.execute(
            select(ie.incident_id)
            .where(ie.state.in_(("climbing", "repeating")), ie.next_at <= utcnow())
            .limit(1)
        ).first()
    return news or due is not None


@scheduled("oncall.escalate", every=lambda s: s.escalation_poll_seconds, wake_on_commit=True)
def escalate(store: Store) -> str:
    """Start and stop climbs for new incident changes, then fire the steps that are due."""
    if not _work_waiting(store):  # most wake-ups: a read, no write lock
        return "nothing due"
    with store.write() as session:
        followed = follow_incident_changes(session=session)
        fired = fire_due_steps(session=session)
    return f"{followed} change(s) followed, {fired} step(s) fired"


@scheduled("oncall.calendars", every=lambda s: 3600.0)
def refresh_imported_calendars(store: Store) -> str:
    """Fetch the iCalendar URLs of imported schedule layers."""
    return refresh_calendars(store)


@scheduled("oncall.test_pages", every=lambda s: 3600.0)
def test_pages(store: Store) -> str:
    """Send each person who asked for them their periodic test page."""
    return send_due_test_pages(store)
