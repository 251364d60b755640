"""Down intervals per resource, kept in step with the state history and the incidents.

A resource is down while any of its components has a failing status or any of its incidents
is unresolved (detected → resolved). ``resource_downtime`` stores the union of those
intervals per resource (maximal, disjoint, epoch seconds, no end while still down), so an
availability query aggregates a few rows per resource instead of replaying every change.

Both sources are followed as change feeds (:mod:`vigil.feed`): new ``resource_state_changes``
rows and new ``timeline_entries`` rows (every incident change writes one) past the positions
of the follower ``availability``. For each resource they touch, from time T (the earliest time they
concern), the intervals are recomputed from T' = the start of the stored interval that
contains T (or T itself): just before T' the resource was up, so every component was
healthy and only changes and incidents from T' on matter.

:func:`pending_intervals` does that in memory (readers see exact numbers without writing);
:func:`refresh_downtime` stores the result and moves the positions in the caller's
transaction; :func:`refresh_in_steps` does the same in short transactions (the job
``availability.refresh`` in ``vigil serve``/``vigil worker`` and ``vigil report`` use it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from vigil.analytics.intervals import merge
from vigil.analytics.models import ResourceDowntime, ResourceObservation, RetentionCut
from vigil.db import PreparedStatement, Store, epoch_seconds
from vigil.feed import Position, advance, head, position_of
from vigil.feed import since as feed_window
from vigil.incidents import Incident, TimelineEntry
from vigil.ingest import ResourceStateChange

__all__ = ["Pending", "pending_intervals", "refresh_downtime", "refresh_in_steps"]

STATES, TIMELINE = "resource_state_changes", "timeline_entries"
FOLLOWER = "availability"
Marks = dict[str, Position]
_LOCK_KEY = 0x56_49_47_49_4C_41  # "VIGILA": one refresher at a time on PostgreSQL
_MARGIN = 0.001  # epoch seconds are rounded to the millisecond

Interval = tuple[float, float]
_T = ResourceStateChange
_BIND_AT = bindparam("since", type_=_T.at.type)
_CHANGES = PreparedStatement(
    select(_T.state_key, epoch_seconds(_T.at), _T.health)
    .where(_T.resource == bindparam("resource"), _T.at >= _BIND_AT)
    .order_by(_T.at, _T.id)
)
_INCIDENTS = PreparedStatement(
    select(epoch_seconds(Incident.detected_at), epoch_seconds(Incident.resolved_at)).where(
        Incident.resource == bindparam("resource"),
        Incident.detected_at >= bindparam("since", type_=Incident.detected_at.type),
    )
)
_CONTAINING = PreparedStatement(
    select(ResourceDowntime.start_s).where(
        ResourceDowntime.resource == bindparam("resource"),
        ResourceDowntime.start_s <= bindparam("t"),
        (ResourceDowntime.end_s.is_(None)) | (ResourceDowntime.end_s >= bindparam("t")),
    )
)
_FIRST_CHANGE = PreparedStatement(
    select(epoch_seconds(func.min(_T.at))).where(_T.resource == bindparam("resource"))
)
_FIRST_INCIDENT = PreparedStatement(
    select(epoch_seconds(func.min(Incident.detected_at))).where(
        Incident.resource == bindparam("resource")
    )
)


@dataclass
class Pending:
    """Resources whose stored intervals are behind the logs, with their recomputed tails."""

    since: dict[str, float] = field(default_factory=dict)  # T' per resource
    tails: dict[str, list[Interval]] = field(default_factory=dict)  # from T' on, inf = open
    first_seen: dict[str, float | None] = field(default_factory=dict)  # None: nothing left


def _positions(session: Session) -> Marks:
    return {
        log: position_of(session=session, follower=FOLLOWER, log=log) for log in (STATES, TIMELINE)
    }


def _dirty(session: Session, low: Marks) -> tuple[dict[str, float], set[str], Marks]:
    """Return {resource: earliest affected time}, resources an incident left, new positions."""
    dirty: dict[str, float] = {}
    left: set[str] = set()
    # Nothing is rebuilt from before the state history's retention cut (its changes are gone;
    # what was stored from them stays).
    cut = session.get(RetentionCut, STATES)
    horizon = cut.pruned_before.timestamp() if cut else -math.inf

    def touch(resource: str | None, at: float | None) -> None:
        if resource is None or at is None:
            return
        at = max(at, horizon)
        if at < dirty.get(resource, math.inf):
            dirty[resource] = at

    high = {log: head(session=session, log=log) for log in (STATES, TIMELINE)}
    if high[STATES] > low[STATES]:
        stmt = (
            select(_T.resource, epoch_seconds(func.min(_T.at)))
            .where(feed_window(session=session, log=STATES, low=low[STATES], high=high[STATES]))
            .group_by(_T.resource)
        )
        for resource, at in session.execute(stmt):
            touch(resource, at)
    if high[TIMELINE] > low[TIMELINE]:
        e = TimelineEntry
        window = feed_window(session=session, log=TIMELINE, low=low[TIMELINE], high=high[TIMELINE])
        stmt2 = (
            select(Incident.resource, epoch_seconds(Incident.detected_at), e.kind, e.changes)
            .join(Incident, Incident.id == e.incident_id)
            .where(window)
        )
        for resource, detected, kind, changes in session.execute(stmt2):
            touch(resource, detected)
            if kind == "updated" and "resource" in changes:
                # The incident moved away from a resource: that one's intervals change too.
                old = changes["resource"].get("from")
                touch(old, detected)
                if old is not None:
                    left.add(old)
    return dirty, left, high


def _tail(session: Session, resource: str, since: float) -> list[Interval]:
    """Down intervals of ``resource`` from ``since`` on, merged; inf marks an open end."""
    conn = session.connection()
    at = dt.datetime.fromtimestamp(since - _MARGIN, dt.UTC)
    raw: list[Interval] = []
    failing_since: dict[str, float] = {}
    for key, ts, health in _CHANGES.execute(conn, {"resource": resource, "since": at}):
        ts = max(ts, since)
        began = failing_since.get(key)
        if health == "failing":
            if began is None:
                failing_since[key] = ts
        elif began is not None:
            raw.append((began, ts))
            del failing_since[key]
    raw.extend((began, math.inf) for began in failing_since.values())
    for detected, resolved in _INCIDENTS.execute(conn, {"resource": resource, "since": at}):
        raw.append((max(detected, since), math.inf if resolved is None else resolved))
    return [(a, b) for a, b in merge(raw) if b > a]


def _first_seen(session: Session, resource: str) -> float | None:
    conn = session.connection()
    seen = [
        stmt.execute(conn, {"resource": resource}).fetchone()[0]
        for stmt in (_FIRST_CHANGE, _FIRST_INCIDENT)
    ]
    known = [s for s in seen if s is not None]
    return min(known) if known else None


def pending_intervals(*, session: Session, resources: Sequence[str] | None = None) -> Pending:
    """Recompute, without writing, the intervals the stored ones are missing (of ``resources``)."""
    dirty, left, _marks = _dirty(session, _positions(session))
    if resources is not None:
        wanted = set(resources)
        dirty = {r: t for r, t in dirty.items() if r in wanted}
    return _pending(session, dirty, left)


def _pending(session: Session, dirty: dict[str, float], left: set[str]) -> Pending:
    """Recompute ``dirty`` resources, each from its earliest affected time on."""
    pending = Pending()
    conn = session.connection()
    o = ResourceObservation
    known: dict[str, float] = {}
    names = sorted(dirty)
    for i in range(0, len(names), 500):
        stmt = select(o.resource, o.first_seen_s).where(o.resource.in_(names[i : i + 500]))
        known.update((r, t) for r, t in session.execute(stmt))
    for resource, t in dirty.items():
        row = _CONTAINING.execute(conn, {"resource": resource, "t": t}).fetchone()
        since = t if row is None else min(t, row[0])
        pending.since[resource] = since
        pending.tails[resource] = _tail(session, resource, since)
        if resource in left:
            pending.first_seen[resource] = _first_seen(session, resource)
        else:
            # Every observation after the position is at t or later; earlier ones are known.
            pending.first_seen[resource] = min(t, known.get(resource, math.inf))
    return pending


def _plan(session: Session) -> tuple[dict[str, float], set[str], Marks]:
    """Resources with rows past the follower's positions (with their earliest affected time),
    the ones an incident left, and the positions that cover them (see :mod:`vigil.feed` for
    why no committed row is ever skipped on PostgreSQL)."""
    return _dirty(session, _positions(session))


def _lock_refresh(session: Session) -> None:
    """One refresher at a time on PostgreSQL (SQLite's write lock already serializes them)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def _advance(session: Session, marks: Marks) -> None:
    """Move the follower's positions forward (never back: another refresher may be ahead)."""
    for log, to in marks.items():
        advance(session=session, follower=FOLLOWER, log=log, to=to)


def _store(session: Session, pending: Pending) -> None:
    d = ResourceDowntime
    for resource, since in pending.since.items():
        session.execute(delete(d).where(d.resource == resource, d.start_s >= since))
        rows = [
            {"resource": resource, "start_s": a, "end_s": None if b == math.inf else b}
            for a, b in pending.tails[resource]
        ]
        if rows:
            session.execute(insert(d), rows)
    if not pending.first_seen:
        return
    o = ResourceObservation
    known = dict(
        session.execute(
            select(o.resource, o.first_seen_s).where(o.resource.in_(pending.first_seen))
        ).all()
    )
    for resource, first in pending.first_seen.items():
        if first is None:
            session.execute(delete(o).where(o.resource == resource))
        elif resource not in known:
            session.execute(insert(o).values(resource=resource, first_seen_s=first))
        elif known[resource] != first:
            session.execute(update(o).where(o.resource == resource).values(first_seen_s=first))


def refresh_downtime(*, session: Session) -> int:
    """Store what the stored intervals are missing and move the follower's positions, all in
    the caller's transaction; return how many resources were rebuilt."""
    _lock_refresh(session)  # the job's steps (or a prune) may be refreshing at the same time
    dirty, left, marks = _plan(session)
    _store(session, _pending(session, dirty, left))
    _advance(session, marks)
    session.flush()
    return len(dirty)


def refresh_in_steps(*, store: Store, step: int = 50) -> int:
    """Refresh in short write transactions of ``step`` resources, then move the positions.

    Owns its transactions (like the ingest pipeline), so ingestion never waits for more than
    one step; the background loop of ``vigil serve`` and ``vigil report`` use it. Each step
    recomputes its resources from the times the plan found; rows that arrived since are past
    the planned positions, so the next refresh takes them (recomputing is idempotent).
    """
    with store.write() as session:
        dirty, left, marks = _plan(session)
    names = sorted(dirty)
    for i in range(0, len(names), step):
        with store.write() as session:
            _lock_refresh(session)  # two refreshers on one resource would collide on its rows
            _store(session, _pending(session, {r: dirty[r] for r in names[i : i + step]}, left))
    with store.write() as session:
        _advance(session, marks)
    return len(names)
