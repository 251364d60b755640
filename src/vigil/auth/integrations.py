"""Integration keys: credentials that can only send events."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.models import Integration
from vigil.auth.service import hash_token
from vigil.db import utcnow
from vigil.errors import AuthError, ConflictError, NotFoundError, ValidationError
from vigil.validation import require_one_of

__all__ = [
    "KINDS",
    "RECEIVER_PATHS",
    "authenticate_integration",
    "create_integration",
    "list_integrations",
    "remove_integration",
    "rotate_integration",
]

#: What an integration sends; each receiver accepts only keys of its own kind.
KINDS: tuple[str, ...] = ("events", "pagerduty", "alertmanager", "grafana", "heartbeat")

#: Which integration kind each receiver accepts (API tokens with write scope: any).
RECEIVER_PATHS = {
    "events": "/api/v1/events",
    "pagerduty": "/v2/enqueue",
    "alertmanager": "/api/v1/integrations/alertmanager",
    "grafana": "/api/v1/integrations/grafana",
    "heartbeat": "/api/v1/heartbeats/{name}/beat",
}


def _new_key() -> str:
    # 32 hex characters: the length PagerDuty routing keys have, so PagerDuty clients accept it.
    return secrets.token_hex(16)


def create_integration(
    *, session: Session, name: str, kind: str = "events"
) -> tuple[Integration, str]:
    """Create an integration and return it with its key (shown only this once)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("integration name must be 1 to 100 characters", field="name")
    kind = require_one_of(kind.strip().lower(), KINDS, field="kind")
    if session.execute(select(Integration.id).where(Integration.name == name)).first():
        raise ConflictError(f"an integration named {name!r} already exists")
    key = _new_key()
    integration = Integration(
        name=name, kind=kind, key_hash=hash_token(key), key_prefix=key[:6], created_at=utcnow()
    )
    session.add(integration)
    session.flush()
    return integration, key


def _get(session: Session, name: str) -> Integration:
    integration = session.execute(
        select(Integration).where(Integration.name == name)
    ).scalar_one_or_none()
    if integration is None or integration.revoked_at is not None:
        raise NotFoundError(f"no integration named {name!r}")
    return integration


def rotate_integration(*, session: Session, name: str) -> tuple[Integration, str]:
    """Replace an integration's key; the old key stops working."""
    integration = _get(session, name)
    key = _new_key()
    integration.key_hash = hash_token(key)
    integration.key_prefix = key[:6]
    integration.rotated_at = utcnow()
    session.flush()
    return integration, key


def remove_integration(*, session: Session, name: str) -> Integration:
    """Revoke an integration; its key stops working (its events stay)."""
    integration = _get(session, name)
    integration.revoked_at = utcnow()
    # The name is freed for a new integration; the suffix must fit the 100-character column.
    suffix = f" (removed {integration.id})"
    integration.name = integration.name[: 100 - len(suffix)] + suffix
    session.flush()
    return integration


def list_integrations(*, session: Session) -> Sequence[Integration]:
    """Return active integrations."""
    stmt = select(Integration).where(Integration.revoked_at.is_(None)).order_by(Integration.id)
    return session.execute(stmt).scalars().all()


def authenticate_integration(*, session: Session, key: str) -> Integration:
    """Return the active integration owning ``key``, or raise AuthError."""
    integration = session.execute(
        select(Integration).where(Integration.key_hash == hash_token(key))
    ).scalar_one_or_none()
    if integration is None or integration.revoked_at is not None:
        raise AuthError("the integration key is unknown or removed")
    return integration
