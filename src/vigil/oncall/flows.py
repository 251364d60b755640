"""On-call actions with side effects outside the database: sending verification codes and
test pages through contact methods, fetching imported calendars."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select

from vigil.db import Store, utcnow
from vigil.errors import ValidationError
from vigil.notify import Answer, Message, send_direct
from vigil.oncall.icalendar_layers import MAX_ICAL_BYTES
from vigil.oncall.models import ContactMethod, Person, ScheduleLayer
from vigil.oncall.people import contact_channel_name, get_person, new_verification_code

__all__ = ["refresh_calendars", "send_due_test_pages", "send_test_page", "send_verification"]


def send_verification(store: Store, handle: str, label: str) -> Answer:
    """Send a fresh verification code through ``handle``'s contact method ``label``."""
    with store.write() as session:
        contact, code = new_verification_code(
            session=session, settings=store.settings, handle=handle, label=label
        )
        person = session.get(Person, contact.person_id)
        assert person is not None
        name = contact_channel_name(person.handle, contact.label)
    message = Message(
        f"verify:{contact.id}:{utcnow().timestamp():.0f}",
        f"Vigil verification code: {code}",
        f"Your Vigil verification code for contact method {label} is {code}. It is valid for "
        f"15 minutes. Confirm with: vigil people confirm {person.handle} {label} {code}",
        {"event": "verification", "code": code},
    )
    return send_direct(store, name, message, personal=True)


def send_test_page(store: Store, handle: str) -> list[tuple[str, Answer]]:
    """Send a test page through each of ``handle``'s verified contact methods now."""
    with store.write() as session:
        person = get_person(session=session, handle=handle)
        labels = list(
            session.execute(
                select(ContactMethod.label).where(
                    ContactMethod.person_id == person.id, ContactMethod.verified_at.is_not(None)
                )
            ).scalars()
        )
        person.last_test_page_at = utcnow()
        handle = person.handle
    if not labels:
        raise ValidationError(
            f"{handle} has no verified contact method to test: add one with "
            "`vigil people contact add` and verify it",
            field="handle",
        )
    out = []
    for label in labels:
        message = Message(
            f"testpage:{handle}:{label}:{utcnow().timestamp():.0f}",
            f"Vigil test page for {handle}",
            f"This is a test page through your contact method {label}. Pages reach you here.",
            {"event": "test_page", "person": handle, "contact": label},
        )
        out.append(
            (label, send_direct(store, contact_channel_name(handle, label), message, personal=True))
        )
    return out


def send_due_test_pages(store: Store) -> str:
    """Test-page everybody whose interval has passed."""
    now = utcnow()
    with store.read() as session:
        due = [
            p.handle
            for p in session.execute(select(Person).where(Person.test_page_days > 0)).scalars()
            if p.last_test_page_at is None
            or p.last_test_page_at + dt.timedelta(days=p.test_page_days) <= now
        ]
    sent = 0
    for handle in due:
        try:
            sent += sum(1 for _label, answer in send_test_page(store, handle) if answer.ok)
        except ValidationError:
            continue  # nothing verified: `vigil oncall check` reports it
    return f"{sent} test page(s) sent to {len(due)} person(s)"


def refresh_calendars(store: Store) -> str:
    """Fetch every imported layer's iCalendar URL; keep the last good copy on failure."""
    with store.read() as session:
        layers = [
            (row.id, row.ical_url)
            for row in session.execute(
                select(ScheduleLayer).where(ScheduleLayer.ical_url.is_not(None))
            ).scalars()
        ]
    fetched = 0
    if not layers:
        return "0 of 0 calendar(s) fetched"  # no client (building one costs ~50 ms)
    with httpx.Client(follow_redirects=False, timeout=10.0) as client:
        for layer_id, url in layers:
            assert url is not None
            text, error = None, None
            try:
                reply = client.get(url, headers={"User-Agent": "Vigil"})
                if not reply.is_success:
                    error = f"HTTP {reply.status_code}"
                elif len(reply.content) > MAX_ICAL_BYTES:
                    error = "larger than 5 MB"
                else:
                    text = reply.text
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: could not fetch"
            with store.write() as session:
                row = session.get(ScheduleLayer, layer_id)
                if row is None:
                    continue
                if text is not None:
                    row.ical_text, row.ical_fetched_at, row.ical_error = text, utcnow(), None
                    fetched += 1
                else:
                    row.ical_error = error
    return f"{fetched} of {len(layers)} calendar(s) fetched"
