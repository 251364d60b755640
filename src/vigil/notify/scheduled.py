"""Notification jobs: fill and deliver the outbox; remind owners of action items."""

from __future__ import annotations

import time
import weakref

from vigil.db.store import Store
from vigil.jobs.registry import scheduled
from vigil.notify.delivery import Deliverer
from vigil.notify.outbox import fill_outbox
from vigil.notify.reminders import queue_reminders

__all__ = ["deliver_notifications", "deliverer_for", "remind_action_owners"]

_DELIVERERS: weakref.WeakKeyDictionary[Store, Deliverer] = weakref.WeakKeyDictionary()
_ROUND_SECONDS = 5.0  # a woken run keeps going while work is due, up to this long


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
        with store.write() as session:
            new = fill_outbox(session=session)
        queued += new
        done = deliverer.deliver_once()
        sent += done
        if (not new and not done) or time.monotonic() > deadline:
            break
    return f"{queued} queued, {sent} delivered or retried"


@scheduled("notifications.reminders", every=lambda s: 3600.0)
def remind_action_owners(store: Store) -> str:
    """Queue the daily reminders of action items due within a day or overdue."""
    with store.write() as session:
        count = queue_reminders(session=session)
    return f"{count} reminder(s) queued"
