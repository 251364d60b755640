"""Delivering the outbox: claim due notifications, send them, record what happened.

One round is three steps. (1) In a write transaction: notifications whose sender died
(``sending`` past its lease) go back to ``pending``; channels with due work are locked
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so each channel is served by one process at a
time; SQLite serializes writers anyway); a channel with more than ``bundle_after`` due gets
one digest instead; then each channel's share (its rate limit) is claimed, never a message
while an earlier one of the same incident on the same channel is still owed, so messages
about one incident arrive in order. (2) Outside any transaction: send, one thread per
channel. (3) In a write transaction: record each answer, schedule retries with exponential
backoff and jitter, or mark ``failed`` after ``notify_max_attempts``.

A crash between (2) and (3) sends that message again once its lease expires: delivery is
at least once, and the receiver drops the duplicate by its idempotency key.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from vigil.config import Settings
from vigil.crypto import SecretBox
from vigil.db import INCIDENTS_CHANGED, PreparedStatement, owner_alive, utcnow
from vigil.incidents import IncidentChange, apply_changes
from vigil.notify.models import Channel, DeliveryAttempt, Notification
from vigil.notify.senders import (
    Answer,
)
from vigil.notify.threads import BOT_KINDS, remember_thread, thread_of

__all__ = ["Claimed", "anything_due", "claim_due", "record_answers"]

_BURST = 3  # messages a rate-limited channel may send at once after being idle
_PER_CHANNEL = 50  # claimed per channel and round: bounds the lease a slow destination needs
OWNER = f"{socket.gethostname()}:{os.getpid()}"
_MAX_BACKOFF = 3600.0


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification taken for sending, with what sending needs."""

    id: int
    key: str
    attempts: int
    channel_id: int
    channel_name: str
    kind: str
    url: str
    secret: str | None
    incident_id: int | None
    payload: dict[str, Any]
    is_digest: bool
    thread: str | None = None


def _history(session: Session, rows: list[tuple[int, str, str]], now: dt.datetime) -> None:
    if rows:
        session.execute(
            insert(DeliveryAttempt),
            [{"notification_id": i, "state": s, "answer": a, "at": now} for i, s, a in rows],
        )


def _stale_claims(session: Session, now: dt.datetime) -> list[int]:
    """Notifications left ``sending`` by a sender whose lease lapsed or whose process is gone."""
    n = Notification
    sending = session.execute(select(n.id, n.lease_until, n.owner).where(n.state == "sending"))
    alive: dict[str | None, bool] = {}  # a few owners hold many claims: ask once for each

    def gone(owner: str | None) -> bool:
        if owner not in alive:
            alive[owner] = owner_alive(owner)
        return not alive[owner]

    return [i for i, lease, owner in sending if (lease and lease < now) or gone(owner)]


def _reclaim_expired(session: Session, now: dt.datetime) -> None:
    n = Notification
    stale = _stale_claims(session, now)
    if stale:
        session.execute(
            update(n).where(n.id.in_(stale), n.state == "sending").values(state="pending")
        )
        _history(
            session,
            [(i, "pending", "the sender stopped before recording; resending") for i in stale],
            now,
        )


def _bundle(session: Session, channel: Channel, due: list[Any], now: dt.datetime) -> None:
    items = [{"key": d.key, **d.payload} for d in due]
    digest = Notification(
        key=f"d:{channel.id}:{due[0].id}:{due[-1].id}",
        channel_id=channel.id,
        channel_name=channel.name,
        incident_id=None,
        event="digest",
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        answer="",
        payload={"items": items},
        is_digest=True,
    )
    session.add(digest)
    session.flush()
    ids = [d.id for d in due]
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids))
        .values(state="bundled", bundle_id=digest.id, answer=f"in digest {digest.key}")
        .execution_options(synchronize_session=False)
    )


def anything_due(*, session: Session, now: dt.datetime | None = None) -> bool:
    """True when a notification is due or a claim has lapsed (a cheap read, no lock)."""
    now = now or utcnow()
    n = Notification
    due = select(n.id).where(n.state == "pending", n.next_attempt_at <= now).limit(1)
    return session.execute(due).first() is not None or bool(_stale_claims(session, now))


def _share(channel: Channel, now: dt.datetime, wanted: int) -> int:
    """How many messages the channel's rate limit lets out now (and book them)."""
    if channel.rate_per_minute <= 0:
        return wanted
    interval = 60.0 / channel.rate_per_minute
    earliest = now - dt.timedelta(seconds=interval * (_BURST - 1))
    base = max(channel.next_send_at or earliest, earliest)
    if base > now:
        return 0
    taken = min(wanted, math.floor((now - base).total_seconds() / interval) + 1)
    channel.next_send_at = base + dt.timedelta(seconds=interval * taken)
    return taken


def _earlier_message(state: Callable[[Any], Any]) -> Any:
    """EXISTS an earlier message of the same incident on the same channel in ``state``."""
    n, e = Notification, aliased(Notification)
    return (
        select(e.id)
        .where(
            e.channel_id == n.channel_id,
            e.incident_id == n.incident_id,
            e.id < n.id,
            state(e),
        )
        .exists()
    )


def claim_due(
    *,
    session: Session,
    box: SecretBox,
    settings: Settings,
    limit: int = 200,
    now: dt.datetime | None = None,
) -> list[Claimed]:
    """Take due notifications for sending (see the module text for the rules)."""
    now = now or utcnow()
    _reclaim_expired(session, now)
    n = Notification
    # Never before an earlier message of the same incident on the same channel is out.
    blocked = _earlier_message(lambda e: e.state.in_(("pending", "sending")))
    busy = select(n.channel_id).where(n.state == "pending", n.next_attempt_at <= now).distinct()
    locking = select(Channel).where(Channel.id.in_(busy)).order_by(Channel.id)
    if session.connection().dialect.name == "postgresql":
        locking = locking.with_for_update(skip_locked=True)
    channels = list(session.execute(locking).scalars())
    claimed: list[Claimed] = []
    limit = min(limit, _PER_CHANNEL)
    for channel in channels:
        due_stmt = select(n).where(
            n.channel_id == channel.id, n.state == "pending", n.next_attempt_at <= now, ~blocked
        )
        if channel.bundle_after:
            # Everything due, so one incident's updates stay in order inside the digest; but
            # not what waits behind an earlier message of its incident still being retried
            # or sent (that one must arrive first).
            held = _earlier_message(
                lambda e: (
                    (e.state == "sending") | ((e.state == "pending") & (e.next_attempt_at > now))
                )
            )
            waiting = (
                n.channel_id == channel.id,
                n.state == "pending",
                n.next_attempt_at <= now,
                n.is_digest.is_(False),
                ~held,
            )
            count = select(func.count()).select_from(
                select(n.id).where(*waiting).limit(channel.bundle_after + 1).subquery()
            )
            if (session.execute(count).scalar() or 0) > channel.bundle_after:
                singles = session.execute(
                    select(n.id, n.key, n.payload).where(*waiting).order_by(n.id).limit(1000)
                ).all()
                _bundle(session, channel, list(singles), now)
        due = list(session.execute(due_stmt.order_by(n.id).limit(limit)).scalars())
        due = due[: _share(channel, now, min(len(due), limit))]
        if not due:
            continue
        url = box.open(channel.url_encrypted)
        secret = box.open(channel.secret_encrypted) if channel.secret_encrypted else None
        for d in due:
            claimed.append(
                Claimed(
                    d.id,
                    d.key,
                    d.attempts + 1,
                    channel.id,
                    channel.name,
                    channel.kind,
                    url,
                    secret,
                    d.incident_id,
                    d.payload,
                    d.is_digest,
                    thread_of(session=session, channel_id=channel.id, incident_id=d.incident_id)
                    if channel.kind in BOT_KINDS
                    else None,
                )
            )
        # Sent one after another: the lease covers each send's connect and read timeouts.
        lease = now + dt.timedelta(seconds=2 * settings.notify_timeout_seconds * len(due) + 10)
        session.execute(
            update(n)
            .where(n.id.in_([d.id for d in due]))
            .values(state="sending", lease_until=lease, owner=OWNER, attempts=n.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return claimed


_N = cast(Table, Notification.__table__).c
#: Record one answer: only a claim still held (``sending``, same attempt) is moved on.
_RECORD = PreparedStatement(
    update(cast(Table, Notification.__table__))
    .where(
        _N.id == bindparam("pk"),
        _N.state == "sending",
        _N.attempts == bindparam("claimed_attempts"),
    )
    .values(
        state=bindparam("new_state"),
        answer=bindparam("new_answer"),
        lease_until=None,
        owner=None,
        sent_at=func.coalesce(bindparam("new_sent_at", type_=_N.sent_at.type), _N.sent_at),
        next_attempt_at=func.coalesce(
            bindparam("new_next_attempt_at", type_=_N.next_attempt_at.type), _N.next_attempt_at
        ),
    )
)


def _backoff(settings: Settings, attempts: int) -> float:
    base = min(settings.notify_retry_seconds * 2 ** (attempts - 1), _MAX_BACKOFF)
    return float(base * random.uniform(0.8, 1.2))


def record_answers(
    *,
    session: Session,
    settings: Settings,
    answers: list[tuple[Claimed, Answer]],
    now: dt.datetime | None = None,
) -> None:
    """Store each answer: sent, a retry later, or failed for good."""
    now = now or utcnow()
    history = []
    rows = []
    for claimed, answer in answers:
        sent_at = next_at = None
        if answer.ok:
            state, sent_at = "sent", now
        elif answer.retry and claimed.attempts < settings.notify_max_attempts:
            wait = _backoff(settings, claimed.attempts)
            state, next_at = "pending", now + dt.timedelta(seconds=wait)
        else:
            state = "failed"
        rows.append(
            {
                "pk": claimed.id,
                "claimed_attempts": claimed.attempts,
                "new_state": state,
                "new_answer": answer.detail,
                "new_sent_at": sent_at,
                "new_next_attempt_at": next_at,
            }
        )
        history.append((claimed.id, state, answer.detail))
        if answer.thread and claimed.incident_id is not None:
            remember_thread(
                session=session,
                channel_id=claimed.channel_id,
                incident_id=claimed.incident_id,
                ref=answer.thread,
            )
    if rows:
        # One prepared statement for the whole round (a statement built per answer cost
        # more than the sending).
        _RECORD.executemany(session.connection(), rows)
    _history(session, history, now)
    _record_page_attempts(session, answers, history, now)
    session.flush()


def _contact_label(channel_name: str) -> str:
    """The label of a contact method from its channel's name (``@ann:chat`` → chat)."""
    return channel_name.split(":", 1)[1] if channel_name.startswith("@") else channel_name


def _record_page_attempts(
    session: Session,
    answers: list[tuple[Claimed, Answer]],
    history: list[tuple[int, str, str]],
    now: dt.datetime,
) -> None:
    """Every attempt to reach a paged person lands on the incident's timeline."""
    changes = []
    for (claimed, _answer), (_id, state, detail) in zip(answers, history, strict=True):
        p = claimed.payload
        if claimed.incident_id is None or p.get("event") != "page" or not p.get("person"):
            continue
        outcome = {"sent": "delivered", "pending": "failed, will retry", "failed": "failed"}
        changes.append(
            IncidentChange(
                claimed.incident_id,
                "escalation",
                "contact_attempt",
                f"Page to {p['person']} via {_contact_label(claimed.channel_name)} (attempt "
                f"{claimed.attempts}): {outcome.get(state, state)} — {detail}"[:2000],
                now,
            )
        )
    if not changes:
        return
    woke = session.info.get(INCIDENTS_CHANGED)
    apply_changes(session=session, changes=changes)
    if not woke:
        # Records of delivery change no incident: they need not wake the jobs after commit
        # (this one is still running; the timeline's followers ignore them).
        session.info.pop(INCIDENTS_CHANGED, None)
