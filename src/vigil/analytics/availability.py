"""Availability, SLA bands, error budget and MTBF per resource, from the state history.

For each resource and window [start, end):

* observed time starts at its first recorded status (the last change before the window, or
  the first change inside it); earlier time is **unknown**, neither up nor down;
* **down** is the union of the intervals in which any of its components had a failing status
  and of its incidents' impact intervals (detected → resolved, or → end while open), clipped
  to the window, overlaps counted once;
* **up** = observed − down; availability = up / observed;
* a **failure** is a maximal down interval; ``failures`` counts those that start inside the
  observed time (a resource already down when observation starts adds none);
* **MTBF** is the mean operating time between the end of one failure and the start of the
  next, both inside the window: mean(startᵢ₊₁ − endᵢ); undefined with fewer than two failures;
* the SLA band is seed 002's: ≥ 99.9 Excellent, ≥ 99.0 Good, ≥ 95.0 Fair, else Poor; the error
  budget is (1 − target) × observed, and what remains of it after the downtime.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vigil.analytics.intervals import clip, merge
from vigil.db.base import epoch_seconds
from vigil.db.fastpath import PreparedStatement
from vigil.errors import ValidationError
from vigil.incidents.models import Incident
from vigil.incidents.schemas import as_utc
from vigil.ingest.models import ResourceStateChange

__all__ = ["ResourceAvailability", "availability_by_resource", "sla_band"]


def sla_band(percent: float | None) -> str:
    """Return seed 002's band for an availability percentage."""
    if percent is None:
        return "Unknown"
    if percent >= 99.9:
        return "Excellent"
    if percent >= 99.0:
        return "Good"
    if percent >= 95.0:
        return "Fair"
    return "Poor"


class ResourceAvailability(BaseModel):
    """Availability of one resource over a window."""

    resource: str
    start: dt.datetime
    end: dt.datetime
    observed_seconds: float
    unknown_seconds: float
    downtime_seconds: float
    uptime_seconds: float
    availability_percent: float | None
    sla_band: str
    target_percent: float
    meets_target: bool | None
    error_budget_seconds: float
    error_budget_remaining_seconds: float
    failures: int
    mtbf_seconds: float | None


def _state_rows(
    session: Session, start: dt.datetime, end: dt.datetime, resources: Sequence[str] | None
) -> Iterator[tuple[str, str, float, str]]:
    """Yield (resource, state_key, epoch seconds, health), ordered by key then time.

    Each key's last change before the window comes first, then its changes inside; the
    inside part walks the (state_key, at) index, so nothing is sorted.
    """
    t = ResourceStateChange
    conn = session.connection()
    before = (
        select(t.state_key, func.max(t.at).label("at"))
        .where(t.at < start)
        .group_by(t.state_key)
        .subquery()
    )
    cols = (t.resource, t.state_key, epoch_seconds(t.at), t.health)
    initial = select(*cols).join(
        before, (t.state_key == before.c.state_key) & (t.at == before.c.at)
    )
    inside = select(*cols).where(t.at >= start, t.at < end).order_by(t.state_key, t.at)
    if resources:
        initial = initial.where(t.resource.in_(resources))
        inside = inside.where(t.resource.in_(resources))
    first = {row[1]: row for row in PreparedStatement(initial).execute(conn, {})}
    # Rows straight from the driver: this loop sees every change in the window.
    for row in PreparedStatement(inside).execute(conn, {}):
        head = first.pop(row[1], None)
        if head is not None:
            yield head
        yield row
    yield from first.values()


def _incident_rows(
    session: Session, start: dt.datetime, end: dt.datetime, resources: Sequence[str] | None
) -> Any:
    stmt = select(
        Incident.resource, epoch_seconds(Incident.detected_at), epoch_seconds(Incident.resolved_at)
    ).where(
        Incident.resource.is_not(None),
        Incident.detected_at < end,
        or_(Incident.resolved_at.is_(None), Incident.resolved_at > start),
    )
    if resources:
        stmt = stmt.where(Incident.resource.in_(resources))
    return PreparedStatement(stmt).execute(session.connection(), {})


def _incident_first_seen(
    session: Session, end: dt.datetime, resources: Sequence[str] | None
) -> Any:
    stmt = (
        select(Incident.resource, epoch_seconds(func.min(Incident.detected_at)))
        .where(Incident.resource.is_not(None), Incident.detected_at < end)
        .group_by(Incident.resource)
    )
    if resources:
        stmt = stmt.where(Incident.resource.in_(resources))
    return PreparedStatement(stmt).execute(session.connection(), {})


def availability_by_resource(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    target_percent: float = 99.0,
    resources: Sequence[str] | None = None,
) -> list[ResourceAvailability]:
    """Compute availability for every resource seen in the state history (or ``resources``).

    One ordered pass over the state changes; times are epoch seconds (millisecond precision).
    """
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValidationError("the window end must be after its start", field="end")
    if not 0 < target_percent <= 100:
        raise ValidationError("target_percent must be in (0, 100]", field="target_percent")
    lo, hi = start.timestamp(), end.timestamp()
    first_seen: dict[str, float] = {}
    down: dict[str, list[tuple[float, float]]] = defaultdict(list)
    key: str | None = None
    resource = ""
    since, failing = 0.0, False
    for row_resource, row_key, ts, health in _state_rows(session, start, end, resources):
        if row_key != key:
            if key is not None and failing:
                down[resource].append((since, hi))
            key, resource, failing = row_key, row_resource, False
            seen = ts if ts > lo else lo
            if seen < first_seen.get(resource, hi + 1):
                first_seen[resource] = seen
        elif failing:
            down[resource].append((since, ts))
        since, failing = (ts if ts > lo else lo), health == "failing"
    if key is not None and failing:
        down[resource].append((since, hi))
    for inc_resource, detected, resolved in _incident_rows(session, start, end, resources):
        down[inc_resource].append((detected, resolved if resolved is not None else hi))
    # An incident, even one over before the window, is an observation of its resource.
    for inc_resource, detected in _incident_first_seen(session, end, resources):
        seen = max(detected, lo)
        if seen < first_seen.get(inc_resource, hi + 1):
            first_seen[inc_resource] = seen
    return [
        _result(r, start, end, first_seen[r], down[r], target_percent) for r in sorted(first_seen)
    ]


def _result(
    resource: str,
    start: dt.datetime,
    end: dt.datetime,
    observed_from: float,
    intervals: list[tuple[float, float]],
    target_percent: float,
) -> ResourceAvailability:
    hi = end.timestamp()
    observed = hi - observed_from
    merged = merge(clip(intervals, observed_from, hi))
    downtime = sum(b - a for a, b in merged)
    uptime = observed - downtime
    percent = 100.0 * uptime / observed if observed > 0 else None
    budget = (1 - target_percent / 100) * observed
    gaps = [b[0] - a[1] for a, b in pairwise(merged)]
    return ResourceAvailability(
        resource=resource,
        start=start,
        end=end,
        observed_seconds=observed,
        unknown_seconds=observed_from - start.timestamp(),
        downtime_seconds=downtime,
        uptime_seconds=uptime,
        availability_percent=percent,
        sla_band=sla_band(percent),
        target_percent=target_percent,
        meets_target=None if percent is None else percent >= target_percent,
        error_budget_seconds=budget,
        error_budget_remaining_seconds=budget - downtime,
        failures=sum(1 for a, _ in merged if a > observed_from),
        mtbf_seconds=sum(gaps) / len(gaps) if gaps else None,
    )
