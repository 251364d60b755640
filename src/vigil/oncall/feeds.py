"""The iCalendar feeds of a schedule and of a person (from 7 days back to 90 ahead)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.oncall.icalendar_layers import schedule_calendar
from vigil.oncall.models import Schedule
from vigil.oncall.people import get_person
from vigil.oncall.schedules import final_schedule, get_schedule, list_schedules

__all__ = ["person_feed", "schedule_feed"]

_BACK = dt.timedelta(days=7)
_AHEAD = dt.timedelta(days=90)


def _window(now: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    return now - _BACK, now + _AHEAD


def schedule_feed(
    *, session: Session, schedule: str, person: str | None = None, now: dt.datetime | None = None
) -> bytes:
    """``schedule``'s on-call shifts (only ``person``'s when given) as iCalendar."""
    found: Schedule = get_schedule(session=session, name=schedule)
    handle = get_person(session=session, handle=person).handle if person else None
    start, end = _window(now)
    pieces = final_schedule(session=session, schedule=found.name, start=start, end=end)
    title = f"Vigil on call: {found.name}" + (f" ({handle})" if handle else "")
    return schedule_calendar(title, found.name, pieces, person=handle, changed=utcnow())


def person_feed(*, session: Session, person: str, now: dt.datetime | None = None) -> bytes:
    """Every on-call shift of ``person`` across all schedules, as iCalendar."""
    from icalendar import Calendar

    handle = get_person(session=session, handle=person).handle
    start, end = _window(now)
    merged = Calendar()
    merged.add("prodid", "-//Vigil//On-call//EN")
    merged.add("version", "2.0")
    merged.add("x-wr-calname", f"Vigil on call: {handle}")
    for schedule in list_schedules(session=session):
        pieces = final_schedule(session=session, schedule=schedule.name, start=start, end=end)
        one = Calendar.from_ical(
            schedule_calendar("", schedule.name, pieces, person=handle, changed=utcnow())
        )
        for event in one.walk("VEVENT"):
            merged.add_component(event)
    return bytes(merged.to_ical())
