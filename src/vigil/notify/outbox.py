"""The outbox: a change-feed follower that writes the notifications each change owes.

It reads new timeline entries in commit order (:mod:`vigil.feed`), asks every route whether
it wants the entry's event, and inserts one ``notifications`` row per (channel, entry) with
the idempotency key ``n:CHANNEL:ENTRY``, in the same transaction that moves its position.
A crash before that commit reads the same entries again; the unique key makes a second
pass write nothing twice. Entries of incidents whose resource is under a maintenance
window get a ``silenced`` row instead, so the log says why nothing was sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from vigil.db import PreparedStatement, utcnow
from vigil.feed import Position, advance, has_news, head, position_of, since
from vigil.incidents import Incident, TimelineEntry
from vigil.ingest import active_windows, covering_window
from vigil.notify.models import Channel, Notification, Route
from vigil.notify.rules import IncidentFacts, event_of, route_matches

__all__ = [
    "FOLLOWER",
    "facts_of",
    "fill_outbox",
    "is_behind",
    "outbox_row",
    "start_following",
    "write_rows",
]

FOLLOWER = "notifications"
_LOG = "timeline_entries"
_E = TimelineEntry.__table__.c


def start_following(*, session: Session) -> None:
    """Called before a channel is added: with no channel yet, begin at the feed's head, so a
    first channel (or the first after all were removed) is not sent the history."""
    if session.execute(select(Channel.id).limit(1)).first() is None:
        advance(session=session, follower=FOLLOWER, log=_LOG, to=head(session=session, log=_LOG))


#: Timeline entries no route can ask for (paging's own records): they wake nobody.
_QUIET_KINDS = ("contact_attempt", "escalation", "assigned", "role")


def is_behind(*, session: Session) -> bool:
    """True when the timeline has entries the outbox must look at (a cheap read; entries
    no route can ask for are read with the next ones that matter)."""
    return has_news(
        session=session, follower=FOLLOWER, log=_LOG, relevant=_E.kind.not_in(_QUIET_KINDS)
    )


def facts_of(incident: Any) -> IncidentFacts:
    """What routes filter on, from an incident (ORM row or selected columns)."""
    return IncidentFacts(
        incident.severity,
        incident.service,
        incident.category,
        incident.resource,
        incident.source,
        incident.labels or {},
    )


def outbox_row(
    *,
    key: str,
    channel: Channel,
    incident_id: int,
    entry_id: int | None,
    payload: dict[str, Any],
    now: dt.datetime,
    silenced_by: str | None = None,
) -> dict[str, Any]:
    """One ``notifications`` row owed to ``channel`` (every column, for the prepared INSERT)."""
    return {
        "key": key,
        "channel_id": channel.id,
        "channel_name": channel.name,
        "incident_id": incident_id,
        "entry_id": entry_id,
        "event": payload["event"],
        "state": "silenced" if silenced_by else "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "answer": f"silenced by maintenance window {silenced_by!r}" if silenced_by else "",
        "payload": payload,
        "is_digest": False,
        "lease_until": None,
        "owner": None,
        "sent_at": None,
        "bundle_id": None,
    }


def write_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows; a key already there is skipped (a replay writes nothing twice).
    Returns how many were new."""
    if not rows:
        return 0
    conn = session.connection()
    return _INSERT_NEW[conn.dialect.name == "postgresql"].executemany(conn, rows)


def _payload(event: str, entry: Any, incident: Any) -> dict[str, Any]:
    changes = entry.changes or {}
    status = changes.get("status", {}).get("to") or (
        "open" if event == "opened" else incident.status
    )
    severity = changes.get("severity", {}).get("to") or incident.severity
    return {
        "event": event,
        "incident": incident.human_id,
        "title": incident.title,
        "severity": severity,
        "status": status,
        "what": entry.message,
        "by": entry.actor,
        "at": entry.at.isoformat(),
        "service": incident.service,
        "resource": incident.resource,
    }


def fill_outbox(*, session: Session, limit: int = 5000, now: dt.datetime | None = None) -> int:
    """Write the notifications owed by entries since the last run; return how many."""
    low = position_of(session=session, follower=FOLLOWER, log=_LOG)
    high = head(session=session, log=_LOG)
    if high <= low:
        return 0
    routes = session.execute(select(Route, Channel).join(Channel)).all()
    if not routes:
        advance(session=session, follower=FOLLOWER, log=_LOG, to=high)
        return 0
    entries = session.execute(
        select(_E.id, _E.txid, _E.incident_id, _E.kind, _E.actor, _E.message, _E.changes, _E.at)
        .where(since(session=session, log=_LOG, low=low, high=high))
        .order_by(_E.txid, _E.id)
        .limit(limit)
    ).all()
    if len(entries) == limit:
        last = entries[-1]
        high = Position(int(last.txid or 0), int(last.id))
    wanted = [(e, event_of(e.kind, e.changes or {})) for e in entries]
    wanted = [(e, ev) for e, ev in wanted if ev is not None]
    i = Incident
    incidents = {
        row.id: row
        for row in session.execute(
            select(
                i.id, i.human_id, i.title, i.severity, i.status, i.service, i.category,
                i.resource, i.source, i.labels,
            ).where(i.id.in_({e.incident_id for e, _ in wanted}))
        )
    }  # fmt: skip
    now = now or utcnow()
    windows = active_windows(session=session, now=now)
    rows: list[dict[str, Any]] = []
    for entry, event in wanted:
        incident = incidents.get(entry.incident_id)
        if incident is None or event is None:
            continue
        facts = facts_of(incident)
        channels = {c.id: c for r, c in routes if route_matches(r, event, facts)}
        if not channels:
            continue
        window = covering_window(windows, incident.resource, incident.labels or {})
        payload = _payload(event, entry, incident)
        rows.extend(
            outbox_row(
                key=f"n:{channel.id}:{entry.id}",
                channel=channel,
                incident_id=incident.id,
                entry_id=entry.id,
                payload=payload,
                now=now,
                silenced_by=window.name if window else None,
            )
            for channel in channels.values()
        )
    queued = write_rows(session, rows)
    advance(session=session, follower=FOLLOWER, log=_LOG, to=high)
    return queued


def _insert_skipping_known(postgres: bool) -> PreparedStatement:
    from sqlalchemy.dialects import postgresql, sqlite

    table = cast(Table, Notification.__table__)
    build = postgresql.insert if postgres else sqlite.insert
    values: dict[Any, Any] = {c: bindparam(c.key) for c in table.c if c.key != "id"}
    return PreparedStatement(build(table).values(values).on_conflict_do_nothing())


#: The outbox INSERT … ON CONFLICT DO NOTHING, compiled once per backend (hot with storms).
_INSERT_NEW = {False: _insert_skipping_known(False), True: _insert_skipping_known(True)}
