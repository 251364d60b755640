"""The dashboard panels, the reliability ranking and recurring incidents."""

from __future__ import annotations

import datetime as dt
from difflib import SequenceMatcher

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from vigil.analytics.availability import ResourceAvailability, availability_by_resource
from vigil.db import utcnow
from vigil.errors import ValidationError
from vigil.formats import duration
from vigil.incidents import ACTIVE_STATUSES, SEVERITIES, Incident

__all__ = [
    "ActiveIncident",
    "Panels",
    "RecurringGroup",
    "dashboard_panels",
    "recurring_incidents",
    "reliability_ranking",
]


class ActiveIncident(BaseModel):
    """An incident that is not resolved, with how long it has lasted."""

    id: str
    title: str
    severity: str
    status: str
    resource: str | None
    component: str | None
    detected_at: dt.datetime
    duration_seconds: float


class HistoryItem(BaseModel):
    """A recent incident with its duration or ``ongoing``."""

    id: str
    title: str
    severity: str
    status: str
    resource: str | None
    detected_at: dt.datetime
    duration: str


class SummaryStats(BaseModel):
    """The summary panel."""

    active: int
    last_24h: int
    last_7d: int
    average_resolution_seconds_7d: float | None
    critical_24h: int


class Panels(BaseModel):
    """The four dashboard panels."""

    generated_at: dt.datetime
    active: list[ActiveIncident]
    availability: list[ResourceAvailability]
    summary: SummaryStats
    recent: list[HistoryItem]


def dashboard_panels(
    *,
    session: Session,
    window: dt.timedelta = dt.timedelta(days=1),
    now: dt.datetime | None = None,
    active_limit: int = 100,
) -> Panels:
    """Return active incidents (the ``active_limit`` most severe, oldest first), availability
    over ``window``, summary stats (with the full active count) and the last 20."""
    now = now or utcnow()
    rank = case({s: i for i, s in enumerate(SEVERITIES)}, value=Incident.severity, else_=9)
    active_rows = (
        session.execute(
            select(Incident)
            .where(Incident.status.in_(ACTIVE_STATUSES))
            .order_by(rank, Incident.detected_at)
            .limit(active_limit)
        )
        .scalars()
        .all()
    )
    active = [
        ActiveIncident(
            id=i.human_id,
            title=i.title,
            severity=i.severity,
            status=i.status,
            resource=i.resource,
            component=i.component,
            detected_at=i.detected_at,
            duration_seconds=(now - i.detected_at).total_seconds(),
        )
        for i in active_rows
    ]
    active_total = session.execute(
        select(func.count()).select_from(Incident).where(Incident.status.in_(ACTIVE_STATUSES))
    ).scalar_one()
    day, week = now - dt.timedelta(days=1), now - dt.timedelta(days=7)
    counts = session.execute(
        select(
            func.count().filter(Incident.detected_at >= day),
            func.count().filter(Incident.detected_at >= week),
            func.count().filter(Incident.detected_at >= day, Incident.severity == "critical"),
        ).where(Incident.detected_at >= week, Incident.detected_at <= now)
    ).one()
    resolved = session.execute(
        select(Incident.detected_at, Incident.resolved_at).where(
            Incident.detected_at >= week, Incident.resolved_at.is_not(None)
        )
    ).all()
    durations = [(r - d).total_seconds() for d, r in resolved if r is not None]
    recent_rows = (
        session.execute(
            select(Incident).order_by(Incident.detected_at.desc(), Incident.id.desc()).limit(20)
        )
        .scalars()
        .all()
    )
    recent = [
        HistoryItem(
            id=i.human_id,
            title=i.title,
            severity=i.severity,
            status=i.status,
            resource=i.resource,
            detected_at=i.detected_at,
            duration=duration((i.resolved_at - i.detected_at).total_seconds())
            if i.resolved_at
            else "ongoing",
        )
        for i in recent_rows
    ]
    return Panels(
        generated_at=now,
        active=active,
        availability=availability_by_resource(session=session, start=now - window, end=now),
        summary=SummaryStats(
            active=active_total,
            last_24h=counts[0],
            last_7d=counts[1],
            average_resolution_seconds_7d=sum(durations) / len(durations) if durations else None,
            critical_24h=counts[2],
        ),
        recent=recent,
    )


class RankedResource(BaseModel):
    """A resource with the numbers it is ranked by."""

    resource: str
    availability_percent: float | None
    incidents: int
    mtbf_seconds: float | None
    sla_band: str


def reliability_ranking(
    *, session: Session, start: dt.datetime, end: dt.datetime
) -> list[RankedResource]:
    """Return resources from most to least reliable (availability, then fewer incidents, then
    MTBF); resources observed for only part of the window are left out (too little to rank)."""
    counts = dict(
        session.execute(
            select(Incident.resource, func.count())
            .where(
                Incident.resource.is_not(None),
                Incident.detected_at >= start,
                Incident.detected_at < end,
            )
            .group_by(Incident.resource)
        ).all()
    )
    ranked = [
        RankedResource(
            resource=a.resource,
            availability_percent=a.availability_percent,
            incidents=int(counts.get(a.resource, 0)),
            mtbf_seconds=a.mtbf_seconds,
            sla_band=a.sla_band,
        )
        for a in availability_by_resource(session=session, start=start, end=end)
        if not a.partly_observed
    ]
    ranked.sort(
        key=lambda r: (
            -(r.availability_percent if r.availability_percent is not None else -1),
            r.incidents,
            -(r.mtbf_seconds or float("inf")),
        )
    )
    return ranked


class RecurringGroup(BaseModel):
    """Incidents sharing a fingerprint (resource + component + category) in the window."""

    fingerprint: str
    count: int
    incident_ids: list[str]
    similar_root_causes: list[list[str]]


def recurring_incidents(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    minimum: int = 2,
    similarity: float = 0.8,
) -> list[RecurringGroup]:
    """Group incidents by fingerprint; within a group, cluster root causes that read alike."""
    if not 1 <= minimum <= 1_000_000:
        raise ValidationError(
            f"minimum {minimum} must be a whole number from 1 to 1000000", field="minimum"
        )
    rows = session.execute(
        select(
            Incident.human_id,
            Incident.resource,
            Incident.component,
            Incident.category,
            Incident.root_cause,
        )
        .where(Incident.detected_at >= start, Incident.detected_at < end)
        .order_by(Incident.detected_at)
    ).all()
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for human_id, resource, component, category, root in rows:
        key = f"{resource or '-'}|{component or '-'}|{category}"
        groups.setdefault(key, []).append((human_id, root))
    out = []
    for key, members in groups.items():
        if len(members) < minimum:
            continue
        clusters: list[list[tuple[str, str]]] = []
        for human_id, root in members:
            if not root:
                continue
            for cluster in clusters:
                if SequenceMatcher(None, cluster[0][1].lower(), root.lower()).ratio() >= similarity:
                    cluster.append((human_id, root))
                    break
            else:
                clusters.append([(human_id, root)])
        out.append(
            RecurringGroup(
                fingerprint=key,
                count=len(members),
                incident_ids=[m[0] for m in members],
                similar_root_causes=[[h for h, _ in c] for c in clusters if len(c) > 1],
            )
        )
    out.sort(key=lambda g: -g.count)
    return out
