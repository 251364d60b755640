"""Incident rules: create, read, edit, move through the lifecycle, annotate.

Each write checks its inputs, builds a change and hands it to the one writer
(:mod:`vigil.incidents.changes`), which records it with its timeline entry. Functions
flush but never commit; the caller owns the transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid as uuid_mod
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, text
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.db import lock_keys, utcnow
from vigil.errors import ConflictError, NotFoundError, ValidationError
from vigil.incidents import changes as writer
from vigil.incidents import search
from vigil.incidents.ids import next_human_id
from vigil.incidents.lifecycle import (
    ACTIVE_STATUSES,
    check_transition,
    normalize_category,
    normalize_severity,
    normalize_status,
)
from vigil.incidents.models import ACTIVE_SQL, Incident, TimelineEntry
from vigil.incidents.schemas import IncidentCreate, IncidentFilter, IncidentUpdate
from vigil.validation import MAX_ID, as_instant

__all__ = [
    "add_note",
    "create_incident",
    "decode_cursor",
    "filtered_select",
    "find_active_by_dedup_key",
    "get_incident",
    "incidents_by_id",
    "insert_incident",
    "list_incidents",
    "list_timeline",
    "record_occurrences",
    "transition_incident",
    "update_incident",
]


def _title_from(description: str) -> str:
    first = description.strip().splitlines()[0] if description.strip() else ""
    return first if len(first) <= 120 else first[:117] + "..."


#: Dedup keys of ingested incidents are ``source:integration:key``; people cannot claim them.
RESERVED_DEDUP_PREFIXES = ("events:", "pagerduty:", "alertmanager:", "grafana:", "heartbeat:")


def create_incident(
    *,
    session: Session,
    settings: Settings,
    data: IncidentCreate,
    actor: str,
    source: str = "api",
    external_id: str | None = None,
    human_id: str | None = None,
    status: str = "open",
) -> str:
    """Record a new incident and return its human ID (generated unless an import gives one)."""
    key = data.dedup_key
    if key is not None:
        if not key.strip():
            data = data.model_copy(update={"dedup_key": None})
        elif key.startswith(RESERVED_DEDUP_PREFIXES):
            raise ValidationError(
                f"dedup keys starting with {key.split(':')[0] + ':'!r} belong to "
                "ingestion: an integration only matches the incidents it opened itself",
                field="dedup_key",
            )
    return insert_incident(
        session=session,
        settings=settings,
        data=data,
        actor=actor,
        source=source,
        external_id=external_id,
        human_id=human_id,
        status=status,
    )[1]


def insert_incident(
    *,
    session: Session,
    settings: Settings,
    data: IncidentCreate,
    actor: str,
    source: str = "api",
    external_id: str | None = None,
    human_id: str | None = None,
    status: str = "open",
) -> tuple[int, str]:
    """Record a new incident; return its row id and human ID.

    An active incident with a dedup key takes the key's lock (the one ingestion takes) and
    is refused while another active incident has the key; the partial unique index backs
    the rule.
    """
    if not (data.title or data.description.strip()):
        raise ValidationError("an incident needs a title or a description", field="title")
    now = utcnow()
    detected = data.detected_at or now
    category = normalize_category(data.category, settings.categories)
    severity = normalize_severity(data.severity or settings.default_severity)
    title = data.title or _title_from(data.description)
    if data.dedup_key and status in ACTIVE_STATUSES:
        lock_keys(session, [f"i:{data.dedup_key}"])  # the lock ingestion takes for this key
        existing = find_active_by_dedup_key(session=session, dedup_key=data.dedup_key)
        if existing is not None:
            raise ConflictError(
                f"incident {existing.human_id} is already active for dedup key {data.dedup_key!r}"
            )
    if human_id is None:
        human_id = next_human_id(session=session, template=settings.id_template, when=detected)
    new = writer.NewIncident(
        human_id=human_id,
        title=title,
        description=data.description,
        category=category,
        severity=severity,
        status=normalize_status(status),
        project_id=data.project_id,
        order_id=data.order_id,
        task_id=data.task_id,
        service=data.service,
        resource=data.resource,
        component=data.component,
        host=data.host,
        root_cause=data.root_cause,
        resolution=data.resolution,
        affected_records=data.affected_records,
        labels=data.labels,
        tags=data.tags,
        source=source,
        external_id=external_id,
        dedup_key=data.dedup_key,
        reported_by=data.reported_by,
        detected_at=detected,
        actor=actor,
    )
    pk = writer.apply_changes(session=session, changes=[new])[0]
    return pk, human_id


def find_active_by_dedup_key(*, session: Session, dedup_key: str) -> Incident | None:
    """Return the open, acknowledged or investigating incident with ``dedup_key``, if any."""
    # The literal status list lets the database use the partial unique index.
    stmt = select(Incident).where(Incident.dedup_key == dedup_key, text(ACTIVE_SQL))
    return session.execute(stmt).scalar_one_or_none()


def get_incident(*, session: Session, ref: str) -> Incident:
    """Return the incident with human ID (any case) or UUID ``ref``, or raise NotFoundError."""
    incident = session.execute(
        select(Incident).where(Incident.human_id == ref)
    ).scalar_one_or_none()
    if incident is None and ref != ref.upper():
        # IDs are written in capitals; people type them in any case (inc_006).
        incident = session.execute(
            select(Incident).where(Incident.human_id == ref.upper())
        ).scalar_one_or_none()
    if incident is None:
        try:
            as_uuid = uuid_mod.UUID(ref)
        except ValueError:
            as_uuid = None
        if as_uuid is not None:
            stmt = select(Incident).where(Incident.uuid == as_uuid)
            incident = session.execute(stmt).scalar_one_or_none()
    if incident is None:
        raise NotFoundError(f"incident {ref!r} does not exist", ref=ref)
    return incident


def update_incident(
    *, session: Session, settings: Settings, ref: str, data: IncidentUpdate, actor: str
) -> Incident:
    """Edit fields of an incident; the timeline records each old and new value."""
    incident = get_incident(session=session, ref=ref)
    values: dict[str, Any] = {}
    for name in sorted(data.model_fields_set):
        value = getattr(data, name)
        if value is None and name in ("title", "category", "severity", "description"):
            raise ValidationError(f"{name} cannot be empty", field=name)
        if name == "category":
            value = normalize_category(value, settings.categories)
        elif name == "severity":
            value = normalize_severity(value)
        values[name] = value
    change = writer.edit(incident, values, actor=actor)
    if change is not None:
        writer.apply_change(session=session, change=change)
    return incident


def transition_incident(
    *,
    session: Session,
    ref: str,
    target: str,
    actor: str,
    note: str | None = None,
    resolution: str | None = None,
    root_cause: str | None = None,
    at: dt.datetime | None = None,
    happened_at: dt.datetime | None = None,
) -> Incident:
    """Move an incident to ``target`` status if the lifecycle allows it (at ``at``, default now).

    ``happened_at`` records a move a person made outside Vigil: not in the future, not before
    the incident's earlier lifecycle times, and marked as backfilled on the timeline."""
    incident = get_incident(session=session, ref=ref)
    target = normalize_status(target)
    current = incident.status
    check_transition(current, target)
    if happened_at is not None:
        at = _backfilled(incident, target, happened_at)
        note = f"{note} (backfilled)" if note else "backfilled: happened before it was recorded"
    if (resolution or root_cause) and target != "resolved":
        raise ValidationError("resolution and root_cause go with resolve only", field="resolution")
    if target == "open" and incident.dedup_key:
        lock_keys(session, [f"i:{incident.dedup_key}"])  # ingestion may open one meanwhile
        other = find_active_by_dedup_key(session=session, dedup_key=incident.dedup_key)
        if other is not None:
            raise ConflictError(
                f"cannot reopen: incident {other.human_id} is already active for the same "
                f"dedup key {incident.dedup_key!r}"
            )
    change = writer.transition(
        incident,
        target,
        actor=actor,
        at=at,
        note=note,
        resolution=resolution,
        root_cause=root_cause,
    )
    writer.apply_change(session=session, change=change)
    return incident


_SKEW = dt.timedelta(minutes=1)


def _backfilled(incident: Incident, target: str, when: dt.datetime) -> dt.datetime:
    """Check a person-given time for a move to ``target`` against the incident's history."""
    when = as_instant(when, field="at")
    if when > utcnow() + _SKEW:
        raise ValidationError("at: cannot be in the future", field="at")
    i = incident
    before: dict[str, list[dt.datetime | None]] = {
        "acknowledged": [i.detected_at],
        "investigating": [i.detected_at, i.acknowledged_at],
        "resolved": [i.detected_at, i.acknowledged_at],
        "closed": [i.detected_at, i.acknowledged_at, i.resolved_at],
        "open": [i.resolved_at, i.closed_at],
    }
    earlier = before[target]
    latest = max((t for t in earlier if t is not None), default=None)
    if latest is not None and when < latest:
        raise ValidationError(
            f"at: {when:%Y-%m-%d %H:%M:%S}Z is before the incident's previous lifecycle time "
            f"({latest:%Y-%m-%d %H:%M:%S}Z); lifecycle times go in order",
            field="at",
        )
    return when


def add_note(*, session: Session, ref: str, text: str, actor: str) -> TimelineEntry:
    """Append a free-text note to an incident's timeline."""
    if not text.strip():
        raise ValidationError("a note needs some text", field="text")
    incident = get_incident(session=session, ref=ref)
    change = writer.note(incident.id, text.strip(), actor=actor)
    applied = writer.apply_change(session=session, change=change)
    return session.get_one(TimelineEntry, applied.entry_id)


def incidents_by_id(*, session: Session, ids: Sequence[int]) -> Sequence[Incident]:
    """Return the incidents with these row ids (any order)."""
    if not ids:
        return []
    return session.execute(select(Incident).where(Incident.id.in_(ids))).scalars().all()


def list_timeline(*, session: Session, ref: str) -> Sequence[TimelineEntry]:
    """Return an incident's timeline, oldest first."""
    incident = get_incident(session=session, ref=ref)
    stmt = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return session.execute(stmt).scalars().all()


def _encode_cursor(incident: Incident) -> str:
    raw = f"{incident.detected_at.isoformat()}|{incident.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """Parse a cursor returned by :func:`list_incidents`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = raw.split("|")
        at, number = as_instant(dt.datetime.fromisoformat(when)), int(pk)
        if not 0 <= number <= MAX_ID:
            raise ValueError(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            "cursor is not one this server returned; use next_cursor as given", field="cursor"
        ) from exc
    return at, number


def _text_matches(session: Session, query: str) -> ColumnElement[bool]:
    """The incident's ID is ``query`` (any case), or its text matches every word of it."""
    by_id = func.upper(Incident.human_id) == query.strip().upper()
    found = search.matching_ids_sql(session, query)
    if found is None:
        return by_id
    sql, params = found
    return or_(by_id, Incident.id.in_(text(sql).bindparams(**params)))


def filtered_select(session: Session, settings: Settings, filters: IncidentFilter) -> Select[Any]:
    """Select the incidents matching ``filters`` (no order, no limit)."""
    stmt = select(Incident)
    if filters.status:
        stmt = stmt.where(Incident.status.in_([normalize_status(s) for s in filters.status]))
    if filters.severity:
        stmt = stmt.where(Incident.severity.in_([normalize_severity(s) for s in filters.severity]))
    if filters.category:
        cats = [normalize_category(c, settings.categories) for c in filters.category]
        stmt = stmt.where(Incident.category.in_(cats))
    for name in ("project_id", "order_id", "task_id", "service", "resource", "assignee"):
        value = getattr(filters, name)
        if value is not None:
            stmt = stmt.where(getattr(Incident, name) == value)
    if filters.since is not None:
        stmt = stmt.where(Incident.detected_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(Incident.detected_at < filters.until)
    if filters.q:
        stmt = stmt.where(_text_matches(session, filters.q))
    return stmt


def list_incidents(
    *,
    session: Session,
    settings: Settings,
    filters: IncidentFilter | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[Sequence[Incident], str | None]:
    """Return incidents newest first and the cursor of the next page (None at the end)."""
    if not 1 <= limit <= 1000:
        raise ValidationError(f"limit {limit} must be between 1 and 1000", field="limit")
    stmt = filtered_select(session, settings, filters or IncidentFilter())
    if cursor:
        when, pk = decode_cursor(cursor)
        stmt = stmt.where(
            or_(Incident.detected_at < when, (Incident.detected_at == when) & (Incident.id < pk))
        )
    stmt = stmt.order_by(Incident.detected_at.desc(), Incident.id.desc()).limit(limit + 1)
    rows: Sequence[Incident] = session.execute(stmt).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1]) if more and rows else None)


def record_occurrences(
    *, session: Session, ref: str, count: int, seen_at: dt.datetime | None = None
) -> Incident:
    """Count ``count`` more sightings of an incident without a timeline entry per sighting."""
    incident = get_incident(session=session, ref=ref)
    sightings = writer.Sightings(count, seen_at or utcnow())
    writer.count_sightings(session=session, sightings={incident.id: sightings})
    session.refresh(incident, ["occurrence_count", "last_seen_at"])
    return incident
