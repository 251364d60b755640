"""Escalation: incidents climb the steps of the policy frozen when they opened.

A change-feed follower (``escalation``) starts a climb when an incident opens or reopens
(the first matching policy is copied onto the incident), stops it when the incident is
acknowledged (the acknowledger, or whoever was paged last, becomes the assignee) and ends
it when the incident is resolved or closed; stopping cancels the pages still waiting.

The escalation job fires due steps. A step resolves its targets now (a schedule to who is
on call, a person to their rules for the incident's urgency over verified contact methods),
writes one outbox row per page (``p:INCIDENT:ROUND:STEP:PERSON:RULE:N``, so a step pages
each person once however many processes run it), records the step and every person paged
on the timeline, and schedules the next step after the step's delay. A step that reaches
nobody is recorded and skipped at once. After the last step the climb is ``repeating``: the
job writes each repeat of a person's repeating rules as it comes due, until acknowledged. Rows are claimed with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so two processes never fire the same step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.feed import Position, advance, head, position_of, since
from vigil.incidents import ACTIVE_STATUSES, Incident, IncidentChange, TimelineEntry, apply_changes
from vigil.notify import Channel, Notification
from vigil.oncall.models import (
    ContactMethod,
    EscalationPolicy,
    IncidentEscalation,
    NotificationRule,
    Person,
)
from vigil.oncall.policies import FOLLOWER, list_policies, policy_for

__all__ = [
    "ACTOR",
    "FOLLOWER",
    "Reach",
    "follow_incident_changes",
    "load_reach",
    "urgency_of",
]

_LOG = "timeline_entries"
_E = TimelineEntry.__table__.c
ACTOR = "escalation"


def urgency_of(severity: str) -> str:
    """High urgency for critical and high incidents, low for the rest."""
    return "high" if severity in ("critical", "high") else "low"


def _cancel_pages(session: Session, incident_ids: Sequence[int], why: str) -> None:
    if incident_ids:
        n = Notification
        session.execute(
            update(n)
            .where(n.incident_id.in_(incident_ids), n.event == "page", n.state == "pending")
            .values(state="cancelled", answer=why)
            .execution_options(synchronize_session=False)
        )


def _start(session: Session, incident_ids: set[int], now: dt.datetime) -> None:
    policies = list_policies(session=session)
    if not policies or not incident_ids:
        return
    rows = session.execute(
        select(Incident.id, Incident.status, Incident.severity, Incident.service,
               Incident.category, Incident.labels).where(Incident.id.in_(incident_ids))
    ).all()  # fmt: skip
    values = []
    for row in rows:
        if row.status != "open":
            continue
        policy = policy_for(policies, row)
        if policy is None:
            continue
        values.append(
            {
                "incident_id": row.id, "policy": policy.name, "steps": policy.steps,
                "repeat": policy.repeat, "urgency": urgency_of(row.severity), "step": 0,
                "round": 0, "state": "climbing", "next_at": now, "paged": [], "started_at": now,
                "fired_at": None,
            }
        )  # fmt: skip
    if not values:
        return
    build = (
        postgresql.insert if session.connection().dialect.name == "postgresql" else sqlite.insert
    )
    stmt = build(IncidentEscalation)
    keep = ("policy", "steps", "repeat", "urgency", "step", "round", "state", "next_at", "paged",
            "fired_at")  # fmt: skip
    # A reopened incident climbs again from the start; a climb under way is left alone.
    state = IncidentEscalation.state
    finished = and_(state != "climbing", state != "repeating")
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["incident_id"],
            set_={k: stmt.excluded[k] for k in keep},
            where=finished,
        ),
        values,
    )


def _statuses(changes: dict[str, Any]) -> tuple[str | None, str | None]:
    status = changes.get("status") or {}
    return status.get("from"), status.get("to")


def follow_incident_changes(
    *, session: Session, now: dt.datetime | None = None, limit: int = 5000
) -> int:
    """Start, stop and end climbs for the incident changes since the last run."""
    low = position_of(session=session, follower=FOLLOWER, log=_LOG)
    high = head(session=session, log=_LOG)
    if high <= low:
        return 0
    now = now or utcnow()
    if session.execute(select(EscalationPolicy.id).limit(1)).first() is None:
        advance(session=session, follower=FOLLOWER, log=_LOG, to=high)
        return 0
    if session.connection().dialect.name == "postgresql":
        # One process follows at a time (SQLite's write lock does that there); the others
        # skip this round instead of starting the same climbs twice.
        took = session.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended('vigil.escalation', 0))")
        ).scalar()
        if not took:
            return 0
        low = position_of(session=session, follower=FOLLOWER, log=_LOG)  # read under the lock
        if high <= low:
            return 0
    entries = session.execute(
        select(_E.id, _E.txid, _E.incident_id, _E.kind, _E.actor, _E.changes)
        .where(since(session=session, log=_LOG, low=low, high=high))
        .order_by(_E.txid, _E.id)
        .limit(limit)
    ).all()
    if len(entries) == limit:
        high = Position(int(entries[-1].txid or 0), int(entries[-1].id))
    starts: set[int] = set()
    acks: dict[int, str] = {}
    ends: set[int] = set()
    for e in entries:
        old, new = _statuses(e.changes or {})
        if e.kind == "created" and new == "open":
            starts.add(e.incident_id)
        elif e.kind == "status_changed" and new == "open" and old not in ACTIVE_STATUSES:
            starts.add(e.incident_id)
            ends.discard(e.incident_id)
        elif e.kind == "status_changed" and new in ACTIVE_STATUSES and old == "open":
            acks[e.incident_id] = e.actor
        elif e.kind == "status_changed" and new not in ACTIVE_STATUSES:
            ends.add(e.incident_id)
            starts.discard(e.incident_id)
    _start(session, starts, now)
    _acknowledge(session, acks, now)
    if ends:
        ie = IncidentEscalation
        session.execute(
            update(ie)
            .where(
                ie.incident_id.in_(ends),
                ie.state.in_(("climbing", "repeating", "acknowledged", "done")),
            )
            .values(state="resolved", next_at=None)
            .execution_options(synchronize_session=False)
        )
        _cancel_pages(session, sorted(ends), "the incident was resolved")
    advance(session=session, follower=FOLLOWER, log=_LOG, to=high)
    return len(entries)


def _acknowledge(session: Session, acks: dict[int, str], now: dt.datetime) -> None:
    if not acks:
        return
    ie = IncidentEscalation
    climbs = {
        r.incident_id: r
        for r in session.execute(select(ie).where(ie.incident_id.in_(acks))).scalars()
    }
    session.execute(
        update(ie)
        .where(ie.incident_id.in_(acks), ie.state.in_(("climbing", "repeating", "done")))
        .values(state="acknowledged", next_at=None)
        .execution_options(synchronize_session=False)
    )
    _cancel_pages(session, sorted(acks), "the incident was acknowledged")
    people = set(
        session.execute(select(Person.handle).where(Person.handle.in_(acks.values()))).scalars()
    )
    current = dict(
        session.execute(select(Incident.id, Incident.assignee).where(Incident.id.in_(acks))).all()
    )
    changes = []
    for incident_id, actor in sorted(acks.items()):
        climb = climbs.get(incident_id)
        who = actor if actor in people else (climb.paged[0] if climb and climb.paged else None)
        if who and current.get(incident_id) != who:
            how = "acknowledged it" if who == actor else "was paged at the step that got the answer"
            changes.append(
                IncidentChange(
                    incident_id, ACTOR, "assigned", f"Assigned to {who} ({who} {how})", now,
                    {"assignee": (current.get(incident_id), who)},
                )
            )  # fmt: skip
    apply_changes(session=session, changes=changes)


@dataclass(slots=True)
class Reach:
    """Everything a tick needs to page people, loaded once."""

    rules: dict[str, list[tuple[NotificationRule, ContactMethod, Channel]]] = field(
        default_factory=dict
    )
    people: dict[str, Person] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)


def load_reach(session: Session) -> Reach:
    """Everybody's verified rules and the channels, for one tick."""
    reach = Reach()
    for person in session.execute(select(Person)).scalars():
        reach.people[person.handle] = person
    rows = session.execute(
        select(NotificationRule, ContactMethod, Channel, Person.handle)
        .join(ContactMethod, ContactMethod.id == NotificationRule.contact_id)
        .join(Channel, Channel.id == ContactMethod.channel_id)
        .join(Person, Person.id == NotificationRule.person_id)
        .where(ContactMethod.verified_at.is_not(None))
        .order_by(NotificationRule.delay_seconds, NotificationRule.id)
    ).all()
    for rule, contact, channel, handle in rows:
        reach.rules.setdefault(handle, []).append((rule, contact, channel))
    for channel in session.execute(select(Channel).where(Channel.personal.is_(False))).scalars():
        reach.channels[channel.name] = channel
    return reach
