"""Availability, SLA bands, error budget and MTBF per resource, from the state history.

For each resource and window [start, end):

* observed time starts at its first recorded status (the last change before the window, or
  the first change inside it); earlier time is **unknown**, neither up nor down;
* **down** is the union of the intervals in which any of its components had a failing status
  and of its incidents' impact intervals (detected → resolved, or → end while open), clipped
  to the window, overlaps counted once;
* **up** = observed − down; availability = up / observed;
* a **failure** is a maximal down interval; ``failures`` counts those that start inside the
  window, including one that starts with the resource's first recorded status (a resource
  first seen failing did fail); a resource already down when the window opens adds none;
* **MTBF** is the mean operating time between the end of one failure and the start of the
  next, both inside the window: mean(startᵢ₊₁ − endᵢ); undefined with fewer than two failures;
* **planned** time is what maintenance windows naming the resource (a glob) cover of its
  observed time; unless asked otherwise it is left out of the SLA: availability, the band and
  the error budget are computed on observed − planned, with the downtime inside the windows
  not counted (both figures are reported apart: ``maintenance_seconds``,
  ``maintenance_downtime_seconds``; ``downtime_seconds`` stays all of it);
* the SLA band: ≥ 99.9 Excellent, ≥ 99.0 Good, ≥ 95.0 Fair, else Poor; the error
  budget is (1 − target) × observed, and what remains of it after the downtime.

The down intervals come stored per resource (``vigil.analytics.downtime``) and are summed in
SQL; resources whose newest changes are not stored yet are completed in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from vigil.analytics.downtime import pending_intervals
from vigil.analytics.intervals import clip, merge
from vigil.analytics.models import ResourceDowntime, ResourceObservation
from vigil.db import PreparedStatement
from vigil.errors import ValidationError
from vigil.ingest import MaintenanceWindow
from vigil.validation import as_instant

__all__ = ["PARTLY_OBSERVED_BELOW", "ResourceAvailability", "availability_by_resource", "sla_band"]

#: A resource observed for less of the window than this (percent) is marked as partly observed.
PARTLY_OBSERVED_BELOW = 50.0


def sla_band(percent: float | None) -> str:
    """Return the SLA band for an availability percentage."""
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
    maintenance_seconds: float = 0.0
    maintenance_downtime_seconds: float = 0.0
    observed_percent: float = Field(
        default=100.0, description="How much of the window the resource was observed for."
    )
    partly_observed: bool = Field(
        default=False,
        description=f"Observed for less than {PARTLY_OBSERVED_BELOW:g} % of the window: its "
        "figures say little, and rankings leave it out.",
    )


_D = ResourceDowntime
_LO: Any = bindparam("lo")
_HI: Any = bindparam("hi")
_CLIPPED_END = case((_D.end_s.is_(None) | (_D.end_s > _HI), _HI), else_=_D.end_s)
_CLIPPED_START = case((_D.start_s < _LO, _LO), else_=_D.start_s)
_AGG_COLUMNS = (
    func.count(),
    func.sum(_CLIPPED_END - _CLIPPED_START),
    func.sum(case((_D.start_s > _LO, 1), else_=0)),
    func.min(_D.start_s),
    func.max(_D.start_s),
    func.min(_CLIPPED_END),
    func.max(_CLIPPED_END),
)
_IN_WINDOW = (_D.start_s < _HI, _D.end_s.is_(None) | (_D.end_s > _LO))
_AGGREGATES = select(_D.resource, *_AGG_COLUMNS).where(*_IN_WINDOW).group_by(_D.resource)
# The stored part of a resource whose later intervals are being recomputed.
_AGGREGATE_BEFORE = PreparedStatement(
    select(*_AGG_COLUMNS).where(
        *_IN_WINDOW, _D.resource == bindparam("resource"), _D.start_s < bindparam("since")
    )
)


@dataclass
class _Summary:
    """Disjoint intervals in order, clipped to [observed_from, end): what availability needs."""

    n: int = 0
    downtime: float = 0.0
    failures: int = 0
    first: tuple[float, float] = (0.0, 0.0)
    last: tuple[float, float] = (0.0, 0.0)
    gaps: float = 0.0  # sum of the up time between consecutive intervals

    @classmethod
    def of(
        cls, merged: list[tuple[float, float]], observed_from: float, first_seen: float
    ) -> _Summary:
        if not merged:
            return cls()
        # Down from the first recorded status, seen inside the window: that is a failure.
        at_first_sight = merged[0][0] == observed_from == first_seen
        return cls(
            n=len(merged),
            downtime=sum(b - a for a, b in merged),
            failures=sum(1 for a, _ in merged if a > observed_from) + at_first_sight,
            first=merged[0],
            last=merged[-1],
            gaps=sum(b[0] - a[1] for a, b in pairwise(merged)),
        )

    @classmethod
    def from_sql(cls, agg: Any, lo: float, first_seen: float) -> _Summary:
        """From SQL aggregates over stored intervals, which never overlap.

        With I1..In in order: the earliest start and end are I1's, the latest In's, and the
        gaps sum to (start of In − end of I1) − (downtime − |I1| − |In|).
        """
        n, downtime, after_lo, min_start, max_start, first_end, last_end = agg
        if not n:
            return cls()
        first = (max(min_start, lo), first_end)
        last = (max(max_start, lo), last_end)
        inner = downtime - (first[1] - first[0]) - (last[1] - last[0])
        return cls(
            n=n,
            downtime=downtime,
            # ``after_lo`` counts starts after the window opens; one at its very start counts
            # too when that is the resource's first recorded status (first seen failing).
            failures=after_lo + (1 if min_start == first_seen == lo else 0),
            first=first,
            last=last,
            gaps=(last[0] - first[1]) - inner if n >= 2 else 0.0,
        )

    def then(self, later: _Summary) -> _Summary:
        """This sequence followed by ``later``, which starts after this one ends."""
        if not self.n or not later.n:
            return later if not self.n else self
        return _Summary(
            n=self.n + later.n,
            downtime=self.downtime + later.downtime,
            failures=self.failures + later.failures,
            first=self.first,
            last=later.last,
            gaps=self.gaps + later.gaps + (later.first[0] - self.last[1]),
        )


def _stored(session: Session, stmt: Any, resources: Sequence[str] | None, **params: Any) -> Any:
    if resources:
        stmt = stmt.where(stmt.selected_columns[0].in_(resources))
    return session.execute(stmt, params).all()


def _planned_windows(session: Session, lo: float, hi: float) -> list[tuple[str, float, float]]:
    """Maintenance windows naming resources (a glob) that overlap [lo, hi), as seconds."""
    w = MaintenanceWindow
    start, end = dt.datetime.fromtimestamp(lo, dt.UTC), dt.datetime.fromtimestamp(hi, dt.UTC)
    rows = session.execute(
        select(w.resource, w.starts_at, w.ends_at).where(
            w.resource.is_not(None), w.starts_at < end, w.ends_at > start
        )
    ).all()
    return [(str(g), a.timestamp(), b.timestamp()) for g, a, b in rows]


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Total length of the intersection of two sorted, disjoint interval lists."""
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        total += max(0.0, hi - lo)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _planned_time(
    session: Session,
    resource: str,
    windows: list[tuple[str, float, float]],
    observed_from: float,
    hi: float,
    pending: Any,
) -> tuple[float, float]:
    """(planned seconds, downtime seconds inside them) of one resource."""
    spans = merge(
        clip([(a, b) for g, a, b in windows if fnmatchcase(resource, g)], observed_from, hi)
    )
    if not spans:
        return 0.0, 0.0
    d = ResourceDowntime
    stmt = select(d.start_s, d.end_s).where(
        d.resource == resource,
        d.start_s < spans[-1][1],
        d.end_s.is_(None) | (d.end_s > spans[0][0]),
    )
    since = pending.since.get(resource)
    if since is not None:
        stmt = stmt.where(d.start_s < since)
    stored = [(a, hi if b is None else b) for a, b in session.execute(stmt).all()]
    down = merge(clip(stored + list(pending.tails.get(resource, [])), observed_from, hi))
    return sum(b - a for a, b in spans), _overlap(down, spans)


def availability_by_resource(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    target_percent: float = 99.0,
    resources: Sequence[str] | None = None,
    exclude_maintenance: bool = True,
) -> list[ResourceAvailability]:
    """Compute availability for every resource observed before ``end`` (or ``resources``).

    Stored intervals are aggregated in SQL; for resources with changes the stored intervals
    do not have yet, the stored part before the change is aggregated and the rest recomputed
    from the logs in memory.
    """
    start, end = as_instant(start), as_instant(end)
    if end <= start:
        raise ValidationError("the window end must be after its start", field="end")
    if not 0 < target_percent <= 100:
        raise ValidationError("target_percent must be in (0, 100]", field="target_percent")
    lo, hi = start.timestamp(), end.timestamp()
    resources = list(resources) if resources else None  # empty means every resource
    pending = pending_intervals(session=session, resources=resources)
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
        else:
            first_seen[r] = t
    aggregates = {row[0]: row[1:] for row in _stored(session, _AGGREGATES, resources, lo=lo, hi=hi)}
    conn = session.connection()
    windows = _planned_windows(session, lo, hi) if exclude_maintenance else []
    out = []
    for resource in sorted(first_seen):
        seen = first_seen[resource]
        if seen >= hi:
            continue
        observed_from = max(seen, lo)
        since = pending.since.get(resource)
        if since is None:
            summary = _Summary.from_sql(aggregates.get(resource, (0,) * 7), lo, seen)
        else:
            params = {"resource": resource, "since": since, "lo": lo, "hi": hi}
            before = _AGGREGATE_BEFORE.execute(conn, params).fetchone()
            tail = merge(clip(pending.tails[resource], observed_from, hi))
            summary = _Summary.from_sql(before, lo, seen).then(
                _Summary.of(tail, observed_from, seen)
            )
        planned = (
            _planned_time(session, resource, windows, observed_from, hi, pending)
            if windows
            else (0.0, 0.0)
        )
        out.append(_result(resource, start, end, observed_from, summary, target_percent, planned))
    return out


def _result(
    resource: str,
    start: dt.datetime,
    end: dt.datetime,
    observed_from: float,
    summary: _Summary,
    target_percent: float,
    planned: tuple[float, float] = (0.0, 0.0),
) -> ResourceAvailability:
    observed = end.timestamp() - observed_from
    window = end.timestamp() - start.timestamp()
    downtime = summary.downtime
    uptime = observed - downtime
    planned_time, planned_down = planned
    counted = observed - planned_time  # the time the SLA speaks of
    counted_down = downtime - planned_down
    percent = 100.0 * (counted - counted_down) / counted if counted > 0 else None
    budget = (1 - target_percent / 100) * counted
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
        error_budget_remaining_seconds=budget - counted_down,
        failures=summary.failures,
        mtbf_seconds=summary.gaps / (summary.n - 1) if summary.n >= 2 else None,
        maintenance_seconds=planned_time,
        maintenance_downtime_seconds=planned_down,
        observed_percent=round(100.0 * observed / window, 3) if window > 0 else 0.0,
        partly_observed=window > 0 and 100.0 * observed / window < PARTLY_OBSERVED_BELOW,
    )
