"""Turn signals into resource state history and incidents, a batch per transaction.

Per batch: read the current state and the active incident of every key once, plan in
order what each signal does (:func:`vigil.ingest.plan.plan_batch`, no database), then write
the plan (:func:`write_plan`) with ``executemany``; incident changes go to the one writer,
:mod:`vigil.incidents.changes`. On PostgreSQL the batch first takes transaction-scoped
advisory locks on its keys (sorted, so two server processes never deadlock), which
serializes writers of the same resource; SQLite's write lock already does. The partial
unique index ``uq_incidents_open_dedup_key`` backs the one-active-incident rule in any case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.db import PreparedStatement, insert_all_columns, later_of, lock_keys, utcnow
from vigil.incidents import ACTIVE_SQL, Incident, IncidentChange, apply_changes, next_human_id
from vigil.ingest.cache import IngestCache, write_sightings
from vigil.ingest.maintenance import active_windows, suppressing_window
from vigil.ingest.models import Event, ResourceState, ResourceStateChange
from vigil.ingest.plan import (
    ActiveIncident,
    BatchPlan,
    EventRow,
    PlannedOpen,
    ResourceStateRow,
    fill_resources,
    plan_batch,
)
from vigil.ingest.signals import Outcome, Signal

__all__ = ["IngestCache", "ingest_signals", "write_plan"]

_CHUNK = 500
_STATE_COLS = tuple(f.name for f in fields(ResourceStateRow))


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


# Compiled once and run with the driver's executemany: a batch writes thousands of rows.
_INSERT_EVENT = PreparedStatement(insert_all_columns(_table(Event)))
# EventRow's fields are the events columns, in order (``incident`` is incident_id).
_EVENT_COLUMNS = tuple("incident_id" if f == "incident" else f for f in EventRow._fields)
_INSERT_CHANGE = PreparedStatement(insert_all_columns(_table(ResourceStateChange)))
_INSERT_STATE = PreparedStatement(
    insert(_table(ResourceState)).values({c: bindparam(c.key) for c in _table(ResourceState).c})
)
_UPDATE_STATE = PreparedStatement(
    update(_table(ResourceState))
    .where(_table(ResourceState).c.state_key == bindparam("k"))
    .values(
        status=bindparam("status"),
        health=bindparam("health"),
        since=bindparam("since"),
        # A cached state may be older than what another writer folded in: never backwards.
        last_seen_at=later_of(_table(ResourceState).c.last_seen_at, "last_seen_at"),
        host=bindparam("host"),
    )
)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class _Windows:
    """Maintenance windows in force, loaded only if a signal might open an incident."""

    def __init__(self, session: Session, now: dt.datetime) -> None:
        self._session, self._now = session, now
        self._rows: Sequence[Any] | None = None

    def covering(self, sig: Signal) -> Any | None:
        if self._rows is None:
            self._rows = active_windows(session=self._session, now=self._now)
        return suppressing_window(self._rows, sig)


def _load_states(session: Session, keys: Sequence[str]) -> dict[str, ResourceStateRow]:
    table = _table(ResourceState)
    conn = session.connection()
    out: dict[str, ResourceStateRow] = {}
    for chunk in _chunks(keys):
        for row in conn.execute(select(table).where(table.c.state_key.in_(chunk))).mappings():
            out[row["state_key"]] = ResourceStateRow(**row)
    return out


_ACTIVE_COLUMNS = (
    "id",
    "human_id",
    "severity",
    "status",
    "detected_at",
    "dedup_key",
    "resource",
    "component",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "resolution",
    "root_cause",
)


def _load_active(session: Session, keys: Sequence[str]) -> dict[str, ActiveIncident]:
    t = _table(Incident)
    cols = [t.c[name] for name in _ACTIVE_COLUMNS]
    out: dict[str, ActiveIncident] = {}
    for chunk in _chunks(keys):
        # The literal status list (not binds) lets the partial unique index serve this.
        stmt = select(*cols).where(t.c.dedup_key.in_(chunk), text(ACTIVE_SQL))
        for row in session.connection().execute(stmt):
            incident = ActiveIncident(*row)
            out[incident.dedup_key] = incident
    return out


def ingest_signals(
    *,
    session: Session,
    settings: Settings,
    signals: Sequence[Signal],
    cache: IngestCache | None = None,
) -> list[Outcome]:
    """Record ``signals`` in order and return what each did; all in the caller's transaction.

    ``cache`` (SQLite only) spares reloading the states and incidents of known keys.
    """
    if not signals:
        return []
    now = utcnow()
    dedup_keys = sorted({s.dedup_key for s in signals})
    lock_keys(session, [f"i:{k}" for k in dedup_keys])
    if cache is not None:
        cache.check(session)
        active = cache.active
        missing = [k for k in dedup_keys if k not in cache.known_active]
        active.update(_load_active(session, missing))
        cache.known_active.update(missing)
    else:
        active = _load_active(session, dedup_keys)
    signals = list(signals)
    fill_resources(signals, active)  # before the state keys they lock and load are known
    state_keys = sorted({s.state_key for s in signals if s.resource})
    lock_keys(session, [f"s:{k}" for k in state_keys])
    if cache is not None:
        states = cache.states
        loaded = _load_states(session, [k for k in state_keys if k not in states])
        cache.overlay_owed(loaded)  # the database lags what this writer owes
        states.update(loaded)
    else:
        states = _load_states(session, state_keys)
    plan = plan_batch(
        signals, states, active, settings=settings, windows=_Windows(session, now), now=now
    )
    return write_plan(session=session, settings=settings, plan=plan, cache=cache)


def write_plan(
    *, session: Session, settings: Settings, plan: BatchPlan, cache: IngestCache | None = None
) -> list[Outcome]:
    """Write what :func:`plan_batch` decided; return each signal's outcome."""
    conn = session.connection()
    if plan.new_states:
        _INSERT_STATE.executemany(
            conn, [{c: getattr(s, c) for c in _STATE_COLS} for s in plan.new_states.values()]
        )
    if plan.changed_states:
        _UPDATE_STATE.executemany(
            conn,
            [
                {
                    "k": s.state_key,
                    "status": s.status,
                    "health": s.health,
                    "since": s.since,
                    "last_seen_at": s.last_seen_at,
                    "host": s.host,
                }
                for s in plan.changed_states.values()
            ],
        )
    if plan.state_changes:
        _INSERT_CHANGE.executemany(conn, [c._asdict() for c in plan.state_changes])
    ids = _write_incident_steps(session, settings, plan)
    events = plan.events
    if ids:
        events = [
            e._replace(incident=ids[e.incident]) if e.incident is not None and e.incident < 0 else e
            for e in events
        ]
    _INSERT_EVENT.executemany_tuples(conn, _EVENT_COLUMNS, events)
    sightings = {ids.get(h, h): s for h, s in plan.sightings.items()}
    # Repeats only move counters; with a cache these are deferred (see vigil.ingest.cache).
    seen = {k: s.last_seen_at for k, s in plan.seen_states.items()}
    if cache is None or not cache.defer(session, sightings, seen):
        write_sightings(session, sightings, seen)
    return [
        Outcome(o.outcome)
        if o.incident is None
        else Outcome(o.outcome, o.incident.human_id, o.incident.id)
        for o in plan.outcomes
    ]


def _write_incident_steps(session: Session, settings: Settings, plan: BatchPlan) -> dict[int, int]:
    """Open, change and resolve incidents in plan order; return {handle: row id} of openings.

    Changes are written together; pending ones go first when an opening reuses a dedup key
    one of them frees (the partial unique index would refuse the opening otherwise).
    """
    ids: dict[int, int] = {}
    pending: list[IncidentChange] = []
    freeing: set[int] = set()  # incidents whose pending change may free their dedup key
    for step in plan.incident_steps:
        if isinstance(step, PlannedOpen):
            if freeing:
                apply_changes(session=session, changes=pending)
                pending, freeing = [], set()
            new = step.incident
            new.human_id = next_human_id(
                session=session, template=settings.id_template, when=new.detected_at
            )
            (pk,) = apply_changes(session=session, changes=[new])
            ids[step.handle] = pk
            step.active.id, step.active.human_id = pk, new.human_id
            continue
        if step.incident_id < 0:
            step.incident_id = ids[step.incident_id]
        if "status" in step.fields:
            freeing.add(step.incident_id)
        pending.append(step)
    apply_changes(session=session, changes=pending)
    return ids
