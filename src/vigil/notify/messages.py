"""The words of a notification, its digest form, and the action links it carries.

Every value comes from stored incident data a user may have typed, so text is flattened:
control characters go, and the chat markup characters ``<``, ``>`` and ``&`` are replaced
by look-alikes that no chat service reads as a mention or a link (``<!channel>`` stays
text). Webhook receivers get the same values unchanged, as JSON strings.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Any
from urllib.parse import quote

from vigil.config import Settings
from vigil.crypto import SecretBox
from vigil.incidents import ACTIVE_STATUSES
from vigil.notify.senders import Message

__all__ = ["ACTIONS", "action_link", "digest_message", "incident_message", "plain", "wants_links"]

#: What a link can do, and the words of its button.
ACTIONS = {"acknowledge": "Acknowledge", "resolve": "Resolve", "note": "Add a note"}
_LOOKALIKE = str.maketrans({"<": "‹", ">": "›", "&": "＆"})
_WORDS = {
    "opened": "opened",
    "severity_raised": "severity raised",
    "acknowledged": "acknowledged",
    "status_changed": "status changed",
    "resolved": "resolved",
    "closed": "closed",
    "reopened": "reopened",
    "note_added": "note added",
    "postmortem_published": "postmortem published",
    "action_due_soon": "action item due soon",
    "action_overdue": "action item overdue",
    "test": "test message",
    "page": "page",
}


def plain(value: object, limit: int = 500) -> str:
    """``value`` as one safe line of text (no control characters or chat markup)."""
    text = "" if value is None else str(value)
    text = "".join(
        " " if unicodedata.category(ch).startswith("C") else ch for ch in text
    ).translate(_LOOKALIKE)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def action_link(
    box: SecretBox,
    settings: Settings,
    *,
    action: str,
    incident_id: int,
    channel: str,
    sent: int,
    person: str | None = None,
) -> str:
    """A signed, expiring, single-use link that shows a page offering ``action`` (a page's
    link names the ``person`` paged: acting from it is recorded as them)."""
    claim: dict[str, object] = {
        "l": secrets.token_hex(8),
        "a": action,
        "i": incident_id,
        "c": channel,
        "n": sent,
    }
    if person:
        claim["p"] = person
    return f"{settings.base_url}/act?token={quote(box.claim(claim))}"


def incident_message(
    payload: dict[str, Any],
    *,
    key: str,
    links: dict[str, str],
    settings: Settings,
) -> Message:
    """The message about one change of one incident."""
    ref = plain(payload.get("incident"), 64)
    event = str(payload.get("event", ""))
    severity = plain(payload.get("severity"), 16)
    status = plain(payload.get("status"), 16)
    title = f"[{severity.upper()}] {ref} {_WORDS.get(event, plain(event, 32))}: {plain(payload.get('title'), 200)}"
    lines = [
        f"Incident: {ref} — {plain(payload.get('title'), 300)}",
        f"Severity: {severity} · Status: {status}",
        f"What changed: {plain(payload.get('what'))}",
        f"By: {plain(payload.get('by'), 200)}",
    ]
    if payload.get("resource"):
        lines.append(f"Resource: {plain(payload.get('resource'), 200)}")
    lines.append(f"Link: {settings.base_url}/incidents/{quote(str(payload.get('incident', '')))}")
    for action, url in links.items():
        lines.append(f"{ACTIONS[action]}: {url}")
    data = {
        "event": event,
        "incident": {
            "id": payload.get("incident"),
            "title": payload.get("title"),
            "severity": payload.get("severity"),
            "status": payload.get("status"),
            "service": payload.get("service"),
            "resource": payload.get("resource"),
            "url": f"{settings.base_url}/incidents/{quote(str(payload.get('incident', '')))}",
        },
        "change": {"what": payload.get("what"), "by": payload.get("by"), "at": payload.get("at")},
        "actions": links,
    }
    return Message(key, title, "\n".join(lines), data)


def wants_links(payload: dict[str, Any]) -> bool:
    """Links are offered while the incident the message is about is active."""
    return payload.get("status") in ACTIVE_STATUSES and bool(payload.get("incident"))


def digest_message(items: list[dict[str, Any]], *, key: str, settings: Settings) -> Message:
    """One message standing for many: a line per notification."""
    lines = [f"{len(items)} incident updates:"]
    for p in items[:50]:
        lines.append(
            f"• {plain(p.get('incident'), 64)} [{plain(p.get('severity'), 16)}] "
            f"{_WORDS.get(str(p.get('event')), '')}: {plain(p.get('title'), 120)}"
        )
    if len(items) > 50:
        lines.append(f"… and {len(items) - 50} more: {settings.base_url}/incidents")
    title = f"Vigil: {len(items)} incident updates"
    return Message(key, title, "\n".join(lines), {"event": "digest", "items": items})
