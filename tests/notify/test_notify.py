"""Notifications end to end inside one process: real receivers on loopback, both backends."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from tests.notify.receivers import (
    WebhookReceiver,
    smtp_receiver,
    text_of,
    verify_signature,
    webhook_receiver,
)
from vigil.app import create_app
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.errors import ConflictError, ValidationError
from vigil.incidents import service as incidents
from vigil.incidents.schemas import IncidentCreate
from vigil.ingest.maintenance import create_window
from vigil.notify import service
from vigil.notify.models import Channel, Notification
from vigil.notify.scheduled import deliver_notifications
from vigil.notify.service import RouteSpec


@pytest.fixture
def keyed(settings: Settings) -> Iterator[Store]:
    """A store whose settings carry a secret key and fast retries."""
    s = settings.model_copy(
        update={"secret_key": SecretStr(new_key()), "notify_retry_seconds": 0.05}
    )
    store = Store(s)
    yield store
    store.close()


def _declare(
    store: Store, title: str = "Checkout down", severity: str = "high", **extra: object
) -> str:
    with store.write() as session:
        return incidents.create_incident(
            session=session,
            settings=store.settings,
            data=IncidentCreate(title=title, severity=severity, category="SYSTEM_ERROR", **extra),
            actor="alice",
        )


def _webhook(store: Store, receiver: WebhookReceiver, **kw: object) -> str:
    with store.write() as session:
        made = service.add_channel(
            session=session,
            settings=store.settings,
            name="hook",
            url=receiver.url,
            kind="webhook",
            default_route=True,
            **kw,  # type: ignore[arg-type]
        )
    assert made.signing_secret
    return made.signing_secret


def _deliver_until(store: Store, done: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deliver_notifications(store)
        if callable(done) and done():
            return
        time.sleep(0.02)


def test_open_then_resolve_sends_exactly_the_routed_messages_in_order(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        secret = _webhook(keyed, receiver)
        ref = _declare(keyed, title="<script>alert(1)</script> & more")
        _declare(keyed, title="Minor glitch", severity="low")  # below the default route
        with keyed.write() as session:
            incidents.transition_incident(session=session, ref=ref, target="resolved", actor="bob")
        _deliver_until(keyed, lambda: len(receiver.received) >= 2)
        time.sleep(0.1)
        deliver_notifications(keyed)
    got = receiver.received
    assert [r.json()["event"] for r in got] == ["opened", "resolved"]
    assert all(verify_signature(secret, r) for r in got)
    assert len({r.headers["idempotency-key"] for r in got}) == 2
    first = got[0].json()
    assert first["incident"]["id"] == ref and first["change"]["by"] == "alice"
    assert first["incident"]["title"] == "<script>alert(1)</script> & more"  # JSON, unchanged
    assert "<script>" not in first["text"] and "‹script›" in first["text"]  # text, defused
    assert set(first["actions"]) == {"acknowledge", "resolve", "note"}
    assert got[1].json()["actions"] == {}  # nothing to act on once resolved
    with keyed.read() as session:
        rows = service.list_notifications(session=session, incident=ref)
        reads = service.notification_reads(session=session, rows=rows)
    assert [r.state for r in reads] == ["sent", "sent"]
    assert [h.state for h in reads[0].history] == ["sent"]
    assert reads[0].answer.startswith("HTTP 200")


def test_a_tampered_signature_does_not_verify(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        secret = _webhook(keyed, receiver)
        _declare(keyed)
        _deliver_until(keyed, lambda: receiver.received)
    request = receiver.received[0]
    request.body = request.body.replace(b"Checkout", b"Checkin")
    assert not verify_signature(secret, request)


def test_receiver_down_then_back_gets_every_message_exactly_once(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        receiver.status = 503
        _webhook(keyed, receiver, bundle_after=0)
        refs = [_declare(keyed, title=f"Outage {i}") for i in range(5)]
        for _ in range(3):
            deliver_notifications(keyed)
            time.sleep(0.06)
        assert receiver.received and not receiver.delivered()
        with keyed.read() as session:
            states = {n.state for n in session.execute(select(Notification)).scalars()}
        assert states == {"pending"}
        receiver.status = 200
        _deliver_until(keyed, lambda: len(receiver.delivered()) >= 5)
    delivered = [r.headers["idempotency-key"] for r in receiver.delivered()]
    assert len(delivered) == len(set(delivered)) == 5
    assert {r.json()["incident"]["id"] for r in receiver.delivered()} == set(refs)


def test_a_refusing_destination_is_failed_after_the_attempt_limit(keyed: Store) -> None:
    store = Store(keyed.settings.model_copy(update={"notify_max_attempts": 2}))
    with webhook_receiver() as receiver:
        receiver.status = 500
        _webhook(store, receiver)
        _declare(store)
        _deliver_until(store, lambda: len(receiver.received) >= 2, seconds=5)
        time.sleep(0.1)
        deliver_notifications(store)
    with store.read() as session:
        (row,) = session.execute(select(Notification)).scalars()
    assert row.state == "failed" and row.attempts == 2 and "HTTP 500" in row.answer
    assert len(receiver.received) == 2
    store.close()


def test_a_burst_becomes_one_digest(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        _webhook(keyed, receiver, bundle_after=5)
        for i in range(30):
            _declare(keyed, title=f"Storm {i}")
        _deliver_until(keyed, lambda: receiver.received)
    assert len(receiver.received) == 1
    digest = receiver.received[0].json()
    assert digest["event"] == "digest" and len(digest["items"]) == 30
    with keyed.read() as session:
        states = [n.state for n in session.execute(select(Notification)).scalars()]
    assert states.count("bundled") == 30 and states.count("sent") == 1


def test_rate_limit_spaces_messages(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        _webhook(keyed, receiver, bundle_after=0, rate_per_minute=600)  # one per 0.1 s
        for i in range(6):
            _declare(keyed, title=f"Rated {i}")
        started = time.monotonic()
        _deliver_until(keyed, lambda: len(receiver.received) >= 6)
        took = time.monotonic() - started
    assert len(receiver.received) == 6
    assert took >= 0.25  # a burst of 3, then one per 0.1 s


def test_maintenance_window_silences_and_says_so(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        _webhook(keyed, receiver)
        now = dt.datetime.now(dt.UTC)
        with keyed.write() as session:
            create_window(
                session=session,
                name="db upgrade",
                starts_at=now - dt.timedelta(minutes=1),
                ends_at=now + dt.timedelta(hours=1),
                resource="db-*",
                match_labels={},
                reason="",
                actor="ops",
            )
        _declare(keyed, resource="db-1")
        _declare(keyed, resource="web-1")
        _deliver_until(keyed, lambda: receiver.received)
        time.sleep(0.1)
        deliver_notifications(keyed)
    assert [r.json()["incident"]["resource"] for r in receiver.received] == ["web-1"]
    with keyed.read() as session:
        silenced = session.execute(
            select(Notification).where(Notification.state == "silenced")
        ).scalar_one()
    assert "db upgrade" in silenced.answer


def test_routes_filter_on_events_and_fields(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        with keyed.write() as session:
            service.add_channel(
                session=session,
                settings=keyed.settings,
                name="hook",
                url=receiver.url,
                kind="webhook",
            )
            service.add_route(
                session=session,
                channel="hook",
                spec=RouteSpec(events=["note_added"], min_severity=None, services=["pay"]),
            )
        a = _declare(keyed, service="pay", severity="low")
        b = _declare(keyed, service="search", severity="low")
        with keyed.write() as session:
            for ref in (a, b):
                incidents.add_note(session=session, ref=ref, text="looking", actor="carol")
        _deliver_until(keyed, lambda: receiver.received)
        time.sleep(0.1)
        deliver_notifications(keyed)
    assert [(r.json()["event"], r.json()["incident"]["id"]) for r in receiver.received] == [
        ("note_added", a)
    ]


def test_channel_secrets_are_encrypted_and_never_shown(keyed: Store) -> None:
    url = "mmost://127.0.0.1:9/sEcReTtOkEn123"
    with keyed.write() as session:
        service.add_channel(session=session, settings=keyed.settings, name="chat", url=url)
    with keyed.read() as session:
        row = session.execute(select(Channel)).scalar_one()
    assert "sEcReTtOkEn123" not in row.url_encrypted + row.display
    client = TestClient(create_app(store=keyed))
    token = _admin_token(keyed)
    listed = client.get("/api/v1/channels", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and "sEcReTtOkEn123" not in listed.text
    assert listed.json()[0]["rate_per_minute"] == 60  # chat services default to 1/s


def test_channels_without_a_key_or_with_bad_input_are_refused(settings: Settings) -> None:
    store = Store(settings)
    with pytest.raises(ConflictError, match="VIGIL_SECRET_KEY"), store.write() as session:
        service.add_channel(session=session, settings=settings, name="x", url="json://127.0.0.1/")
    keyed = settings.model_copy(update={"secret_key": SecretStr(new_key())})
    for name, url, kind, field in (
        ("bad name!", "json://127.0.0.1/", "apprise", "name"),
        ("x", "nosuch://thing", "apprise", "url"),
        ("x", "ftp://host/", "webhook", "url"),
        ("x", "https://host/\x1b[2Jhook", "webhook", "url"),
        ("x", "json://127.0.0.1/ a", "apprise", "url"),
    ):
        with pytest.raises(ValidationError) as info, store.write() as session:
            service.add_channel(session=session, settings=keyed, name=name, url=url, kind=kind)
        assert info.value.context["field"] == field
    with store.read() as session:
        assert service.list_channels(session=session) == []
    store.close()


def _admin_token(store: Store) -> str:
    from vigil.auth import service as auth

    with store.write() as session:
        _token, secret = auth.create_token(
            session=session, name=f"admin-{time.monotonic_ns()}", scopes=["admin"]
        )
    return secret


def test_acting_from_the_link_once_with_a_confirmation_page(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        _webhook(keyed, receiver)
        ref = _declare(keyed)
        _deliver_until(keyed, lambda: receiver.received)
    links = receiver.received[0].json()["actions"]
    client = TestClient(create_app(store=keyed))
    page_url = urlsplit(links["acknowledge"])
    token = parse_qs(page_url.query)["token"][0]
    page = client.get(f"/act?{page_url.query}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Acknowledge" in page.text and ref in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    with keyed.read() as session:
        assert incidents.get_incident(session=session, ref=ref).status == "open"  # GET: no change
    done = client.post("/act", data={"token": token, "text": "on it"})
    assert done.status_code == 200 and "Done" in done.text
    with keyed.read() as session:
        incident = incidents.get_incident(session=session, ref=ref)
        entries = incidents.list_timeline(session=session, ref=ref)
    assert incident.status == "acknowledged"
    assert entries[-1].actor == "link via channel hook" and "on it" in entries[-1].message
    replay = client.post("/act", data={"token": token}, headers={"Accept": "text/html"})
    assert replay.status_code == 422 and "used already" in replay.text
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    bad = client.get("/act", params={"token": tampered}, headers={"Accept": "text/html"})
    assert bad.status_code == 422 and "not valid" in bad.text
    with keyed.read() as session:
        assert len(incidents.list_timeline(session=session, ref=ref)) == len(entries)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a clock, not a backend
def test_expired_links_change_nothing(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        _webhook(keyed, receiver)
        ref = _declare(keyed)
        _deliver_until(keyed, lambda: receiver.received)
    link = receiver.received[0].json()["actions"]["resolve"]
    token = parse_qs(urlsplit(link).query)["token"][0]
    short = Store(keyed.settings.model_copy(update={"notify_link_hours": 1 / 3600}))
    time.sleep(2.1)
    client = TestClient(create_app(store=short))
    answer = client.post("/act", data={"token": token}, headers={"Accept": "text/html"})
    assert answer.status_code == 422 and "expired" in answer.text
    with short.read() as session:
        assert incidents.get_incident(session=session, ref=ref).status == "open"
    short.close()


def test_email_through_apprise_reaches_a_local_smtp_server(keyed: Store) -> None:
    with smtp_receiver() as mailbox:
        with keyed.write() as session:
            service.add_channel(
                session=session,
                settings=keyed.settings,
                name="mail",
                url=mailbox.url,
                default_route=True,
            )
        ref = _declare(keyed, title="Disk full on db-1")
        _deliver_until(keyed, lambda: mailbox.messages)
    (mail,) = mailbox.messages
    body = text_of(mail)
    assert ref in str(mail["Subject"]) and "Disk full on db-1" in body
    assert re.search(r"Acknowledge: http://\S+/act\?token=\S+", body)
    assert "ref n:" in body  # the idempotency key, for receivers without headers


def test_calendar_has_declarations_and_investigation_blocks_with_stable_uids(
    keyed: Store,
) -> None:
    from icalendar import Calendar

    from vigil.postmortems.calendar import calendar_feed

    ref = _declare(keyed, title="Queue stuck")
    with keyed.write() as session:
        incidents.transition_incident(session=session, ref=ref, target="acknowledged", actor="a")

    def events() -> dict[str, object]:
        with keyed.read() as session:
            feed = Calendar.from_ical(calendar_feed(session=session))
        return {str(e.get("uid")): e for e in feed.walk("VEVENT")}

    before = events()
    (declared,) = [e for u, e in before.items() if u.startswith("incident-")]
    (block,) = [e for u, e in before.items() if u.startswith("investigation-")]
    assert ref in str(declared.get("summary")) and str(block.get("status")) == "TENTATIVE"
    with keyed.write() as session:
        incidents.transition_incident(session=session, ref=ref, target="resolved", actor="a")
        resolved_at = incidents.get_incident(session=session, ref=ref).resolved_at
    after = events()
    assert set(after) == set(before)  # the same UIDs: clients update, never duplicate
    block = next(e for u, e in after.items() if u.startswith("investigation-"))
    assert str(block.get("status")) == "CONFIRMED"
    assert resolved_at is not None
    # Ends at the resolution (blocks are at least a minute long, to be visible).
    assert block.get("dtend").dt >= resolved_at.replace(microsecond=0)
    assert block.get("dtend").dt <= resolved_at + dt.timedelta(minutes=1)


def test_channel_api_answers_bad_input_with_4xx_naming_the_field(keyed: Store) -> None:
    client = TestClient(create_app(store=keyed))
    h = {"Authorization": f"Bearer {_admin_token(keyed)}"}
    with webhook_receiver() as receiver:
        made = client.post(
            "/api/v1/channels",
            json={"name": "hook", "url": receiver.url, "kind": "webhook"},
            headers=h,
        )
        assert made.status_code == 201 and made.json()["signing_secret"]
        secret = made.json()["signing_secret"]
        assert secret not in client.get("/api/v1/channels", headers=h).text
        tested = client.post("/api/v1/channels/hook/test", headers=h)
        assert tested.json() == {"delivered": True, "answer": 'HTTP 200 {"ok":true}'}
        assert receiver.received[0].json()["event"] == "test"
    for body, field in (
        ({"name": "x", "url": "json://127.0.0.1/", "kind": "sms"}, "kind"),
        ({"name": "bad name", "url": "json://127.0.0.1/"}, "name"),
        ({"name": "y", "url": "nosuch://x"}, "url"),
        ({"name": "y", "url": "json://127.0.0.1/", "rate_per_minute": -1}, "rate_per_minute"),
    ):
        r = client.post("/api/v1/channels", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        error = r.json()["error"]
        assert field in str(error["field"]) + str(error.get("details")), (field, error)
    assert (
        client.post(
            "/api/v1/channels", json={"name": "hook", "url": "json://127.0.0.1/"}, headers=h
        ).status_code
        == 409
    )
    assert client.post("/api/v1/channels/nope/test", headers=h).status_code == 404
    r = client.post("/api/v1/channels/hook/routes", json={"events": ["exploded"]}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "events"
    r = client.post(
        "/api/v1/channels/hook/routes",
        json={"events": ["opened"], "min_severity": "huge"},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "min_severity"
    route = client.post(
        "/api/v1/channels/hook/routes", json={"events": ["opened", "note_added"]}, headers=h
    ).json()
    assert client.get("/api/v1/channels/hook/routes", headers=h).json() == [route]
    assert client.delete(f"/api/v1/routes/{route['id']}", headers=h).status_code == 204
    assert client.delete(f"/api/v1/routes/{route['id']}", headers=h).status_code == 404
    assert client.delete("/api/v1/channels/hook", headers=h).status_code == 200
    assert client.get("/api/v1/channels", headers=h).json() == []
    reader = client.get("/api/v1/notifications", params={"state": "lost"}, headers=h)
    assert reader.status_code == 422 and reader.json()["error"]["field"] == "state"


def test_links_on_a_server_without_a_key_are_refused_politely(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    r = client.get("/act", params={"token": "gAAAAAnonsense"}, headers={"Accept": "text/html"})
    assert r.status_code == 422 and "not valid" in r.text
    assert client.post("/act", data={"token": "x"}).status_code == 422


def test_chat_compatible_endpoints_through_apprise(keyed: Store) -> None:
    """Mattermost and ntfy speak to any host, so apprise reaches a local receiver."""
    with webhook_receiver() as receiver:
        port = urlsplit(receiver.url).port
        with keyed.write() as session:
            for name, url in (
                ("chat", f"mmost://127.0.0.1:{port}/abcdefghijklmnopqrstuvwxyz"),
                ("push", f"ntfy://127.0.0.1:{port}/vigil-alerts"),
            ):
                service.add_channel(
                    session=session,
                    settings=keyed.settings,
                    name=name,
                    url=url,
                    default_route=True,
                )
        ref = _declare(keyed, title="<!channel> db down", severity="critical")
        _deliver_until(keyed, lambda: len(receiver.received) >= 2)
    by_path = {r.path: r.json() for r in receiver.received}
    chat = by_path["/hooks/abcdefghijklmnopqrstuvwxyz"]["text"]
    push = by_path["/"]
    assert ref in chat and "<!channel>" not in chat and "‹!channel›" in chat
    assert push["topic"] == "vigil-alerts" and ref in push["title"]
    assert "Acknowledge: http" in push["message"]


def test_answers_never_keep_the_secrets_of_a_channel_url() -> None:
    from vigil.notify.senders import scrub

    url = "slack://T0ABCDEF/B0GHIJKL/sEcReTtOkEn1234?botname=vigil"
    said = f"Failed to send to {url}: 404 for https://hooks.slack.com/services/T0ABCDEF/B0GHIJKL/sEcReTtOkEn1234"
    clean = scrub(said, url)
    assert "sEcReTtOkEn1234" not in clean and "T0ABCDEF" not in clean and "***" in clean
    hook = "https://user:hunter22@hooks.example.com/in/abcdef123456"
    assert "hunter22" not in scrub(f"ConnectError: {hook}", hook)
    assert "hooks.example.com" in scrub(f"ConnectError: {hook}", hook)


@pytest.mark.parametrize(
    ("scheme", "reply", "thread_field"),
    [
        (
            "slack-bot",
            lambda r: {"ok": True, "ts": f"1700000000.{r.headers['x-number']}"},
            "thread_ts",
        ),
        ("mattermost-bot", lambda r: {"id": f"post{r.headers['x-number']}"}, "root_id"),
        (
            "telegram-bot",
            lambda r: {"ok": True, "result": {"message_id": int(r.headers["x-number"])}},
            "reply_to_message_id",
        ),
    ],
)
def test_chat_bots_keep_each_incident_in_one_thread(
    keyed: Store, scheme: str, reply: object, thread_field: str
) -> None:
    with webhook_receiver() as api:
        api.answer = reply  # type: ignore[assignment]
        port = urlsplit(api.url).port
        url = {
            "slack-bot": f"slack-bot://xoxb-secret-token@C0123?api=http://127.0.0.1:{port}/api",
            "mattermost-bot": f"mattermost-bot://mm-secret-token@127.0.0.1:{port}/chan1?insecure=yes",
            "telegram-bot": f"telegram-bot://123:tg-secret-token@-100200?api=http://127.0.0.1:{port}",
        }[scheme]
        with keyed.write() as session:
            made = service.add_channel(
                session=session,
                settings=keyed.settings,
                name="chat",
                url=url,
                default_route=True,
                bundle_after=0,
            )
            assert made.channel.kind == scheme and "secret-token" not in made.channel.display
        first = _declare(keyed, title="API errors")
        second = _declare(keyed, title="Disk full")
        with keyed.write() as session:
            incidents.transition_incident(session=session, ref=first, target="resolved", actor="x")
        _deliver_until(keyed, lambda: len(api.received) >= 3)
    posts = [r.json() for r in api.received]
    if scheme == "telegram-bot":
        assert all(r.path == "/bot123:tg-secret-token/sendMessage" for r in api.received)
    else:
        assert all(r.headers["authorization"].endswith("secret-token") for r in api.received)
    roots = [p for p in posts if thread_field not in p]
    replies = [p for p in posts if thread_field in p]
    assert len(roots) == 2 and len(replies) == 1  # one thread per incident
    text_key = "message" if scheme == "mattermost-bot" else "text"
    root_of_first = next(i for i, p in enumerate(posts) if first in p[text_key] and p in roots)
    expected = {
        "slack-bot": f"1700000000.{root_of_first + 1}",
        "mattermost-bot": f"post{root_of_first + 1}",
        "telegram-bot": root_of_first + 1,
    }[scheme]
    assert replies[0][thread_field] == expected and first in replies[0][text_key]
    assert second not in replies[0][text_key]


def test_the_documented_webhook_receiver_verifies_vigils_signature() -> None:
    """Run the receiver from docs/notifications.md as written (secret and port filled in)."""
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    from tests.server import free_port
    from vigil.notify.senders import Message, send_webhook

    doc = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()
    code = doc.split("drops duplicates:\n\n```python\n", 1)[1].split("```", 1)[0]
    port = free_port()
    code = code.replace('b"the signing secret vigil printed"', 'b"s3cret"').replace(
        '("127.0.0.1", 9000)', f'("127.0.0.1", {port})'
    )
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/hook"
        for _ in range(100):
            try:
                httpx.get(url, timeout=0.2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        message = Message(
            "n:1:1", "[HIGH] INC_001 opened: Checkout down", "text", {"event": "opened"}
        )
        with httpx.Client() as client:
            good = send_webhook(client, url, "s3cret", message, timeout=5)
            again = send_webhook(client, url, "s3cret", message, timeout=5)  # a retry
            forged = send_webhook(client, url, "wrong", message, timeout=5)
        assert good.ok and again.ok and good.detail.startswith("HTTP 204")
        assert not forged.ok and forged.detail.startswith("HTTP 401")
    finally:
        proc.terminate()
        out, _err = proc.communicate(timeout=10)
    assert out.splitlines() == ["[HIGH] INC_001 opened: Checkout down"]  # once: the retry dropped


def test_a_digest_never_overtakes_an_incidents_earlier_message_being_retried(keyed: Store) -> None:
    with webhook_receiver() as receiver:
        _webhook(keyed, receiver, bundle_after=3)
        receiver.status = 503
        first = _declare(keyed, title="Flaky")
        deliver_notifications(keyed)  # its "opened" fails and waits for a retry
        receiver.status = 200
        with keyed.write() as session:
            session.execute(
                Notification.__table__.update().values(
                    next_attempt_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
                )
            )
            incidents.transition_incident(session=session, ref=first, target="resolved", actor="x")
        others = [_declare(keyed, title=f"Other {i}") for i in range(5)]
        deliver_notifications(keyed)
        _deliver_until(
            keyed, lambda: any(r.json().get("event") == "resolved" for r in receiver.delivered()), 5
        )
    events = []
    for r in receiver.delivered():
        body = r.json()
        if body["event"] == "digest":
            events += [(i["incident"], i["event"]) for i in body["items"]]
        else:
            events.append((body["incident"]["id"], body["event"]))
    mine = [e for ref, e in events if ref == first]
    assert mine == ["opened", "resolved"]  # in order, although the digest went out first
    assert {ref for ref, _e in events} == {first, *others}


def test_a_destinations_answer_is_kept_as_one_printable_line() -> None:
    from vigil.notify.senders import one_line

    said = one_line("HTTP 500 \x1b[2J\x1b]0;pwned\x07 line\nbreak" + "x" * 1000)
    assert "\x1b" not in said and "\x07" not in said and "\n" not in said
    assert said.startswith("HTTP 500") and len(said) <= 300


def test_action_item_reminders_once_a_day_for_due_soon_and_overdue(keyed: Store) -> None:
    from vigil.notify.scheduled import remind_action_owners
    from vigil.postmortems.actions import create_action
    from vigil.postmortems.schemas import ActionItemCreate

    with webhook_receiver() as receiver:
        with keyed.write() as session:
            service.add_channel(
                session=session,
                settings=keyed.settings,
                name="hook",
                url=receiver.url,
                kind="webhook",
            )
            service.add_route(
                session=session,
                channel="hook",
                spec=RouteSpec(events=["action_due_soon", "action_overdue"], min_severity=None),
            )
        ref = _declare(keyed, severity="low")
        today = dt.datetime.now(dt.UTC).date()
        with keyed.write() as session:
            for title, due in (
                ("Add a check", today + dt.timedelta(days=1)),
                ("Fix the alert", today - dt.timedelta(days=3)),
                ("Someday", today + dt.timedelta(days=30)),
            ):
                create_action(
                    session=session,
                    ref=ref,
                    data=ActionItemCreate(title=title, due_date=due, owner="ana"),
                )
        assert remind_action_owners(keyed) == "2 reminder(s) queued"
        assert remind_action_owners(keyed) == "0 reminder(s) queued"  # once a day
        _deliver_until(keyed, lambda: len(receiver.received) >= 2)
    got = sorted((r.json()["event"], r.json()["change"]["what"]) for r in receiver.received)
    assert [e for e, _w in got] == ["action_due_soon", "action_overdue"]
    assert "Add a check" in got[0][1] and "Fix the alert" in got[1][1]
