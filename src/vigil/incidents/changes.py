"""The one writer of incidents and their timeline.

Every change to an incident is a value built in :mod:`vigil.incidents.change_values`
(:func:`transition`, :func:`edit`, :func:`note`, :func:`escalation`, :class:`NewIncident`;
re-exported here) and applied by :func:`apply_change`
(one, returning the ids it wrote) or :func:`apply_changes` (a batch, with ``executemany`` per
run of same-shaped changes). No other module updates ``incidents`` or inserts into
``timeline_entries`` (a test holds every module to that). The rules kept here:

* every change writes one timeline entry in the same transaction, recording each field's old
  and new value; the timeline is the change feed (:mod:`vigil.feed`) that followers read;
* a status change must be allowed by the lifecycle (:func:`check_transition`), and the
  ``UPDATE`` only applies while the incident still has the status and severity the change
  was decided on, so two writers deciding on the same row cannot both win
  (:class:`ConcurrentChangeError`; ingestion retries its batch once);
* sightings of an active incident are relative increments (:func:`count_sightings`), never
  read-modify-write, so concurrent processes never lose a count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from vigil.db import (
    INCIDENTS_CHANGED,
    PreparedStatement,
    insert_all_columns,
    later_of,
    utcnow,
    uuid7,
)
from vigil.errors import ConflictError
from vigil.incidents import search
from vigil.incidents.change_values import (
    Change,
    IncidentChange,
    IncidentView,
    NewIncident,
    Sightings,
    edit,
    escalation,
    note,
    recorded,
    transition,
)
from vigil.incidents.lifecycle import check_transition
from vigil.incidents.models import Incident, TimelineEntry

__all__ = [
    "Applied",
    "ConcurrentChangeError",
    "IncidentChange",
    "IncidentView",
    "NewIncident",
    "Sightings",
    "apply_change",
    "apply_changes",
    "count_sightings",
    "edit",
    "escalation",
    "note",
    "transition",
]

_INCIDENTS = cast(Table, Incident.__table__)
_ENTRIES = cast(Table, TimelineEntry.__table__)
_INSERT_INCIDENT = PreparedStatement(insert_all_columns(_INCIDENTS).returning(_INCIDENTS.c.id))
_INSERT_ENTRY = PreparedStatement(insert_all_columns(_ENTRIES))
_INSERT_ENTRY_RETURNING = PreparedStatement(insert_all_columns(_ENTRIES).returning(_ENTRIES.c.id))
_COUNT_SIGHTINGS = PreparedStatement(
    update(_INCIDENTS)
    .where(_INCIDENTS.c.id == bindparam("pk"))
    .values(
        occurrence_count=_INCIDENTS.c.occurrence_count + bindparam("n"),
        last_seen_at=later_of(_INCIDENTS.c.last_seen_at, "seen"),
    )
)
#: Fields whose old value the UPDATE requires (small, exactly comparable, decide transitions).
_GUARDED = ("status", "severity")


class ConcurrentChangeError(ConflictError):
    """Another writer changed the incident between reading it and writing the change."""


@dataclass(slots=True, frozen=True)
class Applied:
    """The rows one change wrote."""

    incident_id: int
    entry_id: int | None


_UPDATES: dict[tuple[tuple[str, ...], tuple[str, ...]], PreparedStatement] = {}


def _update_for(shape: tuple[tuple[str, ...], tuple[str, ...]]) -> PreparedStatement:
    stmt = _UPDATES.get(shape)
    if stmt is None:
        names, fills = shape
        c = _INCIDENTS.c
        values: dict[Any, Any] = {c.updated_at: bindparam("now", type_=c.updated_at.type)}
        for name in names:
            values[c[name]] = bindparam(f"new_{name}", type_=c[name].type)
        for name in fills:
            values[c[name]] = func.coalesce(c[name], bindparam(f"fill_{name}", type_=c[name].type))
        guards = [c[n] == bindparam(f"old_{n}", type_=c[n].type) for n in names if n in _GUARDED]
        stmt = _UPDATES[shape] = PreparedStatement(
            update(_INCIDENTS).where(c.id == bindparam("pk"), *guards).values(values)
        )
    return stmt


def _update_params(change: IncidentChange, now: dt.datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"pk": change.incident_id, "now": now}
    for name, (old, new) in change.fields.items():
        params[f"new_{name}"] = new
        if name in _GUARDED:
            params[f"old_{name}"] = old
    for name, value in change.fill.items():
        params[f"fill_{name}"] = value
    return params


def _entry_row(change: IncidentChange) -> dict[str, Any]:
    return {
        "incident_id": change.incident_id,
        "at": change.at,
        "actor": change.actor,
        "kind": change.kind,
        "message": change.message,
        "changes": recorded(change.fields),
    }


def _insert_incident(session: Session, new: NewIncident, returning: bool) -> tuple[int, int | None]:
    conn = session.connection()
    now = utcnow()
    status = new.status
    row = {
        "human_id": new.human_id,
        "uuid": uuid7(),
        "title": new.title,
        "description": new.description,
        "category": new.category,
        "severity": new.severity,
        "status": status,
        "project_id": new.project_id,
        "order_id": new.order_id,
        "task_id": new.task_id,
        "service": new.service,
        "resource": new.resource,
        "component": new.component,
        "host": new.host,
        "root_cause": new.root_cause,
        "resolution": new.resolution,
        "affected_records": new.affected_records,
        "labels": new.labels,
        "tags": new.tags,
        "source": new.source,
        "external_id": new.external_id,
        "dedup_key": new.dedup_key,
        "occurrence_count": 1,
        "reported_by": new.reported_by or new.actor,
        "assignee": None,
        "detected_at": new.detected_at,
        "last_seen_at": new.detected_at,
        "acknowledged_at": None,
        "resolved_at": None,
        "closed_at": None,
        "created_at": now,
        "updated_at": now,
    }
    pk = int(_INSERT_INCIDENT.execute(conn, row).fetchone()[0])
    entry = {
        "incident_id": pk,
        # The trail starts when the incident did; events may arrive with past times.
        "at": new.detected_at,
        "actor": new.actor,
        "kind": "created",
        "message": f"Declared {new.severity} {new.category} incident: {new.title}",
        "changes": {"status": {"from": None, "to": status}},
    }
    text_parts = (new.description, new.root_cause or "", new.resolution or "")
    search.index_new_incident(conn, pk, new.title, " ".join(text_parts))
    if returning:
        return pk, int(_INSERT_ENTRY_RETURNING.execute(conn, entry).fetchone()[0])
    _INSERT_ENTRY.execute(conn, entry)
    return pk, None


#: Incident columns the search index holds (with the notes).
_SEARCHED = frozenset({"title", "description", "root_cause", "resolution"})


def _check_rules(change: IncidentChange) -> None:
    status = change.fields.get("status")
    if status is not None:
        check_transition(status[0], status[1])


def _conflict(changes: Sequence[IncidentChange]) -> ConcurrentChangeError:
    ids = ", ".join(str(c.incident_id) for c in changes[:5])
    return ConcurrentChangeError(
        f"incident {ids} changed while this change was being decided; read it again and retry"
    )


def _sync_loaded(session: Session, changes: Sequence[IncidentChange], now: dt.datetime) -> None:
    """Show the new values on incidents this session has loaded, without a second write."""
    for change in changes:
        obj = session.identity_map.get(identity_key(Incident, (change.incident_id,)))
        if obj is None:
            continue
        for name, (_old, new) in change.fields.items():
            set_committed_value(obj, name, new)
        for name, value in change.fill.items():
            if getattr(obj, name) is None:
                set_committed_value(obj, name, value)
        if change.fields or change.fill:
            set_committed_value(obj, "updated_at", now)


def apply_change(*, session: Session, change: Change) -> Applied:
    """Apply one change; return the incident's row id and the new timeline entry's id."""
    session.info[INCIDENTS_CHANGED] = True
    if isinstance(change, NewIncident):
        pk, entry_id = _insert_incident(session, change, returning=True)
        return Applied(pk, entry_id)
    _check_rules(change)
    now = utcnow()
    conn = session.connection()
    if change.fields or change.fill:
        cursor = _update_for(change.shape).execute(conn, _update_params(change, now))
        if cursor.rowcount != 1:
            raise _conflict([change])
    entry_id = int(_INSERT_ENTRY_RETURNING.execute(conn, _entry_row(change)).fetchone()[0])
    if _changes_text(change):
        search.index_incidents(conn, [change.incident_id])
    _sync_loaded(session, [change], now)
    return Applied(change.incident_id, entry_id)


def apply_changes(*, session: Session, changes: Sequence[Change]) -> list[int]:
    """Apply ``changes`` in order; return each one's incident row id (new ones included).

    Consecutive changes of one shape are written with one ``executemany``; a row that no
    longer has the status or severity a change was decided on fails the whole call.
    """
    ids: list[int] = []
    run: list[IncidentChange] = []
    if changes:
        session.info[INCIDENTS_CHANGED] = True
    for change in changes:
        if isinstance(change, NewIncident):
            _write_run(session, run)
            run = []
            ids.append(_insert_incident(session, change, returning=False)[0])
            continue
        _check_rules(change)
        if run and run[0].shape != change.shape:
            _write_run(session, run)
            run = []
        run.append(change)
        ids.append(change.incident_id)
    _write_run(session, run)
    return ids


def _write_run(session: Session, run: Sequence[IncidentChange]) -> None:
    if not run:
        return
    now = utcnow()
    conn = session.connection()
    if run[0].fields or run[0].fill:
        params = [_update_params(c, now) for c in run]
        if _update_for(run[0].shape).executemany(conn, params) != len(run):
            raise _conflict(run)
    _INSERT_ENTRY.executemany(conn, [_entry_row(c) for c in run])
    search.index_incidents(conn, [c.incident_id for c in run if _changes_text(c)])
    _sync_loaded(session, run, now)


def _changes_text(change: IncidentChange) -> bool:
    """Whether the change alters what full-text search finds (a note, a text field)."""
    # A fill (an auto-resolution's default resolution text) says nothing worth finding.
    return change.kind == "note" or not _SEARCHED.isdisjoint(change.fields)


def count_sightings(*, session: Session, sightings: Mapping[int, Sightings]) -> None:
    """Add each incident's sightings to its count and move ``last_seen_at`` up (never back)."""
    if sightings:
        _COUNT_SIGHTINGS.executemany(
            session.connection(),
            [{"pk": pk, "n": s.count, "seen": s.last_seen} for pk, s in sightings.items()],
        )
