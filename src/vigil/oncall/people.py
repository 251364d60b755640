"""People, their contact methods (verified by a code before pages use them), notification
rules per urgency, and tokens that belong to a person."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth import account_count, create_token, set_password
from vigil.config import Settings
from vigil.db import utcnow
from vigil.errors import ConflictError, NotFoundError, ValidationError
from vigil.notify import add_channel, get_channel, remove_channel
from vigil.oncall.hours import parse_windows
from vigil.oncall.models import ContactMethod, NotificationRule, Person
from vigil.oncall.wallclock import zone

__all__ = [
    "CONTACT_KINDS",
    "URGENCIES",
    "NewContact",
    "add_contact",
    "add_person",
    "add_rule",
    "confirm_contact",
    "contact_channel_name",
    "create_person_token",
    "ensure_first_admin",
    "get_contact",
    "get_person",
    "list_contacts",
    "list_people",
    "list_rules",
    "new_verification_code",
    "remove_contact",
    "remove_person",
    "remove_rule",
    "update_person",
]

CONTACT_KINDS = ("email", "sms", "voice", "apprise", "webhook")
URGENCIES = ("high", "low")
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,49}$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")
_CODE_MINUTES = 15
_CODE_TRIES = 5
DEFAULT_WORKING_HOURS = "mon-fri 09:00-17:00"


@dataclass(frozen=True, slots=True)
class NewContact:
    """A contact method just added; a webhook's signing secret is shown only now."""

    contact: ContactMethod
    signing_secret: str | None


def _check_handle(handle: str) -> str:
    handle = handle.strip().lower()
    if not _HANDLE.match(handle):
        raise ValidationError(
            "handle: 1-50 lowercase letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            field="handle",
        )
    return handle


def get_person(*, session: Session, handle: str) -> Person:
    """The person with ``handle``."""
    found = session.execute(
        select(Person).where(Person.handle == handle.strip().lower())
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"nobody has the handle {handle!r}", field="handle")
    return found


def add_person(
    *,
    session: Session,
    handle: str,
    name: str,
    time_zone: str = "UTC",
    working_hours: str | Sequence[str] = DEFAULT_WORKING_HOURS,
    quiet_hours: str | None = None,
    test_page_days: int = 0,
) -> Person:
    """Add a person (working hours default to mon-fri 09:00-17:00 in their time zone)."""
    handle = _check_handle(handle)
    name = " ".join(name.split())
    if not 1 <= len(name) <= 200:
        raise ValidationError("name: 1 to 200 characters", field="name")
    if session.execute(select(Person.id).where(Person.handle == handle)).first():
        raise ConflictError(f"somebody already has the handle {handle!r}", field="handle")
    person = Person(handle=handle, name=name)
    _set_hours(person, time_zone, working_hours, quiet_hours, test_page_days)
    session.add(person)
    session.flush()
    return person


def _set_hours(
    person: Person,
    time_zone: str | None,
    working_hours: str | Sequence[str] | None,
    quiet_hours: str | None,
    test_page_days: int | None,
) -> None:
    if time_zone is not None:
        zone(time_zone)
        person.time_zone = time_zone
    if working_hours is not None:
        person.working_hours = parse_windows(working_hours, field="working_hours")
    if quiet_hours is not None:
        if quiet_hours.strip().lower() in ("", "none"):
            person.quiet_hours = None
        else:
            windows = parse_windows(quiet_hours, field="quiet_hours")
            if len(windows) != 1 or len(windows[0]["days"]) != 7:
                raise ValidationError(
                    "quiet_hours: one daily range such as '22:00-07:00'", field="quiet_hours"
                )
            person.quiet_hours = {"start": windows[0]["start"], "end": windows[0]["end"]}
    if test_page_days is not None:
        if not 0 <= test_page_days <= 365:
            raise ValidationError("test_page_days: 0 (never) to 365", field="test_page_days")
        person.test_page_days = test_page_days


def update_person(
    *,
    session: Session,
    handle: str,
    name: str | None = None,
    time_zone: str | None = None,
    working_hours: str | Sequence[str] | None = None,
    quiet_hours: str | None = None,
    test_page_days: int | None = None,
) -> Person:
    """Change a person's name, time zone, hours or test-page interval."""
    person = get_person(session=session, handle=handle)
    if name is not None:
        name = " ".join(name.split())
        if not 1 <= len(name) <= 200:
            raise ValidationError("name: 1 to 200 characters", field="name")
        person.name = name
    _set_hours(person, time_zone, working_hours, quiet_hours, test_page_days)
    session.flush()
    return person


def list_people(*, session: Session) -> Sequence[Person]:
    """Everybody, by handle."""
    return session.execute(select(Person).order_by(Person.handle)).scalars().all()


def remove_person(*, session: Session, handle: str) -> None:
    """Remove a person with their contact methods (schedules keep naming the handle)."""
    person = get_person(session=session, handle=handle)
    for contact in list_contacts(session=session, handle=handle):
        remove_contact(session=session, handle=handle, label=contact.label)
    session.delete(person)
    session.flush()


def contact_channel_name(handle: str, label: str) -> str:
    """The name of the channel behind a contact method (never shown as a channel)."""
    return f"@{handle}:{label}"


def add_contact(
    *, session: Session, settings: Settings, handle: str, label: str, kind: str, address: str
) -> NewContact:
    """Add a contact method: an email address, a phone number (sms, voice), an apprise URL
    or a webhook URL. It is unverified until the code sent through it comes back.

    A person's first contact method also gets default rules: high urgency now and every
    5 minutes until acknowledged, low urgency now (within working hours)."""
    person = get_person(session=session, handle=handle)
    if not _LABEL.match(label):
        raise ValidationError(
            "label: 1-50 letters, digits, '_', '.' or '-', starting with a letter or digit",
            field="label",
        )
    if kind not in CONTACT_KINDS:
        raise ValidationError(
            f"kind {kind!r} is not one of: {', '.join(CONTACT_KINDS)}",
            field="kind",
            allowed=list(CONTACT_KINDS),
        )
    exists = select(ContactMethod.id).where(
        ContactMethod.person_id == person.id, ContactMethod.label == label
    )
    if session.execute(exists).first():
        raise ConflictError(
            f"{person.handle} already has a contact method {label!r}", field="label"
        )
    made = add_channel(
        session=session,
        settings=settings,
        name=contact_channel_name(person.handle, label),
        url=address,
        kind=kind,
        personal=True,
    )
    contact = ContactMethod(person_id=person.id, label=label, kind=kind, channel_id=made.channel.id)
    session.add(contact)
    session.flush()
    if not list_rules(session=session, handle=person.handle):
        session.add_all(
            [
                NotificationRule(
                    person_id=person.id, contact_id=contact.id, urgency="high",
                    delay_seconds=0, repeat_seconds=300,
                ),
                NotificationRule(
                    person_id=person.id, contact_id=contact.id, urgency="low",
                    delay_seconds=0, repeat_seconds=0,
                ),
            ]
        )  # fmt: skip
        session.flush()
    return NewContact(contact, made.signing_secret)


def get_contact(*, session: Session, handle: str, label: str) -> ContactMethod:
    """``handle``'s contact method ``label``."""
    person = get_person(session=session, handle=handle)
    found = session.execute(
        select(ContactMethod).where(
            ContactMethod.person_id == person.id, ContactMethod.label == label
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"{person.handle} has no contact method {label!r}", field="label")
    return found


def list_contacts(*, session: Session, handle: str | None = None) -> Sequence[ContactMethod]:
    """Contact methods of ``handle`` (or everybody's), by label."""
    stmt = select(ContactMethod).order_by(ContactMethod.person_id, ContactMethod.label)
    if handle is not None:
        stmt = stmt.where(ContactMethod.person_id == get_person(session=session, handle=handle).id)
    return session.execute(stmt).scalars().all()


def remove_contact(*, session: Session, handle: str, label: str) -> None:
    """Remove a contact method, its rules and its channel (pages owed to it fail, named)."""
    contact = get_contact(session=session, handle=handle, label=label)
    channel_name = contact_channel_name(handle.strip().lower(), label)
    session.delete(contact)
    session.flush()
    get_channel(session=session, name=channel_name, personal=True)
    remove_channel(session=session, name=channel_name, personal=True)


def _code_hash(settings: Settings, contact_id: int, code: str) -> str:
    key = settings.secret_key.get_secret_value().encode() if settings.secret_key else b"vigil"
    return hmac.new(key, f"{contact_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_verification_code(
    *, session: Session, settings: Settings, handle: str, label: str
) -> tuple[ContactMethod, str]:
    """Make a fresh 6-digit code for a contact method (valid 15 minutes, 5 tries); only its
    hash is stored. The caller sends it through the contact method."""
    contact = get_contact(session=session, handle=handle, label=label)
    code = f"{secrets.randbelow(1_000_000):06d}"
    contact.code_hash = _code_hash(settings, contact.id, code)
    contact.code_expires_at = utcnow() + dt.timedelta(minutes=_CODE_MINUTES)
    contact.code_attempts = 0
    session.flush()
    return contact, code


def confirm_contact(
    *, session: Session, settings: Settings, handle: str, label: str, code: str
) -> ContactMethod:
    """Mark a contact method verified when ``code`` is the one sent through it."""
    contact = get_contact(session=session, handle=handle, label=label)
    if contact.code_hash is None or contact.code_expires_at is None:
        raise ConflictError(
            f"no code was sent to {label!r}: send one with `vigil people verify`", field="code"
        )
    if contact.code_expires_at < utcnow() or contact.code_attempts >= _CODE_TRIES:
        raise ConflictError(
            "the code has expired or was tried too often; send a new one", field="code"
        )
    if not hmac.compare_digest(contact.code_hash, _code_hash(settings, contact.id, code.strip())):
        contact.code_attempts += 1
        left = _CODE_TRIES - contact.code_attempts
        session.flush()
        raise ValidationError(f"code: not the code that was sent ({left} tries left)", field="code")
    contact.verified_at = utcnow()
    contact.code_hash = None
    contact.code_expires_at = None
    session.flush()
    return contact


def add_rule(
    *,
    session: Session,
    handle: str,
    urgency: str,
    contact: str,
    delay_minutes: float = 0,
    repeat_minutes: float = 0,
) -> NotificationRule:
    """For ``urgency`` pages, use ``contact`` after ``delay_minutes``, repeating every
    ``repeat_minutes`` (0: once) until the incident is acknowledged."""
    if urgency not in URGENCIES:
        raise ValidationError(f"urgency {urgency!r} is not one of: high, low", field="urgency")
    method = get_contact(session=session, handle=handle, label=contact)
    for value, field in ((delay_minutes, "delay_minutes"), (repeat_minutes, "repeat_minutes")):
        if not 0 <= value <= 1440:
            raise ValidationError(f"{field}: 0 to 1440 minutes", field=field)
    if 0 < repeat_minutes < 1:
        raise ValidationError("repeat_minutes: 0 (once) or at least 1", field="repeat_minutes")
    rule = NotificationRule(
        person_id=method.person_id,
        contact_id=method.id,
        urgency=urgency,
        delay_seconds=int(delay_minutes * 60),
        repeat_seconds=int(repeat_minutes * 60),
    )
    session.add(rule)
    session.flush()
    return rule


def list_rules(*, session: Session, handle: str) -> list[tuple[NotificationRule, ContactMethod]]:
    """A person's rules with their contact methods, by urgency and delay."""
    person = get_person(session=session, handle=handle)
    rows = session.execute(
        select(NotificationRule, ContactMethod)
        .join(ContactMethod, ContactMethod.id == NotificationRule.contact_id)
        .where(NotificationRule.person_id == person.id)
        .order_by(NotificationRule.urgency, NotificationRule.delay_seconds, NotificationRule.id)
    ).all()
    return [(r, c) for r, c in rows]


def remove_rule(*, session: Session, handle: str, rule_id: int) -> None:
    """Remove one of a person's rules."""
    person = get_person(session=session, handle=handle)
    rule = session.get(NotificationRule, rule_id)
    if rule is None or rule.person_id != person.id:
        raise NotFoundError(f"{person.handle} has no rule {rule_id}", field="rule_id")
    session.delete(rule)
    session.flush()


def create_person_token(
    *, session: Session, handle: str, name: str, scopes: Sequence[str]
) -> tuple[Any, str]:
    """A token that belongs to ``handle``: writes with it are recorded as that person."""
    person = get_person(session=session, handle=handle)
    return create_token(session=session, name=name, scopes=scopes, person=person.handle)


def ensure_first_admin(*, session: Session, handle: str = "admin") -> str | None:
    """Give a new installation an admin who can log in; return the password (shown once).

    Nothing happens once anyone can log in. The person ``handle`` is added if missing."""
    if account_count(session=session):
        return None
    if session.execute(select(Person.id).where(Person.handle == handle)).scalar() is None:
        add_person(session=session, handle=handle, name="Administrator")
    password = secrets.token_urlsafe(15)
    set_password(session=session, handle=handle, password=password, role="admin")
    return password
