"""Response metrics: MTTA, MTTR and time to close, per group and window.

For incidents detected in [start, end): MTTA = acknowledged_at − detected_at, MTTR =
resolved_at − detected_at, time to close = closed_at − detected_at. Each metric reports
count, mean, median (linear interpolation), p90 (nearest rank) and max over the incidents
that reached that stage; the ones that have not (still unacknowledged / unresolved /
unclosed) are counted in ``pending``, never dropped or counted as zero.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from vigil.db.base import epoch_seconds
from vigil.db.fastpath import PreparedStatement
from vigil.incidents.models import Incident
from vigil.incidents.schemas import as_utc
from vigil.validation import require_one_of

__all__ = ["GROUPS", "DurationStats", "ResponseMetrics", "response_metrics", "stats_of"]

GroupBy = Literal["service", "resource", "component", "category", "severity", "project", "all"]
GROUPS: tuple[str, ...] = (
    "service",
    "resource",
    "component",
    "category",
    "severity",
    "project",
    "all",
)


class DurationStats(BaseModel):
    """Summary of one duration over a group, in seconds."""

    count: int
    pending: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


class ResponseMetrics(BaseModel):
    """MTTA, MTTR and time to close of one group."""

    group: str | None
    incidents: int
    mtta: DurationStats
    mttr: DurationStats
    time_to_close: DurationStats


def stats_of(values: list[float], pending: int) -> DurationStats:
    """Summarize durations (seconds)."""
    if not values:
        return DurationStats(count=0, pending=pending, mean=None, median=None, p90=None, max=None)
    values.sort()
    n = len(values)
    mid = (n - 1) / 2
    median = (values[math.floor(mid)] + values[math.ceil(mid)]) / 2
    p90 = values[max(math.ceil(0.9 * n) - 1, 0)]
    return DurationStats(
        count=n, pending=pending, mean=sum(values) / n, median=median, p90=p90, max=values[-1]
    )


def response_metrics(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    group_by: str = "all",
    project_id: str | None = None,
    service: str | None = None,
) -> list[ResponseMetrics]:
    """Return MTTA/MTTR/time-to-close per group for incidents detected in [start, end)."""
    require_one_of(group_by, GROUPS, field="group_by")
    start, end = as_utc(start), as_utc(end)
    column = {"project": Incident.project_id, "all": None}.get(
        group_by, getattr(Incident, group_by, None)
    )
    det = epoch_seconds(Incident.detected_at)
    stmt = select(
        column if column is not None else literal(None),
        epoch_seconds(Incident.acknowledged_at) - det,
        epoch_seconds(Incident.resolved_at) - det,
        epoch_seconds(Incident.closed_at) - det,
    ).where(Incident.detected_at >= start, Incident.detected_at < end)
    if project_id:
        stmt = stmt.where(Incident.project_id == project_id)
    if service:
        stmt = stmt.where(Incident.service == service)
    buckets: dict[str | None, list[list[float]]] = defaultdict(lambda: [[], [], [], [0, 0, 0, 0]])
    # One streaming pass over driver rows; the durations come out of SQL in seconds.
    for key, *durations in PreparedStatement(stmt).execute(session.connection(), {}):
        bucket = buckets[key]
        counters = bucket[3]
        counters[0] += 1
        for i, seconds in enumerate(durations):
            if seconds is None:
                counters[i + 1] += 1
            else:
                bucket[i].append(seconds)
    out = []
    for key in sorted(buckets, key=lambda k: (k is None, str(k))):
        mtta, mttr, ttc, counters = buckets[key]
        out.append(
            ResponseMetrics(
                group=key,
                incidents=int(counters[0]),
                mtta=stats_of(mtta, int(counters[1])),
                mttr=stats_of(mttr, int(counters[2])),
                time_to_close=stats_of(ttc, int(counters[3])),
            )
        )
    return out
