"""Maintenance windows: failures inside one are recorded but open no incident."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.errors import NotFoundError, ValidationError
from vigil.ingest.models import MaintenanceWindow
from vigil.validation import as_instant

if TYPE_CHECKING:
    from vigil.ingest.signals import Signal

__all__ = [
    "active_windows",
    "covering_window",
    "create_window",
    "delete_window",
    "list_windows",
    "suppressing_window",
]


def create_window(
    *,
    session: Session,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    actor: str,
    resource: str | None = None,
    match_labels: dict[str, str] | None = None,
    reason: str = "",
) -> MaintenanceWindow:
    """Create a window for ``resource`` (glob) and/or labels; one of them is required."""
    starts_at, ends_at = as_instant(starts_at), as_instant(ends_at)
    if ends_at <= starts_at:
        raise ValidationError("ends_at must be after starts_at", field="ends_at")
    if not resource and not match_labels:
        raise ValidationError("give a resource pattern or labels to match", field="resource")
    window = MaintenanceWindow(
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        resource=resource,
        match_labels=match_labels or {},
        reason=reason,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(window)
    session.flush()
    return window


def list_windows(*, session: Session, include_past: bool = False) -> Sequence[MaintenanceWindow]:
    """Return windows that have not ended (or all), soonest first."""
    stmt = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at)
    if not include_past:
        stmt = stmt.where(MaintenanceWindow.ends_at > utcnow())
    return session.execute(stmt).scalars().all()


def delete_window(*, session: Session, window_id: int) -> None:
    """Remove a window."""
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFoundError(f"maintenance window {window_id} does not exist")
    session.delete(window)
    session.flush()


def active_windows(*, session: Session, now: dt.datetime) -> Sequence[MaintenanceWindow]:
    """Return the windows in force at ``now``."""
    stmt = select(MaintenanceWindow).where(
        MaintenanceWindow.starts_at <= now, MaintenanceWindow.ends_at > now
    )
    return session.execute(stmt).scalars().all()


def covering_window(
    windows: Sequence[MaintenanceWindow], resource: str | None, labels: Mapping[str, str]
) -> MaintenanceWindow | None:
    """Return the first window that covers ``resource`` and ``labels``, if any."""
    for window in windows:
        if window.resource and not fnmatchcase(resource or "", window.resource):
            continue
        if any(labels.get(k) != v for k, v in window.match_labels.items()):
            continue
        return window
    return None


def suppressing_window(
    windows: Sequence[MaintenanceWindow], sig: Signal
) -> MaintenanceWindow | None:
    """Return the first window that covers ``sig``'s resource and labels, if any."""
    return covering_window(windows, sig.resource, sig.labels)
