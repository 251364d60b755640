"""People's logins for the web pages: passwords, roles, browser sessions, throttling.

Passwords are hashed with argon2 (pwdlib's recommended parameters). A role maps onto the
API's scopes: viewer reads, responder reads and writes, admin does everything. A browser
session is a random 256-bit cookie of which only the SHA-256 is stored, with its own CSRF
token and an absolute expiry. Failed logins are counted per account and per address over
15 minutes; past the limit, attempts are refused before the password is even checked.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import column, delete, func, select, table
from sqlalchemy.orm import Session

from vigil.auth.models import Account, LoginFailure, WebSession
from vigil.auth.service import hash_token
from vigil.db import utcnow
from vigil.errors import AuthError, NotFoundError, TooManyAttemptsError, ValidationError
from vigil.validation import require_one_of

__all__ = [
    "ROLES",
    "ROLE_SCOPES",
    "SignedIn",
    "account_count",
    "check_login",
    "end_session",
    "role_of",
    "set_password",
    "signed_in",
    "start_session",
]

ROLES = ("viewer", "responder", "admin")
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "responder": frozenset({"read", "write"}),
    "admin": frozenset({"read", "write", "admin"}),
}
MIN_PASSWORD = 10
MAX_PASSWORD = 200
THROTTLE_WINDOW = dt.timedelta(minutes=15)
_HASHER = PasswordHash.recommended()
_PEOPLE = table("people", column("id"), column("handle"), column("name"))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person behind a browser session."""

    handle: str
    name: str
    role: str
    csrf_token: str

    @property
    def scopes(self) -> frozenset[str]:
        """The API scopes the role grants."""
        return ROLE_SCOPES[self.role]


@functools.cache
def _dummy_hash() -> str:
    """Checked when the account does not exist, so a wrong handle costs as long as a wrong
    password (made on first use: hashing is deliberately slow, and most commands never log in)."""
    return _HASHER.hash("not a password anyone has")


def _person_id(session: Session, handle: str) -> int | None:
    found = session.execute(select(_PEOPLE.c.id).where(_PEOPLE.c.handle == handle)).scalar()
    return int(found) if found is not None else None


def set_password(*, session: Session, handle: str, password: str, role: str | None = None) -> str:
    """Give a person a password (and a role, default viewer for a new login); return the role."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(
            f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long",
            field="password",
        )
    if role is not None:
        role = require_one_of(role.strip().lower(), ROLES, field="role")
    person_id = _person_id(session, handle)
    if person_id is None:
        raise NotFoundError(f"person {handle!r} does not exist; add them first", field="handle")
    account = session.get(Account, person_id)
    if account is None:
        account = Account(person_id=person_id, role=role or "viewer")
        session.add(account)
    elif role is not None:
        account.role = role
    account.password_hash = _HASHER.hash(password)
    account.updated_at = utcnow()
    # A new password signs the person out everywhere.
    session.execute(delete(WebSession).where(WebSession.person_id == person_id))
    session.flush()
    return account.role


def role_of(*, session: Session, handle: str) -> str | None:
    """Return the person's role, or None if they have no login."""
    person_id = _person_id(session, handle)
    account = session.get(Account, person_id) if person_id is not None else None
    return account.role if account else None


def account_count(*, session: Session) -> int:
    """Return how many people can log in."""
    return int(session.execute(select(func.count()).select_from(Account)).scalar_one())


def _check_throttle(
    session: Session, handle: str, address: str, limit: int, now: dt.datetime
) -> None:
    since = now - THROTTLE_WINDOW
    per_account, per_address = session.execute(
        select(
            func.count().filter(LoginFailure.account == handle),
            func.count().filter(LoginFailure.address == address),
        ).where(LoginFailure.at >= since)
    ).one()
    if per_account >= limit or per_address >= 4 * limit:
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        raise TooManyAttemptsError(
            f"too many failed logins; wait up to {minutes} minutes and try again"
        )


def check_login(
    *,
    session: Session,
    handle: str,
    password: str,
    address: str,
    limit: int = 5,
    now: dt.datetime | None = None,
) -> int | None:
    """Return the person id if ``password`` is theirs, else count the failure and return None.

    A failure is written (not raised) so the caller commits it; past the limit this raises
    TooManyAttemptsError before looking at the password."""
    now = now or utcnow()
    handle = handle.strip().lower()[:50]
    address = address[:64]
    _check_throttle(session, handle, address, limit, now)
    person_id = _person_id(session, handle)
    account = session.get(Account, person_id) if person_id is not None else None
    valid = _HASHER.verify(
        password[:MAX_PASSWORD], account.password_hash if account else _dummy_hash()
    )
    if account is None or not valid:
        session.add(LoginFailure(account=handle, address=address, at=now))
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - THROTTLE_WINDOW))
        session.flush()
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.account == handle))
    return account.person_id


def start_session(
    *, session: Session, person_id: int, hours: float, now: dt.datetime | None = None
) -> str:
    """Open a browser session for a person; return the cookie value (shown only here)."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(
        WebSession(
            id_hash=hash_token(secret),
            person_id=person_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    session.flush()
    return secret


def signed_in(*, session: Session, cookie: str, now: dt.datetime | None = None) -> SignedIn:
    """Return who a session cookie belongs to, or raise AuthError if it expired or ended."""
    now = now or utcnow()
    row = session.execute(
        select(_PEOPLE.c.handle, _PEOPLE.c.name, Account.role, WebSession.csrf_token)
        .select_from(WebSession)
        .join(_PEOPLE, _PEOPLE.c.id == WebSession.person_id)
        .join(Account, Account.person_id == WebSession.person_id)
        .where(WebSession.id_hash == hash_token(cookie), WebSession.expires_at > now)
    ).one_or_none()
    if row is None:
        raise AuthError("your session has ended; log in again")
    return SignedIn(handle=row[0], name=row[1], role=row[2], csrf_token=row[3])


def end_session(*, session: Session, cookie: str) -> None:
    """Log a browser session out."""
    session.execute(delete(WebSession).where(WebSession.id_hash == hash_token(cookie)))
