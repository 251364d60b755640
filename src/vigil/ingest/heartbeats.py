"""Heartbeats: a resource that stops checking in gets an incident; checking in resolves it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.db import utcnow
from vigil.errors import ConflictError, NotFoundError
from vigil.incidents import normalize_severity
from vigil.ingest.models import Heartbeat
from vigil.ingest.service import ingest_signals
from vigil.ingest.signals import Outcome, Signal

__all__ = ["beat", "check_heartbeats", "create_heartbeat", "list_heartbeats", "remove_heartbeat"]

#: Advisory lock id so only one process runs a heartbeat check at a time on PostgreSQL.
_CHECK_LOCK = 0x76696731


def create_heartbeat(
    *,
    session: Session,
    name: str,
    interval_seconds: int,
    grace_seconds: int = 0,
    resource: str | None = None,
    severity: str = "high",
) -> Heartbeat:
    """Register a heartbeat; the first check-in is due one interval (plus grace) from now."""
    if session.execute(select(Heartbeat.id).where(Heartbeat.name == name)).first():
        raise ConflictError(f"a heartbeat named {name!r} already exists")
    hb = Heartbeat(
        name=name,
        resource=resource or name,
        interval_seconds=interval_seconds,
        grace_seconds=grace_seconds,
        severity=normalize_severity(severity),
        created_at=utcnow(),
    )
    session.add(hb)
    session.flush()
    return hb


def _get(session: Session, name: str) -> Heartbeat:
    hb = session.execute(select(Heartbeat).where(Heartbeat.name == name)).scalar_one_or_none()
    if hb is None:
        raise NotFoundError(f"no heartbeat named {name!r}")
    return hb


def list_heartbeats(*, session: Session) -> Sequence[Heartbeat]:
    """Return every heartbeat."""
    return session.execute(select(Heartbeat).order_by(Heartbeat.name)).scalars().all()


def remove_heartbeat(*, session: Session, name: str) -> None:
    """Stop expecting a heartbeat."""
    session.delete(_get(session, name))
    session.flush()


def _signal(hb: Heartbeat, *, ok: bool, at: dt.datetime, sender: str) -> Signal:
    return Signal(
        resource=hb.resource,
        component=hb.component,
        status="ok" if ok else "missing",
        health="ok" if ok else "failing",
        occurred_at=at,
        source="heartbeat",
        sender=sender,
        dedup_key=f"heartbeat:{hb.name}",
        severity=hb.severity,
        summary=f"heartbeat {hb.name!r} "
        + ("received" if ok else f"missing for over {hb.interval_seconds + hb.grace_seconds} s"),
    )


def beat(*, session: Session, settings: Settings, name: str, sender: str) -> Outcome:
    """Record a check-in; resolves the heartbeat's incident if it was missing."""
    hb = _get(session, name)
    now = utcnow()
    hb.last_beat_at = now
    was_missing, hb.missing = hb.missing, False
    session.flush()
    if not was_missing:
        return Outcome("recorded")
    return ingest_signals(
        session=session, settings=settings, signals=[_signal(hb, ok=True, at=now, sender=sender)]
    )[0]


def check_heartbeats(
    *, session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[Outcome]:
    """Open incidents for heartbeats past due; returns nothing if another process is checking."""
    if session.get_bind().dialect.name == "postgresql":
        got = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _CHECK_LOCK}
        ).scalar()
        if not got:
            return []
    now = now or utcnow()
    due = []
    for hb in session.execute(select(Heartbeat).where(Heartbeat.missing.is_(False))).scalars():
        last = hb.last_beat_at or hb.created_at
        if now - last > dt.timedelta(seconds=hb.interval_seconds + hb.grace_seconds):
            hb.missing = True
            due.append(_signal(hb, ok=False, at=now, sender="heartbeat-checker"))
    session.flush()
    return ingest_signals(session=session, settings=settings, signals=due) if due else []
