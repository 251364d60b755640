"""Retention: prune the logs that grow without end, keep what availability and postmortems need.

Two logs are pruned by age, each with its own setting (0 keeps a log forever):

* the **event log** (``events``, ``VIGIL_EVENT_RETENTION_DAYS``): every event as received.
  Nothing is derived from it later (incidents, their timelines and the state history are
  written when the event arrives), so events older than the cut go.
* the **state history** (``resource_state_changes``, ``VIGIL_STATE_HISTORY_RETENTION_DAYS``):
  availability is read from the stored down intervals (``resource_downtime``, never pruned),
  which the availability follower builds from this history. A change older than the cut goes
  only when (a) the follower has read it, and (b) it is older than the start of every stored
  interval of its resource that ends after the cut (or is still open): a later rebuild of that
  resource starts no earlier than there, so it finds every change it reads.

After a prune the cut is recorded (``retention_cuts``); a change to an incident detected before
the state history's cut no longer rebuilds stored availability before the cut (it stays as it
was computed). Incidents, timelines, postmortems and notifications are never pruned.

Deletes run in batches (``limit`` rows per log per call), so a prune never holds the write
lock for long.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session

from vigil.analytics.downtime import refresh_downtime
from vigil.analytics.models import ResourceDowntime as D
from vigil.analytics.models import RetentionCut
from vigil.config import Settings
from vigil.db import Store, epoch_seconds, utcnow
from vigil.feed import Position, position_of, since
from vigil.ingest import Event, ResourceStateChange

__all__ = ["LOGS", "Pruned", "prune_in_batches", "prune_logs", "pruned_before"]

LOGS = ("events", "resource_state_changes")
_FOLLOWER = "availability"


@dataclass(frozen=True)
class Pruned:
    """What a prune of one log removed (or, in a dry run, would remove)."""

    log: str
    cut: dt.datetime | None  # None: the log is kept forever
    rows: int


def pruned_before(*, session: Session, log: str) -> dt.datetime | None:
    """How far back ``log`` has been pruned (None if it never was)."""
    row = session.get(RetentionCut, log)
    return row.pruned_before if row else None


def _cut(days: int, now: dt.datetime) -> dt.datetime | None:
    return now - dt.timedelta(days=days) if days > 0 else None


def _event_ids(cut: dt.datetime, limit: int) -> Select[int]:
    return select(Event.id).where(Event.received_at < cut).order_by(Event.id).limit(limit)


def _state_ids(session: Session, cut: dt.datetime, limit: int) -> Select[int]:
    c = ResourceStateChange
    read = since(
        session=session,
        log="resource_state_changes",
        low=Position(),
        high=position_of(session=session, follower=_FOLLOWER, log="resource_state_changes"),
    )
    # A stored interval of the resource still running at the cut, begun at or before this
    # change: a rebuild may read from its start, so the change stays.
    needed = exists().where(
        D.resource == c.resource,
        func.coalesce(D.end_s, math.inf) > cut.timestamp(),
        D.start_s <= epoch_seconds(c.at) + 0.001,
    )
    return select(c.id).where(c.at < cut, read, ~needed).order_by(c.id).limit(limit)


def _any_before(session: Session, cut: dt.datetime) -> bool:
    c = ResourceStateChange
    return session.execute(select(c.id).where(c.at < cut).limit(1)).first() is not None


def prune_logs(
    *,
    session: Session,
    settings: Settings,
    dry_run: bool = False,
    limit: int = 50_000,
    now: dt.datetime | None = None,
) -> list[Pruned]:
    """Prune each log past its retention (up to ``limit`` rows each); a dry run counts what
    would go (all of it) and changes nothing. The caller commits."""
    now = now or utcnow()
    out = []
    for log, days in (
        ("events", settings.event_retention_days),
        ("resource_state_changes", settings.state_history_retention_days),
    ):
        cut = _cut(days, now)
        if cut is None:
            out.append(Pruned(log, None, 0))
            continue
        if log == "resource_state_changes" and not dry_run and _any_before(session, cut):
            refresh_downtime(session=session)  # the follower reads what is about to go
        ids = (
            _event_ids(cut, limit if not dry_run else 2**62)
            if log == "events"
            else _state_ids(session, cut, limit if not dry_run else 2**62)
        )
        if dry_run:
            count = session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
            out.append(Pruned(log, cut, int(count)))
            continue
        table = Event if log == "events" else ResourceStateChange
        stmt = delete(table).where(table.id.in_(ids.scalar_subquery()))
        gone = session.execute(stmt).rowcount  # type: ignore[attr-defined]
        known = session.get(RetentionCut, log)
        if known is None:
            session.add(RetentionCut(log=log, pruned_before=cut))
        elif known.pruned_before < cut:
            known.pruned_before = cut
        out.append(Pruned(log, cut, int(gone or 0)))
    session.flush()
    return out


def prune_in_batches(
    *, store: Store, dry_run: bool = False, batch: int = 10_000, seconds: float | None = None
) -> list[Pruned]:
    """Prune in short write transactions of ``batch`` rows per log until nothing is left (or
    ``seconds`` have passed); a dry run counts everything in one read. Owns its transactions,
    like the availability refresh: the job and ``vigil db prune`` both call it."""
    import time

    if dry_run:
        with store.read() as session:
            return prune_logs(session=session, settings=store.settings, dry_run=True)
    deadline = None if seconds is None else time.monotonic() + seconds
    totals: dict[str, Pruned] = {}
    while True:
        with store.write() as session:
            done = prune_logs(session=session, settings=store.settings, limit=batch)
        for p in done:
            before = totals.get(p.log)
            totals[p.log] = Pruned(p.log, p.cut, p.rows + (before.rows if before else 0))
        finished = all(p.rows < batch for p in done)
        if finished or (deadline is not None and time.monotonic() >= deadline):
            return list(totals.values())
