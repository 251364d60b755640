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
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vigil.analytics.intervals import Interval, clip, merge, total_seconds
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
) -> list[tuple[str, str, dt.datetime, str]]:
    t = ResourceStateChange
    before = (
        select(t.state_key, func.max(t.at).label("at"))
        .where(t.at < start)
        .group_by(t.state_key)
        .subquery()
    )
    initial = select(t.resource, t.state_key, t.at, t.health).join(
        before, (t.state_key == before.c.state_key) & (t.at == before.c.at)
    )
    inside = select(t.resource, t.state_key, t.at, t.health).where(t.at >= start, t.at < end)
    if resources:
        initial = initial.where(t.resource.in_(resources))
        inside = inside.where(t.resource.in_(resources))
    rows: list[Any] = [tuple(r) for r in session.execute(initial.union_all(inside))]
    return sorted(rows, key=lambda r: (r[0], r[1], r[2]))


def _incident_rows(
    session: Session, start: dt.datetime, end: dt.datetime, resources: Sequence[str] | None
) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    stmt = select(Incident.resource, Incident.detected_at, Incident.resolved_at).where(
        Incident.resource.is_not(None),
        Incident.detected_at < end,
        or_(Incident.resolved_at.is_(None), Incident.resolved_at > start),
    )
    if resources:
        stmt = stmt.where(Incident.resource.in_(resources))
    rows: list[Any] = [tuple(r) for r in session.execute(stmt)]
    return rows


def availability_by_resource(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    target_percent: float = 99.0,
    resources: Sequence[str] | None = None,
) -> list[ResourceAvailability]:
    """Compute availability for every resource seen in the state history (or ``resources``)."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValidationError("the window end must be after its start", field="end")
    if not 0 < target_percent <= 100:
        raise ValidationError("target_percent must be in (0, 100]", field="target_percent")
    first_seen: dict[str, dt.datetime] = {}
    down: dict[str, list[Interval]] = defaultdict(list)
    current: dict[str, tuple[dt.datetime, str]] = {}
    for resource, key, at, health in _state_rows(session, start, end, resources):
        seen_at = max(at, start)
        if resource not in first_seen or seen_at < first_seen[resource]:
            first_seen[resource] = seen_at
        previous = current.get(key)
        if previous is not None and previous[1] == "failing":
            down[resource].append((previous[0], at))
        current[key] = (max(at, start), health)
    for key, (since, health) in current.items():
        if health == "failing":
            down[key.split("\x1f", 1)[0]].append((since, end))
    for resource, detected, resolved in _incident_rows(session, start, end, resources):
        down[resource].append((detected, resolved or end))
        detected_c = max(detected, start)
        if resource not in first_seen or detected_c < first_seen[resource]:
            first_seen[resource] = detected_c
    results = []
    for resource in sorted(first_seen):
        observed_from = first_seen[resource]
        observed = (end - observed_from).total_seconds()
        intervals = merge(clip(down[resource], observed_from, end))
        downtime = total_seconds(intervals)
        uptime = observed - downtime
        percent = 100.0 * uptime / observed if observed > 0 else None
        budget = (1 - target_percent / 100) * observed
        failures = sum(1 for a, _ in intervals if a > observed_from)
        gaps = [(b[0] - a[1]).total_seconds() for a, b in pairwise(intervals)]
        results.append(
            ResourceAvailability(
                resource=resource,
                start=start,
                end=end,
                observed_seconds=observed,
                unknown_seconds=(observed_from - start).total_seconds(),
                downtime_seconds=downtime,
                uptime_seconds=uptime,
                availability_percent=percent,
                sla_band=sla_band(percent),
                target_percent=target_percent,
                meets_target=None if percent is None else percent >= target_percent,
                error_budget_seconds=budget,
                error_budget_remaining_seconds=budget - downtime,
                failures=failures,
                mtbf_seconds=sum(gaps) / len(gaps) if gaps else None,
            )
        )
    return results
