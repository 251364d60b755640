"""Schedules and iCalendar, both ways.

In: a layer can be an iCalendar file or URL (a rota kept elsewhere). Its events are expanded
with ``recurring-ical-events`` (recurrence rules, exceptions, moved occurrences) and each
event puts on call the person its SUMMARY (or an attendee's name) names: a handle or a
person's full name, alone or as one word of the summary. Events naming nobody are skipped.

Out: a feed per schedule and per person with one event per stretch of the final schedule,
a stable UID (schedule, person, start) so calendar apps update events in place, the layer or
override that decided it, and a reminder 15 minutes before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events  # type: ignore[import-untyped]
from icalendar import Alarm, Calendar, Event

from vigil.errors import ValidationError
from vigil.oncall.final import Piece
from vigil.oncall.rotation import ImportedLayer, Segment
from vigil.oncall.wallclock import UTC

__all__ = ["imported_layer", "schedule_calendar"]

_BEFORE = dt.timedelta(days=35)
_AHEAD = dt.timedelta(days=400)
MAX_ICAL_BYTES = 5_000_000


def _when(value: Any, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    return dt.datetime.combine(value, dt.time(), tzinfo=tz).astimezone(UTC)


def _person(event: Any, people: dict[str, str]) -> str | None:
    summary = str(event.get("summary", "")).strip().lower()
    if summary in people:
        return people[summary]
    names = [
        summary,
        *(str(getattr(a, "params", {}).get("CN", "")).lower() for a in _attendees(event)),
    ]
    for text in names:
        if text in people:
            return people[text]
    for word in summary.replace(":", " ").replace(",", " ").split():
        if word in people:
            return people[word]
    return None


def _attendees(event: Any) -> list[Any]:
    found = event.get("attendee")
    if found is None:
        return []
    return list(found) if isinstance(found, list) else [found]


@lru_cache(maxsize=128)
def _expanded(
    text_hash: str,
    text: str,
    day: dt.date,
    people_key: tuple[tuple[str, str], ...],
    name: str,
    zone_name: str = "UTC",
) -> ImportedLayer:
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationError(
            f"ical_text: not an iCalendar file ({exc})", field="ical_text"
        ) from exc
    people = dict(people_key)
    start = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
    pieces = []
    try:
        events = recurring_ical_events.of(calendar).between(start - _BEFORE, start + _AHEAD)
    except Exception as exc:  # the library raises its own types on malformed rules
        raise ValidationError(
            f"ical_text: the calendar cannot be expanded ({exc})", field="ical_text"
        ) from exc
    for event in events:
        who = _person(event, people)
        if who is None or event.get("dtstart") is None:
            continue
        tz = ZoneInfo(zone_name)  # all-day and floating times are the layer's wall clock
        begin = _when(event["dtstart"].dt, tz)
        finish = (
            _when(event["dtend"].dt, tz) if event.get("dtend") else begin + dt.timedelta(days=1)
        )
        pieces.append(Segment(begin, finish, who, name))
    return ImportedLayer(name, tuple(pieces))


def imported_layer(
    row: Any, people: dict[str, str], *, start: dt.datetime, zone_name: str = "UTC"
) -> ImportedLayer:
    """The imported calendar of layer ``row`` as a layer, around ``start`` (cached); dates
    and floating times are read in ``zone_name``."""
    text = row.ical_text or ""
    if len(text) > MAX_ICAL_BYTES:
        raise ValidationError("ical_text: at most 5 MB", field="ical_text")
    if not text:
        return ImportedLayer(row.name, ())
    digest = hashlib.sha256(text.encode()).hexdigest()
    return _expanded(digest, text, start.date(), tuple(sorted(people.items())), row.name, zone_name)


def schedule_calendar(
    title: str,
    schedule: str,
    pieces: list[Piece],
    *,
    person: str | None = None,
    changed: dt.datetime,
) -> bytes:
    """An iCalendar of ``pieces`` (only ``person``'s when given), one event per person-piece."""
    cal = Calendar()
    cal.add("prodid", "-//Vigil//On-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for piece in pieces:
        for who in piece.people:
            if person is not None and who != person:
                continue
            event = Event()
            event.add("uid", f"oncall-{schedule}-{who}-{int(piece.start.timestamp())}@vigil")
            event.add("summary", f"On call: {who} ({schedule})")
            event.add("dtstart", piece.start)
            event.add("dtend", piece.end)
            event.add("dtstamp", changed)
            event.add("description", "Decided by: " + ", ".join(piece.decided_by))
            event.add("categories", ["on-call"])
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"On call for {schedule} in 15 minutes")
            alarm.add("trigger", dt.timedelta(minutes=-15))
            event.add_component(alarm)
            cal.add_component(event)
    return bytes(cal.to_ical())
