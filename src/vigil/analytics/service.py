"""Summaries and recurrence, aggregated in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from vigil.analytics.schemas import IncidentSummary, Recurrence
from vigil.analytics.trend import mann_kendall
from vigil.config import Settings
from vigil.db import UTCDateTime, elapsed_bucket, utcnow
from vigil.errors import ValidationError
from vigil.incidents import SEVERITIES, Incident, IncidentRead, normalize_category
from vigil.validation import as_instant

__all__ = ["fingerprint_recurrence", "incidents_summary", "recurrence_rate"]

#: Most buckets the trend test runs on; long windows get wider buckets.
MAX_BUCKETS = 60


def _window(
    stmt: Any,
    start: dt.datetime | None,
    end: dt.datetime | None,
    project_id: str | None,
) -> Any:
    if start is not None:
        stmt = stmt.where(Incident.detected_at >= start)
    if end is not None:
        stmt = stmt.where(Incident.detected_at < end)
    if project_id is not None:
        stmt = stmt.where(Incident.project_id == project_id)
    return stmt


def incidents_summary(
    *,
    session: Session,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    project_id: str | None = None,
    recent_limit: int = 10,
) -> IncidentSummary:
    """Count incidents in [start, end) by category and severity, with the newest high ones."""
    start = as_instant(start) if start else None
    end = as_instant(end) if end else None
    if start and end and end <= start:
        raise ValidationError("end must be after start", field="end_date")
    counts = select(Incident.category, Incident.severity, func.count()).group_by(
        Incident.category, Incident.severity
    )
    # Walking an index that starts with (category, severity) avoids sorting a million rows;
    # SQLite's planner otherwise prefers the narrower detected_at range and sorts.
    index = (
        "ix_incidents_project_cat_sev_detected" if project_id else "ix_incidents_cat_sev_detected"
    )
    counts = counts.with_hint(Incident, f"INDEXED BY {index}", dialect_name="sqlite")
    by_category: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    rows = session.execute(_window(counts, start, end, project_id)).all()
    for category, severity, n in rows:
        by_category[category] = by_category.get(category, 0) + n
        by_severity[severity] = by_severity.get(severity, 0) + n
    recent = select(Incident).where(Incident.severity.in_(("critical", "high")))
    recent = _window(recent, start, end, project_id)
    recent = recent.order_by(Incident.detected_at.desc(), Incident.id.desc()).limit(recent_limit)
    return IncidentSummary(
        start=start,
        end=end,
        project_id=project_id,
        total=sum(by_category.values()),
        by_category=dict(sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_severity={s: by_severity[s] for s in SEVERITIES if s in by_severity},
        recent_high=[IncidentRead.from_incident(i) for i in session.execute(recent).scalars()],
    )


def recurrence_rate(
    *,
    session: Session,
    settings: Settings,
    category: str,
    days: int = 30,
    project_id: str | None = None,
    now: dt.datetime | None = None,
    resource: str | None = None,
) -> Recurrence:
    """Return how often ``category`` occurred per day in the last ``days`` and its trend
    (optionally for one ``resource``)."""
    if not 1 <= days <= 3650:
        raise ValidationError(f"days {days} must be between 1 and 3650", field="days")
    category = normalize_category(category, settings.categories)
    end = as_instant(now) if now else utcnow()
    start = end - dt.timedelta(days=days)
    n_buckets = min(days, MAX_BUCKETS)
    width = days * 86400 / n_buckets
    bucket = elapsed_bucket(
        Incident.detected_at, bindparam("start", start, type_=UTCDateTime), width
    ).label("bucket")
    stmt = (
        select(bucket, func.count())
        .where(Incident.category == category)
        .where(Incident.detected_at >= start, Incident.detected_at < end)
        .group_by(bucket)
    )
    if project_id is not None:
        stmt = stmt.where(Incident.project_id == project_id)
    if resource is not None:
        stmt = stmt.where(Incident.resource == resource)
    series = [0] * n_buckets
    for index, n in session.execute(stmt):
        series[min(max(int(index), 0), n_buckets - 1)] += n
    total = sum(series)
    result = mann_kendall(series)
    return Recurrence(
        category=category,
        days=days,
        project_id=project_id,
        start=start,
        end=end,
        total_incidents=total,
        recurrence_rate=round(total / days, 4),
        trend=result.trend,
        bucket_days=width / 86400,
        buckets=series,
        mann_kendall_s=result.s,
        z_score=round(result.z, 4),
        p_value=round(result.p_value, 6),
        sen_slope_per_day=round(result.sen_slope / (width / 86400), 6),
    )


def fingerprint_recurrence(
    *, session: Session, incident: Incident, days: int = 90
) -> dict[str, object]:
    """Return how many incidents with this one's fingerprint (resource + component + category)
    were detected in the ``days`` up to and including it, e.g. "3rd time in 90 days"."""
    since = incident.detected_at - dt.timedelta(days=days)
    stmt = (
        select(func.count())
        .select_from(Incident)
        .where(
            Incident.category == incident.category,
            Incident.resource.is_(None)
            if incident.resource is None
            else Incident.resource == incident.resource,
            Incident.component.is_(None)
            if incident.component is None
            else Incident.component == incident.component,
            Incident.detected_at >= since,
            Incident.detected_at <= incident.detected_at,
        )
    )
    count = int(session.execute(stmt).scalar_one())
    suffix = "th" if 10 <= count % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(count % 10, "th")
    return {
        "fingerprint": f"{incident.resource or '-'}|{incident.component or '-'}|{incident.category}",
        "count": count,
        "window_days": days,
        "text": f"{count}{suffix} time in {days} days",
    }


def weekly_by_severity(
    *, session: Session, start: dt.datetime, end: dt.datetime
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Count incidents detected in [start, end) per week (weeks start on Monday, UTC) and
    severity; return the weeks and, per severity, one count per week."""
    first = (
        start.astimezone(dt.UTC) - dt.timedelta(days=start.astimezone(dt.UTC).weekday())
    ).date()
    weeks = []
    day = first
    while day < end.astimezone(dt.UTC).date() + dt.timedelta(days=1):
        weeks.append(day)
        day += dt.timedelta(days=7)
    counts = {s: [0] * len(weeks) for s in SEVERITIES}
    rows = session.execute(
        select(Incident.detected_at, Incident.severity).where(
            Incident.detected_at >= start, Incident.detected_at < end
        )
    )
    for at, severity in rows:
        index = (at.astimezone(dt.UTC).date() - first).days // 7
        if severity in counts and 0 <= index < len(weeks):
            counts[severity][index] += 1
    return weeks, counts
