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
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from vigil.analytics.downtime import group_by_resource, pending_intervals
from vigil.analytics.intervals import clip, merge
from vigil.analytics.models import ResourceDowntime, ResourceObservation
from vigil.errors import ValidationError
from vigil.incidents.schemas import as_utc

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


_D = ResourceDowntime
_LO: Any = bindparam("lo")
_HI: Any = bindparam("hi")
_CLIPPED_END = case((_D.end_s.is_(None) | (_D.end_s > _HI), _HI), else_=_D.end_s)
_CLIPPED_START = case((_D.start_s < _LO, _LO), else_=_D.start_s)
_AGGREGATES = (
    select(
        _D.resource,
        func.count(),
        func.sum(_CLIPPED_END - _CLIPPED_START),
        func.sum(case((_D.start_s > _LO, 1), else_=0)),
        func.min(_D.start_s),
        func.max(_D.start_s),
        func.min(_CLIPPED_END),
        func.max(_CLIPPED_END),
    )
    .where(_D.start_s < _HI, _D.end_s.is_(None) | (_D.end_s > _LO))
    .group_by(_D.resource)
)


def _stored(session: Session, stmt: Any, resources: Sequence[str] | None, **params: Any) -> Any:
    if resources:
        stmt = stmt.where(stmt.selected_columns[0].in_(resources))
    return session.execute(stmt, params).all()


def availability_by_resource(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    target_percent: float = 99.0,
    resources: Sequence[str] | None = None,
) -> list[ResourceAvailability]:
    """Compute availability for every resource observed before ``end`` (or ``resources``).

    Stored intervals are aggregated in SQL (a handful of rows per resource); resources with
    changes the stored intervals do not have yet are completed in memory from the logs.
    """
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValidationError("the window end must be after its start", field="end")
    if not 0 < target_percent <= 100:
        raise ValidationError("target_percent must be in (0, 100]", field="target_percent")
    lo, hi = start.timestamp(), end.timestamp()
    pending = pending_intervals(session=session)
    first_seen = dict(
        _stored(
            session,
            select(ResourceObservation.resource, ResourceObservation.first_seen_s),
            resources,
        )
    )
    for r, t in pending.first_seen.items():
        if t is None:
            first_seen.pop(r, None)
        elif not resources or r in resources:
            first_seen[r] = t
    aggregates = {row[0]: row[1:] for row in _stored(session, _AGGREGATES, resources, lo=lo, hi=hi)}
    stale = {r: since for r, since in pending.since.items() if r in first_seen}
    kept: dict[str, list[tuple[float, float]]] = {r: [] for r in stale}
    if stale:
        rows = session.execute(
            select(_D.resource, _D.start_s, _D.end_s).where(
                _D.resource.in_(stale), _D.start_s < hi, _D.end_s.is_(None) | (_D.end_s > lo)
            )
        ).all()
        for resource, intervals in group_by_resource(rows).items():
            kept[resource] = [iv for iv in intervals if iv[0] < stale[resource]]
    out = []
    for resource in sorted(first_seen):
        seen = first_seen[resource]
        if seen >= hi:
            continue
        observed_from = max(seen, lo)
        if resource in stale:
            intervals = kept[resource] + pending.tails[resource]
            out.append(_result(resource, start, end, observed_from, intervals, target_percent))
        else:
            out.append(
                _from_aggregates(
                    resource, start, end, seen, aggregates.get(resource), target_percent
                )
            )
    return out


def _availability(
    resource: str,
    start: dt.datetime,
    end: dt.datetime,
    observed_from: float,
    downtime: float,
    failures: int,
    mtbf: float | None,
    target_percent: float,
) -> ResourceAvailability:
    observed = end.timestamp() - observed_from
    uptime = observed - downtime
    percent = 100.0 * uptime / observed if observed > 0 else None
    budget = (1 - target_percent / 100) * observed
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
        failures=failures,
        mtbf_seconds=mtbf,
    )


def _from_aggregates(
    resource: str,
    start: dt.datetime,
    end: dt.datetime,
    first_seen: float,
    agg: Any,
    target_percent: float,
) -> ResourceAvailability:
    """Availability from SQL aggregates over disjoint stored intervals.

    With intervals I1..In in order, clipped to the window: the gaps between them sum to
    (start of In − end of I1) − (downtime − |I1| − |In|); the earliest start is I1's and the
    latest end In's, because stored intervals never overlap.
    """
    lo = start.timestamp()
    observed_from = max(first_seen, lo)
    if agg is None:
        return _availability(resource, start, end, observed_from, 0.0, 0, None, target_percent)
    n, downtime, after_lo, min_start, max_start, first_end, last_end = agg
    # An interval that starts when observation does is not a failure that happened.
    failures = after_lo - (1 if min_start == first_seen and min_start > lo else 0)
    mtbf = None
    if n >= 2:
        first_start, last_start = max(min_start, lo), max(max_start, lo)
        inner = downtime - (first_end - first_start) - (last_end - last_start)
        mtbf = ((last_start - first_end) - inner) / (n - 1)
    return _availability(
        resource, start, end, observed_from, downtime, failures, mtbf, target_percent
    )


def _result(
    resource: str,
    start: dt.datetime,
    end: dt.datetime,
    observed_from: float,
    intervals: list[tuple[float, float]],
    target_percent: float,
) -> ResourceAvailability:
    merged = merge(clip(intervals, observed_from, end.timestamp()))
    gaps = [b[0] - a[1] for a, b in pairwise(merged)]
    return _availability(
        resource,
        start,
        end,
        observed_from,
        sum(b - a for a, b in merged),
        sum(1 for a, _ in merged if a > observed_from),
        sum(gaps) / len(gaps) if gaps else None,
        target_percent,
    )
