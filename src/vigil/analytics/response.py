"""Response metrics: MTTA, MTTR and time to close, per group and window.

For incidents detected in [start, end): MTTA = acknowledged_at − detected_at, MTTR =
resolved_at − detected_at, time to close = closed_at − detected_at. Each metric reports
count, mean, median (linear interpolation), p90 (nearest rank) and max over the incidents
that reached that stage; the ones that have not (still unacknowledged / unresolved /
unclosed) are counted in ``pending``, never dropped or counted as zero.

Durations are the generated columns ``tta_s``, ``ttr_s`` and ``ttc_s`` (milliseconds).
Grouped by service, nothing is loaded row by row: one walk of a covering index gives the
counts, sums and maxima, then each median and p90 is read by offset from an index ordered by
(service, duration), from whichever end is nearer. Other groupings stream the rows once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.orm import Session

from vigil.db import PreparedStatement
from vigil.incidents import DURATION_COLUMNS, Incident
from vigil.validation import as_instant, require_one_of

__all__ = ["GROUPS", "DurationStats", "ResponseMetrics", "response_metrics", "stats_of"]

GroupBy = Literal[
    "service", "resource", "component", "category", "severity", "project", "assignee", "all"
]
GROUPS: tuple[str, ...] = (
    "service",
    "resource",
    "component",
    "category",
    "severity",
    "project",
    "assignee",
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
    assignee: str | None = None,
) -> list[ResponseMetrics]:
    """Return MTTA/MTTR/time-to-close per group for incidents detected in [start, end)."""
    require_one_of(group_by, GROUPS, field="group_by")
    start, end = as_instant(start), as_instant(end)
    if group_by == "service" and project_id is None and assignee is None:
        return _by_service_indexed(session, start, end, service)
    column = {"project": Incident.project_id, "all": None}.get(
        group_by, getattr(Incident, group_by, None)
    )
    stmt = select(
        column if column is not None else literal(None),
        Incident.tta_s,
        Incident.ttr_s,
        Incident.ttc_s,
    ).where(Incident.detected_at >= start, Incident.detected_at < end)
    if project_id:
        stmt = stmt.where(Incident.project_id == project_id)
    if service:
        stmt = stmt.where(Incident.service == service)
    if assignee:
        stmt = stmt.where(Incident.assignee == assignee)
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


def _window(stmt: Any, *, service_null: bool | None) -> Any:
    stmt = stmt.where(
        Incident.detected_at >= bindparam("lo", type_=Incident.detected_at.type),
        Incident.detected_at < bindparam("hi", type_=Incident.detected_at.type),
    )
    if service_null is True:
        return stmt.where(Incident.service.is_(None))
    if service_null is False:
        return stmt.where(Incident.service == bindparam("service"))
    return stmt


def _aggregates(filtered: bool) -> PreparedStatement:
    cols: list[Any] = [Incident.service, func.count()]
    for name in DURATION_COLUMNS:
        col = getattr(Incident, name)
        cols += [func.count(col), func.sum(col), func.max(col)]
    stmt = select(*cols).with_hint(Incident, "INDEXED BY ix_incidents_service_response", "sqlite")
    stmt = _window(stmt, service_null=False if filtered else None).group_by(Incident.service)
    return PreparedStatement(stmt)


def _nth(name: str, descending: bool, service_null: bool) -> PreparedStatement:
    col = getattr(Incident, name)
    stmt = select(col).with_hint(Incident, f"INDEXED BY ix_incidents_service_{name}", "sqlite")
    stmt = _window(stmt.where(col.is_not(None)), service_null=service_null)
    order = col.desc() if descending else col.asc()
    return PreparedStatement(stmt.order_by(order).limit(2).offset(bindparam("skip")))


_AGGREGATES = {filtered: _aggregates(filtered) for filtered in (False, True)}
_NTH = {
    (name, desc, null): _nth(name, desc, null)
    for name in DURATION_COLUMNS
    for desc in (False, True)
    for null in (False, True)
}


def _by_service_indexed(
    session: Session, start: dt.datetime, end: dt.datetime, service: str | None
) -> list[ResponseMetrics]:
    conn = session.connection()
    params: dict[str, Any] = {"lo": start, "hi": end}
    if service is not None:
        params["service"] = service
    rows = _AGGREGATES[service is not None].execute(conn, params).fetchall()

    def nth(name: str, key: str | None, n: int, index: int) -> list[float]:
        """Values at ``index`` and the next one toward the nearer end (the walk costs its offset)."""
        descending = index >= n / 2
        skip = n - 1 - index if descending else index
        args = {**params, "service": key, "skip": skip}
        return [r[0] for r in _NTH[name, descending, key is None].execute(conn, args)]

    def stats(name: str, key: str | None, total: int, agg: list[Any]) -> DurationStats:
        n, sum_, max_ = agg
        if n == 0:
            return DurationStats(count=0, pending=total, mean=None, median=None, p90=None, max=None)
        # (n - 1) // 2 is below n / 2, so it is read ascending with its successor.
        middle = nth(name, key, n, (n - 1) // 2)
        median = middle[0] if n % 2 else (middle[0] + middle[1]) / 2
        p90 = nth(name, key, n, max(math.ceil(0.9 * n) - 1, 0))[0]
        return DurationStats(
            count=n, pending=total - n, mean=sum_ / n, median=median, p90=p90, max=max_
        )

    out = []
    for key, total, *agg in sorted(rows, key=lambda r: (r[0] is None, str(r[0]))):
        durations = [
            stats(name, key, total, agg[3 * i : 3 * i + 3])
            for i, name in enumerate(DURATION_COLUMNS)
        ]
        out.append(
            ResponseMetrics(
                group=key,
                incidents=total,
                mtta=durations[0],
                mttr=durations[1],
                time_to_close=durations[2],
            )
        )
    return out
