"""The sending side of delivery: one per process, it keeps HTTP connections and a thread per
channel, turns claimed notifications into messages (with fresh action links) and sends them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from vigil.crypto import SecretBox
from vigil.db import Store, utcnow
from vigil.notify.delivery import Claimed, claim_due, record_answers
from vigil.notify.messages import action_link, digest_message, incident_message, wants_links
from vigil.notify.phone import send_email, send_phone
from vigil.notify.senders import (
    Answer,
    Message,
    one_line,
    scrub,
    send_apprise,
    send_webhook,
)
from vigil.notify.threads import BOT_KINDS, send_bot

__all__ = ["Deliverer", "send_direct", "send_test"]


def _load_senders(store: Store) -> None:
    """Import apprise and the plugin of every channel's kind, before anything is due."""
    import contextlib

    from sqlalchemy import select

    from vigil.notify.models import Channel

    with contextlib.suppress(Exception), store.read() as session:
        schemes = set(
            session.execute(select(Channel.scheme).where(Channel.kind == "apprise")).scalars()
        )
        if schemes:
            import apprise

            for scheme in schemes:
                apprise.Apprise.instantiate(f"{scheme}://localhost", suppress_exceptions=True)


class Deliverer:
    """Sends what :func:`claim_due` hands out; one per process (it keeps connections)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.settings = store.settings
        self.box = SecretBox(store.settings)
        self.client = httpx.Client(follow_redirects=False)
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vigil-notify")
        # The first message after a start should not wait for apprise and its plugins to load.
        self.pool.submit(_load_senders, store)

    def message(self, c: Claimed) -> Message:
        """The message for a claimed notification (links are made now, one set per send)."""
        if c.is_digest:
            return digest_message(c.payload.get("items", []), key=c.key, settings=self.settings)
        links: dict[str, str] = {}
        if c.incident_id is not None and wants_links(c.payload):
            for action in ("acknowledge", "resolve", "note"):
                if action == "acknowledge" and c.payload.get("status") != "open":
                    continue
                links[action] = action_link(
                    self.box,
                    self.settings,
                    action=action,
                    incident_id=c.incident_id,
                    channel=c.channel_name,
                    sent=c.id,
                    person=c.payload.get("person"),
                )
        return incident_message(c.payload, key=c.key, links=links, settings=self.settings)

    def send(self, c: Claimed, message: Message | None = None) -> Answer:
        """Send one message to its channel; never raises."""
        try:
            message = message or self.message(c)
            timeout = self.settings.notify_timeout_seconds
            if c.kind == "webhook":
                return send_webhook(self.client, c.url, c.secret or "", message, timeout=timeout)
            if c.kind in BOT_KINDS:
                return send_bot(self.client, c.url, message, c.thread, timeout=timeout)
            if c.kind == "email":
                return send_email(c.url, message, settings=self.settings, timeout=timeout)
            if c.kind in ("sms", "voice"):
                return send_phone(
                    c.kind, c.url, message, settings=self.settings, client=self.client
                )
            return send_apprise(c.url, message, timeout=timeout)
        except Exception as exc:  # a plugin bug must not lose the notification
            return Answer(False, one_line(scrub(f"{type(exc).__name__}: {exc}", c.url)))

    def _send_channel(self, batch: list[Claimed]) -> list[tuple[Claimed, Answer]]:
        return [(c, self.send(c)) for c in batch]

    def deliver_once(
        self,
        limit: int = 200,
        fill: Callable[..., int] | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[int, int]:
        """One round: (``fill`` the outbox,) claim, send, record.

        Returns (notifications ``fill`` queued, notifications sent or failed).
        """
        with self.store.write() as session:
            queued = fill(session=session) if fill else 0
            claimed = claim_due(
                session=session, box=self.box, settings=self.settings, limit=limit, now=now
            )
        if not claimed:
            return queued, 0
        by_channel: dict[int, list[Claimed]] = {}
        for c in claimed:
            by_channel.setdefault(c.channel_id, []).append(c)
        answers: list[tuple[Claimed, Answer]] = []
        for part in self.pool.map(self._send_channel, by_channel.values()):
            answers.extend(part)
        with self.store.write() as session:
            record_answers(session=session, settings=self.settings, answers=answers, now=now)
        return queued, len(answers)

    def close(self) -> None:
        """Release connections and threads."""
        self.pool.shutdown(wait=False)
        self.client.close()


def send_direct(store: Store, name: str, message: Message, *, personal: bool = False) -> Answer:
    """Send ``message`` to the channel ``name`` now, outside the outbox; return the answer."""
    from vigil.notify.service import get_channel

    box = SecretBox(store.settings)
    with store.read() as session:
        channel = get_channel(session=session, name=name, personal=personal)
        claimed = Claimed(
            0,
            message.key,
            1,
            channel.id,
            channel.name,
            channel.kind,
            box.open(channel.url_encrypted),
            box.open(channel.secret_encrypted) if channel.secret_encrypted else None,
            None,
            {},
            False,
        )
    deliverer = Deliverer(store)
    try:
        return deliverer.send(claimed, message)
    finally:
        deliverer.close()


def send_test(store: Store, name: str) -> Answer:
    """Send a test message to the channel ``name`` now; return what the destination said."""
    message = Message(
        f"test:{name}:{utcnow().timestamp():.0f}",
        f"Vigil test message for channel {name}",
        f"This is a test from Vigil at {store.settings.base_url}. If you can read it, "
        f"channel {name} works.",
        {"event": "test", "channel": name},
    )
    return send_direct(store, name, message)
