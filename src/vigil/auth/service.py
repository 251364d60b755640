"""API tokens: create, authenticate, list, revoke.

Tokens are 256-bit random strings, so a plain SHA-256 of the token is a safe
stored form (no salt or slow hash is needed against guessing).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.auth.models import ApiToken, Integration
from vigil.db import utcnow
from vigil.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from vigil.validation import require_one_of

__all__ = [
    "FEED_SCOPE",
    "SCOPES",
    "Principal",
    "authenticate",
    "count_active_tokens",
    "create_token",
    "hash_token",
    "list_tokens",
    "require_scope",
    "revoke_token",
]

SCOPES: tuple[str, ...] = ("read", "write", "admin")
#: A calendar feed key reads the iCalendar feed and nothing else. Calendar apps can only
#: send a credential inside the feed URL, so this is the one credential accepted there.
FEED_SCOPE = "calendar"
#: A scope grants itself and everything to its left; the feed scope grants only itself.
_IMPLIED = {
    "read": {"read"},
    "write": {"read", "write"},
    "admin": {"read", "write", "admin"},
    FEED_SCOPE: {FEED_SCOPE},
}
TOKEN_PREFIX = "vgl_"
FEED_KEY_PREFIX = "vgc_"


@dataclass(frozen=True)
class Principal:
    """Who is calling and what they may do."""

    name: str  # the actor the timeline names: the token's person, else the token's name
    scopes: frozenset[str]
    token: str = ""


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    *, session: Session, name: str, scopes: Sequence[str], person: str | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown only this once.

    A token of a ``person`` (a handle, checked by the caller) writes in that person's name."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("token name must be 1 to 100 characters", field="name")
    wanted = [s.strip().lower() for s in scopes if s.strip()] or ["read"]
    for scope in wanted:
        require_one_of(scope, (*SCOPES, FEED_SCOPE), field="scope")
    if FEED_SCOPE in wanted and len(set(wanted)) > 1:
        raise ValidationError(
            f"a {FEED_SCOPE!r} key reads the calendar feed only; create it without other scopes",
            field="scope",
        )
    if session.execute(select(ApiToken.id).where(ApiToken.name == name)).first():
        raise ConflictError(f"a token named {name!r} already exists; pick another name")
    prefix = FEED_KEY_PREFIX if FEED_SCOPE in wanted else TOKEN_PREFIX
    secret = prefix + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        scopes=sorted(set(wanted), key=(*SCOPES, FEED_SCOPE).index),
        person=person,
        created_at=utcnow(),
    )
    session.add(token)
    session.flush()
    return token, secret


def authenticate(*, session: Session, secret: str) -> Principal:
    """Return the principal behind a bearer token, or raise AuthError."""
    token = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        key = session.execute(
            select(Integration.name, Integration.kind).where(
                Integration.key_hash == hash_token(secret), Integration.revoked_at.is_(None)
            )
        ).first()
        if key is not None:
            raise PermissionDeniedError(
                f"this is the ingestion key of the {key.kind} integration {key.name!r}: it can "
                "only send events; read and change incidents with an API token "
                "(`vigil token create`)"
            )
        raise AuthError("the bearer token is unknown or revoked")
    granted: set[str] = set()
    for scope in token.scopes:
        granted |= _IMPLIED.get(scope, set())
    return Principal(name=token.person or token.name, scopes=frozenset(granted), token=token.name)


def require_scope(principal: Principal, scope: str) -> None:
    """Raise PermissionDeniedError unless ``principal`` holds ``scope``."""
    if scope not in principal.scopes:
        raise PermissionDeniedError(
            f"token {principal.token or principal.name!r} lacks the {scope!r} scope "
            f"(it has: {', '.join(sorted(principal.scopes)) or 'none'})"
        )


def list_tokens(*, session: Session, include_revoked: bool = False) -> Sequence[ApiToken]:
    """Return tokens, oldest first."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return session.execute(stmt).scalars().all()


def count_active_tokens(*, session: Session) -> int:
    """Return how many unrevoked tokens exist."""
    stmt = select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
    return int(session.execute(stmt).scalar_one())


def revoke_token(*, session: Session, name: str) -> ApiToken:
    """Revoke the token called ``name``; it stops working at once."""
    token = session.execute(select(ApiToken).where(ApiToken.name == name)).scalar_one_or_none()
    if token is None:
        raise NotFoundError(f"no token named {name!r}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token
