"""Chat bots that keep each incident in one thread: Slack and Mattermost with a bot token.

The first message about an incident on such a channel starts a thread; the API's answer
names it (Slack's ``ts``, Mattermost's post ``id``), which is stored per (channel, incident),
and every later message about the incident is a reply in it. Messages about one incident go
out in order, so the thread's first message is always the incident's first.

Channel URLs (stored encrypted like every channel URL):

* ``slack-bot://TOKEN@CHANNEL_ID`` posts through ``https://slack.com/api/chat.postMessage``
  (``?api=URL`` points at another Slack-compatible API base);
* ``mattermost-bot://TOKEN@HOST[:PORT]/CHANNEL_ID`` posts through ``/api/v4/posts`` over
  HTTPS (``?insecure=yes`` for plain HTTP on a trusted network);
* ``telegram-bot://TOKEN@CHAT_ID`` posts through ``https://api.telegram.org/botTOKEN/sendMessage``
  (Telegram's API takes the token in its path) and replies with ``reply_to_message_id``
  (``?api=URL`` for another Bot-API-compatible server).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import ValidationError
from vigil.notify.models import NotificationThread
from vigil.notify.senders import Answer, Message, one_line, scrub

__all__ = ["BOT_KINDS", "BotTarget", "parse_bot_url", "remember_thread", "send_bot", "thread_of"]

BOT_KINDS = ("slack-bot", "mattermost-bot", "telegram-bot")


@dataclass(frozen=True, slots=True)
class BotTarget:
    """Where a bot posts."""

    kind: str
    endpoint: str
    token: str
    channel: str
    display: str


def parse_bot_url(url: str) -> BotTarget:
    """The target of a bot channel URL; ValidationError naming ``url`` if it is malformed."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    token = parts.username or ""
    if parts.scheme == "slack-bot":
        channel = parts.hostname or ""
        if not token or not channel:
            raise ValidationError("url: slack-bot://TOKEN@CHANNEL_ID", field="url")
        api = query.get("api", "https://slack.com/api").rstrip("/")
        if urlsplit(api).scheme not in ("http", "https"):
            raise ValidationError("url: api= must be an http(s) URL", field="url")
        shown = f"slack-bot://{token[:4]}…@{parts.netloc.split('@', 1)[1]}"
        return BotTarget("slack-bot", f"{api}/chat.postMessage", token, channel, shown)
    if parts.scheme == "mattermost-bot":
        channel = parts.path.strip("/")
        if not token or not parts.hostname or not channel or "/" in channel:
            raise ValidationError("url: mattermost-bot://TOKEN@HOST[:PORT]/CHANNEL_ID", field="url")
        scheme = "http" if query.get("insecure") in ("yes", "true", "1") else "https"
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        shown = f"mattermost-bot://{token[:4]}…@{host}/{channel}"
        return BotTarget("mattermost-bot", f"{scheme}://{host}/api/v4/posts", token, channel, shown)
    if parts.scheme == "telegram-bot":
        token, _, chat = parts.netloc.rpartition("@")  # Telegram tokens are ID:SECRET
        if not token or not chat:
            raise ValidationError("url: telegram-bot://TOKEN@CHAT_ID", field="url")
        api = query.get("api", "https://api.telegram.org").rstrip("/")
        if urlsplit(api).scheme not in ("http", "https"):
            raise ValidationError("url: api= must be an http(s) URL", field="url")
        shown = f"telegram-bot://{token[:4]}…@{chat}"
        return BotTarget("telegram-bot", f"{api}/bot{token}/sendMessage", token, chat, shown)
    raise ValidationError(f"url: a bot URL starts with one of {', '.join(BOT_KINDS)}", field="url")


def thread_of(*, session: Session, channel_id: int, incident_id: int | None) -> str | None:
    """The thread an incident's messages on a channel reply in, if one was started."""
    if incident_id is None:
        return None
    return session.execute(
        select(NotificationThread.ref).where(
            NotificationThread.channel_id == channel_id,
            NotificationThread.incident_id == incident_id,
        )
    ).scalar_one_or_none()


def remember_thread(*, session: Session, channel_id: int, incident_id: int, ref: str) -> None:
    """Store the thread a first message started (kept if one is known already)."""
    if thread_of(session=session, channel_id=channel_id, incident_id=incident_id) is None:
        session.add(NotificationThread(channel_id=channel_id, incident_id=incident_id, ref=ref))
        session.flush()


def send_bot(
    client: httpx.Client, url: str, message: Message, thread: str | None, *, timeout: float
) -> Answer:
    """Post ``message`` (a reply in ``thread`` when given); the answer names the thread."""
    target = parse_bot_url(url)
    text = (
        f"*{message.title}*\n{message.body}"
        if target.kind == "slack-bot"
        else (f"**{message.title}**\n{message.body}")
    )
    headers = {"Authorization": f"Bearer {target.token}", "Idempotency-Key": message.key}
    if target.kind == "telegram-bot":
        del headers["Authorization"]  # the token is in the endpoint's path
        body: dict[str, object] = {
            "chat_id": target.channel,
            "text": f"{message.title}\n{message.body}",
        }
        if thread:
            body["reply_to_message_id"] = int(thread) if thread.isdigit() else thread
    elif target.kind == "slack-bot":
        body = {"channel": target.channel, "text": text, "mrkdwn": False}
        if thread:
            body["thread_ts"] = thread
    else:
        body = {"channel_id": target.channel, "message": text}
        if thread:
            body["root_id"] = thread
    try:
        reply = client.post(target.endpoint, json=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return Answer(False, one_line(scrub(f"{type(exc).__name__}: {exc}", url)))
    detail = one_line(scrub(f"HTTP {reply.status_code} {reply.text}", url))
    try:
        data = reply.json()
    except ValueError:
        data = {}
    if target.kind == "telegram-bot":
        ok = reply.is_success and bool(data.get("ok"))
        started = (data.get("result") or {}).get("message_id") if ok else None
        retry = reply.status_code == 429 or reply.status_code >= 500
    elif target.kind == "slack-bot":
        ok = reply.is_success and bool(data.get("ok"))
        started = data.get("ts") if ok else None
        retry = data.get("error") in (None, "ratelimited", "internal_error", "fatal_error")
    else:
        ok = reply.is_success and "id" in data
        started = data.get("id") if ok else None
        retry = not (400 <= reply.status_code < 500 and reply.status_code not in (408, 429))
    if not ok:
        return Answer(False, detail, retry=retry)
    return Answer(True, detail, thread=None if thread else (str(started) if started else None))
