"""Turn signals into resource state history and incidents, a batch per transaction.

Per batch: read the current state and the active incident of every key once,
decide in order what each signal does, then write with ``executemany``. On
PostgreSQL the batch first takes transaction-scoped advisory locks on its keys
(sorted, so two server processes never deadlock), which serializes writers of
the same resource; SQLite's write lock already does. The partial unique index
``uq_incidents_open_dedup_key`` backs the one-active-incident rule in any case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.db.base import utcnow
from vigil.db.fastpath import PreparedStatement, insert_all_columns
from vigil.db.locks import lock_keys
from vigil.incidents import service as incidents
from vigil.incidents.lifecycle import SEVERITIES, severity_rank
from vigil.incidents.models import ACTIVE_SQL, Incident, TimelineEntry
from vigil.incidents.schemas import IncidentCreate
from vigil.ingest.cache import IngestCache, Seen, Touches, later_of, write_counters
from vigil.ingest.maintenance import active_windows, suppressing_window
from vigil.ingest.models import Event, ResourceState, ResourceStateChange
from vigil.ingest.resolutions import Resolutions
from vigil.ingest.signals import Outcome, Signal

__all__ = ["IngestCache", "ingest_signals"]

_CHUNK = 500
_STATE_COLS = (
    "state_key",
    "resource",
    "component",
    "host",
    "service",
    "status",
    "health",
    "since",
    "first_seen_at",
    "last_seen_at",
    "labels",
)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


# Compiled once and run with the driver's executemany: a batch writes thousands of rows.
_INSERT_EVENT = PreparedStatement(insert_all_columns(_table(Event)))
# The order in which ingest_signals builds event rows.
_EVENT_COLUMNS = (
    "received_at",
    "occurred_at",
    "source",
    "sender",
    "resource",
    "component",
    "host",
    "status",
    "severity",
    "summary",
    "dedup_key",
    "labels",
    "details",
    "incident_id",
    "outcome",
)
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
_RANK = {name: severity_rank(name) for name in SEVERITIES}


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


def _load_states(session: Session, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    table = _table(ResourceState)
    conn = session.connection()
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        for row in conn.execute(select(table).where(table.c.state_key.in_(chunk))).mappings():
            out[row["state_key"]] = dict(row)
    return out


def _load_active(session: Session, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    t = _table(Incident)
    cols = (
        t.c.id,
        t.c.human_id,
        t.c.severity,
        t.c.status,
        t.c.detected_at,
        t.c.last_seen_at,
        t.c.dedup_key,
        t.c.resource,
        t.c.component,
    )
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        # The literal status list (not binds) lets the partial unique index serve this.
        stmt = select(*cols).where(t.c.dedup_key.in_(chunk), text(ACTIVE_SQL))
        for row in session.connection().execute(stmt).mappings():
            out[row["dedup_key"]] = dict(row)
    return out


def _title(sig: Signal) -> str:
    where = (
        f"{sig.component} {sig.status} on {sig.resource}"
        if sig.component
        else f"{sig.resource} {sig.status}"
    )
    return (sig.summary or where)[:300]


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
        missing = [k for k in dedup_keys if k not in cache.known_active]
        cache.active.update(_load_active(session, missing))
        cache.known_active.update(missing)
        active = cache.active
    else:
        active = _load_active(session, dedup_keys)
    for sig in signals:
        # Acknowledge/resolve by dedup key alone (PagerDuty) concern the incident's resource.
        if not sig.resource and sig.dedup_key in active:
            sig.resource = active[sig.dedup_key]["resource"] or ""
            sig.component = active[sig.dedup_key]["component"] or ""
    sig_keys = [s.state_key for s in signals]
    state_keys = sorted({k for s, k in zip(signals, sig_keys, strict=True) if s.resource})
    lock_keys(session, [f"s:{k}" for k in state_keys])
    if cache is not None:
        states = cache.states
        loaded = _load_states(session, [k for k in state_keys if k not in states])
        if cache.counters is not None and cache.counters.pending:
            cache.counters.overlay_owed(loaded)  # the database lags what this writer owes
        states.update(loaded)
    else:
        states = _load_states(session, state_keys)
    windows = _Windows(session, now)
    resolutions = Resolutions(session)
    new_states: dict[str, dict[str, Any]] = {}
    changed_states: dict[str, dict[str, Any]] = {}
    seen_only: dict[str, dict[str, Any]] = {}
    changes: list[dict[str, Any]] = []
    touches: Touches = {}
    events: list[tuple[Any, ...]] = []
    outcomes: list[Outcome] = []

    for sig, key in zip(signals, sig_keys, strict=True):
        state = states.get(key)
        if is_late(sig, state):
            # Older than what is already known of the resource: it cannot say what the
            # resource is doing now, so it is logged and changes nothing.
            outcomes.append(Outcome("late"))
            events.append(_event_row(now, sig, None, "late"))
            continue
        if not sig.resource or sig.action == "acknowledge":
            pass  # no observation of the resource itself
        elif state is None or state["status"] != sig.status:
            changes.append(
                {
                    "state_key": key,
                    "resource": sig.resource,
                    "component": sig.component,
                    "at": sig.occurred_at,
                    "status": sig.status,
                    "health": sig.health,
                    "previous_status": state["status"] if state else None,
                }
            )
            if state is None:
                state = {
                    "state_key": key,
                    "resource": sig.resource,
                    "component": sig.component,
                    "host": sig.host,
                    "service": sig.service,
                    "status": sig.status,
                    "health": sig.health,
                    "since": sig.occurred_at,
                    "first_seen_at": sig.occurred_at,
                    "last_seen_at": sig.occurred_at,
                    "labels": sig.labels,
                }
                new_states[key] = state
                states[key] = state
            else:
                state.update(
                    status=sig.status,
                    health=sig.health,
                    since=sig.occurred_at,
                    last_seen_at=max(state["last_seen_at"], sig.occurred_at),
                    host=sig.host or state["host"],
                )
                if key not in new_states:
                    changed_states[key] = state
        else:
            state["last_seen_at"] = max(state["last_seen_at"], sig.occurred_at)
            if key not in new_states and key not in changed_states:
                seen_only[key] = state

        outcome = _apply_to_incident(session, settings, sig, active, touches, windows, resolutions)
        outcomes.append(outcome)
        events.append(_event_row(now, sig, outcome.pk, outcome.outcome))

    conn = session.connection()
    if new_states:
        _INSERT_STATE.executemany(
            conn, [{c: s[c] for c in _STATE_COLS} for s in new_states.values()]
        )
    updates = list(changed_states.values())
    if updates:
        _UPDATE_STATE.executemany(
            conn,
            [
                {
                    "k": s["state_key"],
                    "status": s["status"],
                    "health": s["health"],
                    "since": s["since"],
                    "last_seen_at": s["last_seen_at"],
                    "host": s["host"],
                }
                for s in updates
            ],
        )
    if changes:
        _INSERT_CHANGE.executemany(conn, changes)
    resolutions.flush()
    _INSERT_EVENT.executemany_tuples(conn, _EVENT_COLUMNS, events)
    # Repeats only move counters; with a cache these are deferred (see vigil.ingest.cache).
    seen: Seen = {k: s["last_seen_at"] for k, s in seen_only.items()}
    if cache is not None:
        last_event_id = cache.mark(session)[0]
        if cache.counters is not None:
            cache.counters.add(session, touches, seen, (cache.last_event_id + 1, last_event_id))
            return outcomes
    write_counters(session, touches, seen)
    return outcomes


def is_late(sig: Signal, state: dict[str, Any] | None) -> bool:
    """True for a native event observed before the newest sighting of its resource.

    Only native events carry observation times. Alert webhooks (Alertmanager, Grafana,
    PagerDuty) and heartbeats report their current view when delivered: Alertmanager
    repeats a firing alert with its original ``startsAt``, which is not a late sighting.
    """
    return (
        sig.source == "events"
        and state is not None
        and bool(sig.resource)
        and sig.occurred_at < state["last_seen_at"]
    )


def _event_row(now: dt.datetime, sig: Signal, pk: int | None, outcome: str) -> tuple[Any, ...]:
    return (
        now,
        sig.occurred_at,
        sig.source,
        sig.sender,
        sig.resource,
        sig.component,
        sig.host,
        sig.status,
        sig.severity,
        sig.summary,
        sig.dedup_key,
        sig.labels,
        sig.details,
        pk,
        outcome,
    )


def _apply_to_incident(
    session: Session,
    settings: Settings,
    sig: Signal,
    active: dict[str, dict[str, Any]],
    touches: Touches,
    windows: _Windows,
    resolutions: Resolutions,
) -> Outcome:
    incident = active.get(sig.dedup_key)
    if sig.action == "acknowledge":
        if incident is None:
            return Outcome("recorded")
        if incident["status"] == "open":
            incidents.transition_incident(
                session=session,
                ref=incident["human_id"],
                target="acknowledged",
                actor=sig.sender,
                at=sig.occurred_at,
            )
            incident["status"] = "acknowledged"
        return Outcome("acknowledged", incident["human_id"], incident["id"])
    if sig.health == "failing":
        severity = sig.severity or "high"
        if incident is not None:
            touch = touches.get(incident["id"])
            if touch is None:
                touches[incident["id"]] = [1, sig.occurred_at]
            else:
                touch[0] += 1
                if sig.occurred_at > touch[1]:
                    touch[1] = sig.occurred_at
            if _RANK[severity] < _RANK[incident["severity"]]:
                _escalate(session, incident, severity, sig)
            return Outcome("updated", incident["human_id"], incident["id"])
        if windows.covering(sig) is not None:
            return Outcome("suppressed")
        data = IncidentCreate(
            title=_title(sig),
            description=sig.summary,
            category=sig.category or settings.ingest_category,
            severity=severity,
            service=sig.service,
            resource=sig.resource,
            component=sig.component or None,
            host=sig.host,
            labels=sig.labels,
            detected_at=sig.occurred_at,
            dedup_key=sig.dedup_key,
            reported_by=sig.sender,
        )
        if sig.dedup_key in resolutions.keys:
            resolutions.flush()  # the pending resolution must free the key before the insert
        pk, human_id = incidents.insert_incident(
            session=session,
            settings=settings,
            data=data,
            actor=sig.sender,
            source=sig.source,
            check_dedup=False,
        )
        active[sig.dedup_key] = {
            "id": pk,
            "human_id": human_id,
            "severity": severity,
            "status": "open",
            "detected_at": sig.occurred_at,
            "last_seen_at": sig.occurred_at,
            "dedup_key": sig.dedup_key,
            "resource": sig.resource,
            "component": sig.component,
        }
        return Outcome("opened", human_id, pk)
    if incident is None:
        return Outcome("recorded")
    what = sig.component or sig.resource
    note = (
        f"Auto-resolved: {what} recovered" if sig.action == "auto" else f"Resolved by {sig.source}"
    )
    resolutions.add(incident, sig, note, max(sig.occurred_at, incident["detected_at"]))
    del active[sig.dedup_key]
    return Outcome("resolved", incident["human_id"], incident["id"])


def _escalate(session: Session, incident: dict[str, Any], severity: str, sig: Signal) -> None:
    """Raise the severity of an active incident when a worse status arrives."""
    session.execute(
        update(Incident)
        .where(Incident.id == incident["id"])
        .values(severity=severity, updated_at=utcnow())
    )
    session.add(
        TimelineEntry(
            incident_id=incident["id"],
            at=sig.occurred_at,
            actor=sig.sender,
            kind="updated",
            message=f"Severity {incident['severity']} → {severity}: {sig.component or sig.resource} {sig.status}",
            changes={"severity": {"from": incident["severity"], "to": severity}},
        )
    )
    incident["severity"] = severity
