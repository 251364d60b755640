"""Reading append-only logs in commit order, from a stored position, at least once.

Two logs are feeds: ``timeline_entries`` (every incident change, written by
:mod:`vigil.incidents.changes`) and ``resource_state_changes`` (every status change
ingestion records). A follower (for example the availability refresh) asks for the rows
between its stored :class:`Position` and the feed's :func:`head`, handles them, and stores
the new position with :func:`advance` in the same transaction as its effects; if it crashes
before committing, it reads the same rows again (handlers are idempotent).

Why not ``id > position``: on SQLite writes are serialized, so ids grow in commit order and
they are the position. On PostgreSQL ids are drawn when a row is inserted, not when its
transaction commits: a transaction holding id 7 can commit after one holding id 8, and a
follower that had read 8 would skip 7 for ever. So each row also records the id of the
transaction that wrote it (``txid``, ``pg_current_xact_id()``), the feed is ordered by
(txid, id), and :func:`head` only goes up to transactions older than the snapshot's
``xmin``: every transaction below ``xmin`` has committed or aborted, so no row can appear
behind the head later. A long-running transaction holds the head back (the lag shows it),
it never makes a follower skip a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, func, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.feed.models import FeedPosition
from vigil.incidents import TimelineEntry
from vigil.ingest import ResourceStateChange

__all__ = [
    "FEEDS",
    "Lag",
    "Position",
    "advance",
    "follower_lag",
    "has_news",
    "head",
    "position_of",
    "since",
]

#: The logs that can be followed, by name.
FEEDS: dict[str, Table] = {
    "timeline_entries": TimelineEntry.__table__,  # type: ignore[dict-item]
    "resource_state_changes": ResourceStateChange.__table__,  # type: ignore[dict-item]
}
_XMIN = text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in a feed: rows up to and including (txid, row_id) have been handled."""

    txid: int = 0
    row_id: int = 0


def _postgres(session: Session) -> bool:
    return session.connection().dialect.name == "postgresql"


def head(*, session: Session, log: str) -> Position:
    """The last row of ``log`` that no later commit can precede."""
    table = FEEDS[log]
    if not _postgres(session):
        return Position(0, session.execute(select(func.max(table.c.id))).scalar() or 0)
    row = session.execute(
        select(table.c.txid, table.c.id)
        .where(table.c.txid.is_not(None), table.c.txid < _XMIN)
        .order_by(table.c.txid.desc(), table.c.id.desc())
        .limit(1)
    ).first()
    return Position(int(row[0]), int(row[1])) if row else Position()


def since(*, session: Session, log: str, low: Position, high: Position) -> Any:
    """A WHERE clause for the rows of ``log`` after ``low``, up to and including ``high``."""
    table = FEEDS[log]
    if not _postgres(session):
        return and_(table.c.id > low.row_id, table.c.id <= high.row_id)
    # Rows written before transaction ids were recorded carry 0: they come first, by id.
    key = tuple_(table.c.txid, table.c.id)
    return and_(key > tuple_(low.txid, low.row_id), key <= tuple_(high.txid, high.row_id))


def position_of(*, session: Session, follower: str, log: str) -> Position:
    """Where ``follower`` has read ``log`` up to (the start if it never has)."""
    row = session.get(FeedPosition, (follower, log))
    return Position(row.txid, row.row_id) if row else Position()


def advance(*, session: Session, follower: str, log: str, to: Position) -> None:
    """Store ``follower``'s position in ``log`` (never backwards)."""
    p = FeedPosition
    known = session.get(p, (follower, log))
    if known is None:
        session.execute(
            insert(p).values(
                follower=follower, log=log, txid=to.txid, row_id=to.row_id, updated_at=utcnow()
            )
        )
    elif Position(known.txid, known.row_id) < to:
        session.execute(
            update(p)
            .where(p.follower == follower, p.log == log)
            .values(txid=to.txid, row_id=to.row_id, updated_at=utcnow())
        )
    session.expire_all()


@dataclass(frozen=True, slots=True)
class Lag:
    """How far a follower is behind one log."""

    follower: str
    log: str
    rows: int


def follower_lag(*, session: Session, cap: int = 100_000) -> list[Lag]:
    """Rows each known follower has yet to read, per log (counted up to ``cap``)."""
    out = []
    for row in session.execute(select(FeedPosition).order_by(FeedPosition.follower)).scalars():
        table = FEEDS.get(row.log)
        if table is None:
            continue
        low = Position(row.txid, row.row_id)
        top = head(session=session, log=row.log)
        window = since(session=session, log=row.log, low=low, high=top)
        behind = select(table.c.id).where(window).limit(cap).subquery()
        rows = session.execute(select(func.count()).select_from(behind)).scalar() or 0
        out.append(Lag(row.follower, row.log, int(rows)))
    return out


def has_news(
    *, session: Session, follower: str, log: str, relevant: Any = None, cap: int = 1000
) -> bool:
    """True when ``log`` has rows past ``follower``'s position that it must handle: any row
    matching ``relevant`` (a WHERE clause), or ``cap`` rows of any kind (so the position
    still moves past a long run of rows it ignores). A cheap read: no lock is taken."""
    low = position_of(session=session, follower=follower, log=log)
    high = head(session=session, log=log)
    if high <= low:
        return False
    if relevant is None:
        return True
    table = FEEDS[log]
    window = since(session=session, log=log, low=low, high=high)
    if session.execute(select(table.c.id).where(window, relevant).limit(1)).first():
        return True
    backlog = select(func.count()).select_from(
        select(table.c.id).where(window).limit(cap).subquery()
    )
    return int(session.execute(backlog).scalar() or 0) >= cap
