"""What the SQLite ingest writer keeps between batches: known rows and deferred counters.

:class:`IngestCache` spares reloading the states and active incidents of keys the writer
has already seen. :class:`DeferredCounters` keeps the two counters every repeated event
bumps (an incident's ``occurrence_count``/``last_seen_at``, a resource state's
``last_seen_at``) in memory and writes them at most once per interval: rewriting a thousand
wide rows per batch cost more than recording the batch itself.

Nothing accepted is lost by deferring: the event log already holds every sighting. Each
deferred batch records the id range of its event rows in ``ingest_pending`` (in the batch's
own transaction); a flush writes the counters and deletes those rows (in one transaction).
If the process dies in between, :func:`fold_pending` (run when a writer starts) recomputes
the counters of the recorded ranges from the event log. A flush that finds its rows gone
knows another writer folded them and drops its in-memory copy, so nothing counts twice.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from vigil.db import PreparedStatement, later_of
from vigil.incidents import Sightings, TimelineEntry, count_sightings
from vigil.ingest.models import Event, IngestPending, ResourceState, ResourceStateChange
from vigil.ingest.plan import ActiveIncident, ResourceStateRow
from vigil.ingest.signals import state_key

__all__ = ["DeferredCounters", "IngestCache", "fold_pending", "write_sightings"]

_EVENTS = cast(Table, Event.__table__)
_STATES = cast(Table, ResourceState.__table__)
_PENDING = cast(Table, IngestPending.__table__)
_SEEN_STATE = PreparedStatement(
    update(_STATES)
    .where(_STATES.c.state_key == bindparam("k"))
    .values(last_seen_at=later_of(_STATES.c.last_seen_at, "seen"))
)
_RECORD_PENDING = PreparedStatement(
    insert(_PENDING).values(
        period=bindparam("period"), first_event_id=bindparam("a"), last_event_id=bindparam("b")
    )
)
_DROP_PENDING = PreparedStatement(
    delete(_PENDING).where(_PENDING.c.period == bindparam("p")).returning(_PENDING.c.id)
)

Touches = dict[int, Sightings]  # incident id -> repeats not yet counted
Seen = dict[str, dt.datetime]  # state key -> latest sighting


def write_sightings(session: Session, touches: Touches, seen: Seen) -> None:
    """Count repeats of incidents and move states' ``last_seen_at`` (never backwards)."""
    count_sightings(session=session, sightings=touches)
    if seen:
        _SEEN_STATE.executemany(
            session.connection(), [{"k": k, "seen": at} for k, at in seen.items()]
        )


def _merge(touches: Touches, seen: Seen, more_touches: Touches, more_seen: Seen) -> None:
    for pk, more in more_touches.items():
        have = touches.get(pk)
        if have is None:
            touches[pk] = Sightings(more.count, more.last_seen)
        else:
            have.add(more.count, more.last_seen)
    for key, at in more_seen.items():
        if key not in seen or at > seen[key]:
            seen[key] = at


class DeferredCounters:
    """Repeat counters of committed batches, written at most every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.period = uuid.uuid4().hex
        # Per deferred batch: its ``ingest_pending`` row and counters.
        self.batches: list[tuple[int, Touches, Seen]] = []
        self.since: float | None = None  # monotonic time of the oldest unwritten batch
        self._staged: tuple[int, Touches, Seen] | None = None
        self._flushed = False

    @property
    def pending(self) -> bool:
        """True while counters wait to be written."""
        return bool(self.batches)

    def due(self) -> bool:
        """True when the oldest unwritten counter is ``interval`` seconds old."""
        return self.since is not None and time.monotonic() - self.since >= self.interval

    def due_in(self) -> float:
        """Seconds until :meth:`due` (0 if it is; ``interval`` if nothing is owed)."""
        if self.since is None:
            return self.interval
        return max(0.0, self.since + self.interval - time.monotonic())

    def add(
        self,
        session: Session,
        touches: Touches,
        seen: Seen,
        events: tuple[int, int] | None,
    ) -> None:
        """Defer one batch's counters (its events are rows ``events``), or write all owed
        ones with them when due or when ``events`` is None (idle, shutdown).

        Takes effect in memory only after :meth:`committed`; :meth:`rolled_back` forgets it.
        """
        self._staged, self._flushed = None, False
        if events is None or self.due():
            all_touches: Touches = {}
            all_seen: Seen = {}
            if self.batches:
                # Rows another writer folded from the event log are gone, and so are owed
                # no more (folding takes all rows at once, under the write lock).
                alive = {
                    row[0]
                    for row in _DROP_PENDING.execute(
                        session.connection(), {"p": self.period}
                    ).fetchall()
                }
                for row_id, t, s in self.batches:
                    if row_id in alive:
                        _merge(all_touches, all_seen, t, s)
            _merge(all_touches, all_seen, touches, seen)
            write_sightings(session, all_touches, all_seen)
            self._flushed = True
            return
        if not (touches or seen):
            return
        cursor = _RECORD_PENDING.execute(
            session.connection(), {"period": self.period, "a": events[0], "b": events[1]}
        )
        self._staged = (int(cursor.lastrowid), touches, seen)

    def overlay_owed(self, states: dict[str, ResourceStateRow]) -> None:
        """Move freshly loaded states' ``last_seen_at`` up to sightings this writer owes."""
        for _row, _touches, seen in self.batches:
            for key, at in seen.items():
                state = states.get(key)
                if state is not None and at > state.last_seen_at:
                    state.last_seen_at = at

    def committed(self) -> None:
        """The transaction of the last :meth:`add` committed."""
        if self._flushed:
            self.batches, self.since, self.period = [], None, uuid.uuid4().hex
        elif self._staged is not None:
            self.batches.append(self._staged)
            if self.since is None:
                self.since = time.monotonic()
        self._staged, self._flushed = None, False

    def rolled_back(self) -> None:
        """The transaction of the last :meth:`add` rolled back."""
        self._staged, self._flushed = None, False


def fold_pending(session: Session) -> int:
    """Write the counters of deferred batches whose writer stopped before writing them.

    Recomputes them from the event log (repeats are the ``updated`` events; every event of
    a resource is a sighting) and deletes the ranges; returns how many events were folded.
    """
    ranges = session.execute(select(_PENDING.c.first_event_id, _PENDING.c.last_event_id)).all()
    if not ranges:
        return 0
    touches: Touches = {}
    seen: Seen = {}
    folded = 0
    e = _EVENTS.c
    for first, last in ranges:
        in_range = e.id.between(first, last)
        for pk, n, at in session.execute(
            select(e.incident_id, func.count(), func.max(e.occurred_at))
            .where(in_range, e.outcome == "updated", e.incident_id.is_not(None))
            .group_by(e.incident_id)
        ):
            _merge(touches, seen, {pk: Sightings(n, at)}, {})
        for resource, component, at in session.execute(
            select(e.resource, e.component, func.max(e.occurred_at))
            .where(in_range, e.resource != "", e.outcome != "acknowledged")
            .group_by(e.resource, e.component)
        ):
            _merge(touches, seen, {}, {state_key(resource, component): at})
        folded += last - first + 1
    write_sightings(session, touches, seen)
    session.execute(delete(_PENDING))
    return folded


class IngestCache:
    """States and active incidents of the keys one writer has seen, kept across batches.

    Used on SQLite only, where commits are serialized and row ids grow in commit order: if
    the highest ids of the logs every writer appends to (events, state changes, incident
    timeline) are still those this writer left, nobody else changed what is cached. The
    owner calls :meth:`clear` when a batch fails (its changes to the cache rolled back).
    ``counters`` (if set) defers repeat counters; they survive :meth:`clear`.
    """

    def __init__(self, limit: int = 200_000, counter_seconds: float = 0.0) -> None:
        self.limit = limit
        self.states: dict[str, ResourceStateRow] = {}
        self.active: dict[str, ActiveIncident] = {}
        self.known_active: set[str] = set()
        self.counters = DeferredCounters(counter_seconds) if counter_seconds > 0 else None
        self._marks: tuple[Any, ...] | None = None
        self.last_event_id: int = 0

    def clear(self) -> None:
        """Forget the cached rows (deferred counters are kept: they are still owed)."""
        self.states.clear()
        self.active.clear()
        self.known_active.clear()
        self._marks = None

    def check(self, session: Session) -> None:
        """Clear unless nothing was written since this writer's last batch."""
        marks = _marks(session)
        self.last_event_id = marks[0] or 0
        if self._marks != marks or len(self.known_active) > self.limit:
            self.clear()

    def mark(self, session: Session) -> tuple[Any, ...]:
        """Record the logs' ends after this writer's batch; return them."""
        session.flush()  # anything the session still holds must be in the logs first
        self._marks = _marks(session)
        return self._marks

    def overlay_owed(self, states: dict[str, ResourceStateRow]) -> None:
        """Move freshly loaded states up to the sightings this writer still owes."""
        if self.counters is not None and self.counters.pending:
            self.counters.overlay_owed(states)

    def defer(self, session: Session, touches: Touches, seen: Seen) -> bool:
        """Mark the logs after a batch and defer its counters; False if they are not
        deferred (no counter interval), so the caller writes them now."""
        previous = self.last_event_id
        last_event_id = self.mark(session)[0]
        if self.counters is None:
            return False
        self.counters.add(session, touches, seen, (previous + 1, last_event_id))
        return True

    def committed(self) -> None:
        """The batch's transaction committed: what it cached and deferred now holds."""
        if self.counters is not None:
            self.counters.committed()

    def rolled_back(self) -> None:
        """The batch's transaction rolled back: forget what it changed in the cache."""
        self.clear()
        if self.counters is not None:
            self.counters.rolled_back()


_MARKS = PreparedStatement(
    select(
        select(func.max(_EVENTS.c.id)).scalar_subquery(),
        select(func.max(cast(Table, ResourceStateChange.__table__).c.id)).scalar_subquery(),
        select(func.max(cast(Table, TimelineEntry.__table__).c.id)).scalar_subquery(),
    )
)


def _marks(session: Session) -> tuple[Any, ...]:
    return tuple(_MARKS.execute(session.connection(), {}).fetchone())
