"""Sending one message to one destination: apprise URLs and signed JSON webhooks.

A signed webhook is a POST of the message as JSON with these headers:

* ``Idempotency-Key``: the notification's stable key (the same on every retry);
* ``X-Vigil-Timestamp``: seconds since the epoch when this attempt was signed;
* ``X-Vigil-Signature``: ``v1=`` + hex HMAC-SHA256, keyed with the channel's signing secret,
  of ``TIMESTAMP + "." + BODY`` (the raw body bytes).

A receiver recomputes the HMAC, compares in constant time, and refuses timestamps more than
a few minutes old (replays). Every answer is reduced to one short line for the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from vigil.errors import ValidationError

__all__ = [
    "Answer",
    "Message",
    "check_apprise_url",
    "check_webhook_url",
    "one_line",
    "scrub",
    "send_apprise",
    "send_webhook",
    "sign",
]

_ANSWER_CHARS = 300
_apprise_lock = threading.Lock()  # apprise's log capture is per process
# apprise's own log lines can quote a destination URL with its token: they are captured per
# send (and scrubbed), never passed on to Vigil's logs.
logging.getLogger("apprise").propagate = False
_PARTS = re.compile(r"[/:@?&=#+]")


def scrub(text: str, url: str) -> str:
    """``text`` with every secret-looking part of ``url`` (user, password, tokens) masked."""
    parts = urlsplit(url)
    keep = {parts.scheme, parts.hostname or "", str(parts.port or "")}
    secrets = sorted(
        {p for p in _PARTS.split(url.split("://", 1)[-1]) if len(p) >= 6 and p not in keep},
        key=len,
        reverse=True,
    )
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


@dataclass(frozen=True, slots=True)
class Answer:
    """What the destination said: delivered or not, and its words."""

    ok: bool
    detail: str
    retry: bool = True  # False: retrying cannot help (the destination refused the message)
    thread: str | None = None  # a chat bot's new thread for the incident


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notification: text for people, data for machines."""

    key: str
    title: str
    body: str
    data: dict[str, Any]


def one_line(text: str) -> str:
    """One printable line: a destination's answer is shown in terminals and pages."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= _ANSWER_CHARS else text[: _ANSWER_CHARS - 1] + "…"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Vigil-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def check_webhook_url(url: str) -> str:
    """The URL with its query masked, for display; ValidationError unless http(s)://host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            "url: a webhook URL must be http:// or https:// with a host", field="url"
        )
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def check_apprise_url(url: str) -> tuple[str, str]:
    """(scheme, URL with secrets masked); ValidationError if apprise cannot use it."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        raise ValidationError(
            f"url: apprise does not recognise this URL (scheme {scheme or 'missing'!r}); "
            "see https://github.com/caronc/apprise/wiki for the supported forms",
            field="url",
        )
    return url.split("://", 1)[0].lower(), str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]


def send_webhook(
    client: httpx.Client, url: str, secret: str, message: Message, *, timeout: float
) -> Answer:
    """POST ``message`` as signed JSON; 2xx is delivered, 4xx other than 408/429 final."""
    body = json.dumps(
        {"key": message.key, "title": message.title, "text": message.body, **message.data},
        separators=(",", ":"),
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigil",
        "Idempotency-Key": message.key,
        "X-Vigil-Timestamp": stamp,
        "X-Vigil-Signature": sign(secret, stamp, body),
    }
    try:
        reply = client.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return Answer(False, one_line(scrub(f"{type(exc).__name__}: {exc}", url)))
    detail = one_line(scrub(f"HTTP {reply.status_code} {reply.text}", url))
    if reply.is_success:
        return Answer(True, detail)
    final = 400 <= reply.status_code < 500 and reply.status_code not in (408, 425, 429)
    return Answer(False, detail, retry=not final)


def send_apprise(url: str, message: Message, *, timeout: float) -> Answer:
    """Send through apprise; its log lines are the destination's answer."""
    import apprise

    asset = apprise.AppriseAsset(async_mode=False)
    sender = apprise.Apprise(asset=asset)
    if not sender.add(url):
        return Answer(False, "apprise does not recognise the stored URL", retry=False)
    for plugin in sender:
        # Each plugin reads its own timeouts; both apply to one request.
        plugin.socket_connect_timeout = timeout
        plugin.socket_read_timeout = timeout
    capture = apprise.LogCapture(level=logging.INFO, fmt="%(levelname)s %(message)s")  # type: ignore[no-untyped-call]
    with _apprise_lock, capture as captured:
        ok = sender.notify(
            title=message.title,
            body=f"{message.body}\n\nref {message.key}",
            body_format=apprise.NotifyFormat.TEXT,
        )
        said = captured.getvalue() if hasattr(captured, "getvalue") else ""
    lines = [line for line in said.splitlines() if line.strip()]
    said = lines[-1] if lines else ("sent" if ok else "apprise reported a failure")
    detail = one_line(scrub(said, url))
    return Answer(bool(ok), detail)
