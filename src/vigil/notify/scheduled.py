"""Notification jobs: fill and deliver the outbox; remind owners of action items."""

from __future__ import annotations

import time
import weakref

from sqlalchemy import select

from vigil.db import Store
from vigil.jobs import scheduled
from vigil.notify.deliverer import Deliverer
from vigil.notify.delivery import anything_due
from vigil.notify.models import Channel
from vigil.notify.outbox import fill_outbox, is_behind
from vigil.notify.reminders import queue_reminders

__all__ = ["deliver_notifications", "deliverer_for", "remind_action_owners"]

_DELIVERERS: weakref.WeakKeyDictionary[Store, Deliverer] = weakref.WeakKeyDictionary()
_ROUND_SECONDS = 5.0  # a woken run keeps going while work is due, up to this long
_FULL_ROUND = 50  # a round that claimed this many goes on at once
_GATHER_SECONDS = 0.05


def deliverer_for(store: Store) -> Deliverer:
    """This process's deliverer for ``store`` (made once; it keeps HTTP connections)."""
    found = _DELIVERERS.get(store)
    if found is None:
        found = _DELIVERERS[store] = Deliverer(store)
    return found


@scheduled("notifications.deliver", every=lambda s: s.notify_poll_seconds, wake_on_commit=True)
def deliver_notifications(store: Store) -> str:
    """Write the notifications new incident changes owe, then send what is due."""
    deliverer = deliverer_for(store)
    queued = sent = 0
    deadline = time.monotonic() + _ROUND_SECONDS
    while True:
        # Reads first: most wake-ups find nothing to do, and must not take the write lock.
        with store.read() as session:
            if not session.execute(select(Channel.id).limit(1)).first():
                break  # no channels: nothing to follow (adding one starts at the head)
            behind = is_behind(session=session)
            due = anything_due(session=session)
        if not behind and not due:
            break
        # One write transaction fills the outbox and claims what is due.
        new, done = deliverer.deliver_once(fill=fill_outbox if behind else None)
        queued += new
        sent += done
        if (not new and not done) or time.monotonic() > deadline:
            break
        if done < _FULL_ROUND:
            # Under a stream of small changes, let a few commits gather before the next
            # round: fewer, larger write transactions beside ingestion (latency stays low).
            time.sleep(_GATHER_SECONDS)
    return f"{queued} queued, {sent} delivered or retried"


@scheduled("notifications.reminders", every=lambda s: 3600.0)
def remind_action_owners(store: Store) -> str:
    """Queue the daily reminders of action items due within a day or overdue."""
    with store.write() as session:
        count = queue_reminders(session=session)
    return f"{count} reminder(s) queued"
