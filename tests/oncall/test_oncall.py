"""On-call rules through the services, with real receivers on loopback."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from tests.notify.receivers import webhook_receiver
from tests.oncall.builders import declare, person, policy, rotation
from tests.server import free_port
from vigil.app import create_app
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from vigil.incidents import service as incidents
from vigil.notify.models import Notification
from vigil.notify.scheduled import deliverer_for
from vigil.oncall import check_coverage, people, roles, schedules, swaps
from vigil.oncall.models import IncidentEscalation
from vigil.oncall.paging import follow_incident_changes
from vigil.oncall.steps import fire_due_steps

UTC = dt.UTC
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def keyed(settings: Settings) -> Iterator[Store]:
    store = Store(
        settings.model_copy(
            update={"secret_key": SecretStr(new_key()), "notify_retry_seconds": 0.05}
        )
    )
    yield store
    store.close()


def _admin_token(store: Store) -> str:
    from vigil.auth import create_token

    with store.write() as session:
        return create_token(session=session, name=f"admin-{new_key()[:8]}", scopes=["admin"])[1]


def _tick(store: Store, now: dt.datetime) -> int:
    with store.write() as session:
        follow_incident_changes(session=session, now=now)
        return fire_due_steps(session=session, now=now)


def _timeline(store: Store, ref: str) -> list[str]:
    with store.read() as session:
        return [e.message for e in incidents.list_timeline(session=session, ref=ref)]


def test_each_person_is_paged_once_per_step_and_resolving_stops_everything(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url + "/ann")
        person(keyed, "bob", hook.url + "/bob")
        rotation(keyed, "primary", ["ann"])
        policy(keyed, "default", (5, ["schedule:primary"]), (5, ["person:bob"]), repeat=1)
        ref = declare(keyed)
        t0 = dt.datetime.now(UTC)
        assert _tick(keyed, t0) == 1
        assert _tick(keyed, t0) == 0, "a step fires once"
        assert _tick(keyed, t0 + 6 * MIN) == 1
        with keyed.write() as session:
            incidents.transition_incident(
                session=session, ref=ref, target="resolved", actor="alice"
            )
        assert _tick(keyed, t0 + 12 * MIN) == 0, "resolving stops the climb"
        with keyed.read() as session:
            pages = (
                session.execute(select(Notification).where(Notification.event == "page"))
                .scalars()
                .all()
            )
            climb = session.execute(select(IncidentEscalation)).scalar_one()
        assert climb.state == "resolved"
        firsts = sorted(n.key for n in pages if n.key.endswith(":0"))
        assert [k.split(":")[3:5] for k in firsts] == [["0", "ann"], ["1", "bob"]]
        assert {n.state for n in pages if not n.key.endswith(":0")} <= {"cancelled"}
        assert all(n.state in ("pending", "cancelled") for n in pages)


def test_a_step_that_reaches_nobody_is_recorded_and_skipped(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url, verified=False)
        person(keyed, "bob", hook.url)
        rotation(keyed, "day", ["ann"], restrict=("mon-fri 09:00-17:00",))
        policy(keyed, "default", (5, ["schedule:day"]), (5, ["person:bob"]))
        ref = declare(keyed)
        saturday = dt.datetime(2026, 12, 5, 12, tzinfo=UTC)
        assert _tick(keyed, saturday) == 2
    lines = _timeline(keyed, ref)
    assert any(
        "step 1 of 2 reached nobody (schedule day has nobody on call); skipped" in m for m in lines
    )
    assert any("step 2 of 2: paged bob: chat now" in m for m in lines)


def test_unverified_contact_methods_are_never_paged_and_codes_are_checked(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url, verified=False)
        with keyed.write() as session:
            _c, code = people.new_verification_code(
                session=session, settings=keyed.settings, handle="ann", label="chat"
            )
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(ValidationError, match="4 tries left"), keyed.write() as session:
            people.confirm_contact(
                session=session, settings=keyed.settings, handle="ann", label="chat", code=wrong
            )
        policy(keyed, "default", (5, ["person:ann"]))
        ref = declare(keyed)
        _tick(keyed, dt.datetime.now(UTC))
        assert any(
            "ann has no verified contact method for high urgency" in m
            for m in _timeline(keyed, ref)
        )
        with keyed.write() as session:
            people.confirm_contact(
                session=session, settings=keyed.settings, handle="ann", label="chat", code=code
            )
        with pytest.raises(ConflictError), keyed.write() as session:
            people.confirm_contact(
                session=session, settings=keyed.settings, handle="ann", label="chat", code=code
            )


def test_low_urgency_waits_for_working_hours_and_quiet_hours_but_high_does_not(
    keyed: Store,
) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url, tz="Europe/Berlin", quiet_hours="22:00-07:00")
        policy(keyed, "default", (5, ["person:ann"]))
        low = declare(keyed, severity="low", title="Disk at 80%")
        high = declare(keyed, severity="critical", title="Payments down")
        saturday_night = dt.datetime(2026, 12, 5, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
        _tick(keyed, saturday_night)
    with keyed.read() as session:
        pages = (
            session.execute(select(Notification).where(Notification.event == "page"))
            .scalars()
            .all()
        )
        by_incident = {
            n.payload["incident"]: n.next_attempt_at for n in pages if n.key.endswith(":0")
        }
    assert by_incident[high] == saturday_night
    assert by_incident[low] == dt.datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 Berlin


def test_acknowledging_assigns_the_acknowledger_or_whoever_was_paged(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        policy(keyed, "default", (5, ["person:ann"]))
        ref = declare(keyed)
        other = declare(keyed, title="Second")
        now = dt.datetime.now(UTC)
        _tick(keyed, now)
        with keyed.write() as session:
            incidents.transition_incident(
                session=session, ref=ref, target="acknowledged", actor="ann"
            )
            incidents.transition_incident(
                session=session, ref=other, target="acknowledged", actor="api-token"
            )
        _tick(keyed, now)
    with keyed.read() as session:
        assert incidents.get_incident(session=session, ref=ref).assignee == "ann"
        assert incidents.get_incident(session=session, ref=other).assignee == "ann"
    assert any(
        "Assigned to ann (ann was paged at the step that got the answer)" in m
        for m in _timeline(keyed, other)
    )


def test_oncall_check_finds_a_planted_gap_and_who_cannot_be_reached(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        person(keyed, "bob", hook.url, verified=False)
        rotation(keyed, "primary", ["ann", "bob"], handoff="2026-01-05T09:00")
        policy(keyed, "default", (5, ["schedule:primary"]))
        now = dt.datetime(2026, 12, 2, 12, tzinfo=UTC)
        with keyed.read() as session:
            before = check_coverage(session=session, days=7, now=now)
        with keyed.read() as session:
            (holder,) = schedules.who_is_on_call(
                session=session, at=dt.datetime(2026, 12, 3, tzinfo=UTC)
            )["primary"].people
        with keyed.write() as session:  # the plant: they go on holiday with nobody below them
            schedules.add_override(
                session=session, schedule="primary", kind="remove", person=holder,
                start=dt.datetime(2026, 12, 3, tzinfo=UTC), end=dt.datetime(2026, 12, 4, tzinfo=UTC),
            )  # fmt: skip
        with keyed.read() as session:
            after = check_coverage(session=session, days=7, now=now)
    assert [f.kind for f in before if f.kind == "gap"] == []
    assert {(f.kind, f.subject) for f in before} >= {
        ("unreachable", "bob"),
        ("reaches_nobody", "default"),
    }
    gaps = [(f.start, f.end) for f in after if f.kind == "gap"]
    assert gaps == [(dt.datetime(2026, 12, 3, tzinfo=UTC), dt.datetime(2026, 12, 4, tzinfo=UTC))]


def test_a_swap_is_a_replace_override_either_side_can_undo(keyed: Store) -> None:
    with webhook_receiver() as hook:
        for who in ("ann", "bob", "cy"):
            person(keyed, who, hook.url)
        rotation(keyed, "primary", ["ann"])
        start, end = dt.datetime(2026, 12, 24, tzinfo=UTC), dt.datetime(2026, 12, 26, tzinfo=UTC)
        with keyed.write() as session:
            swap = swaps.request_swap(
                session=session, schedule="primary", requester="ann", start=start, end=end
            )
            swaps.accept_swap(session=session, swap_id=swap.id, by="bob")
        with keyed.read() as session:
            assert schedules.who_is_on_call(session=session, at=start)["primary"].people == ("bob",)
        with pytest.raises(PermissionDeniedError), keyed.write() as session:
            swaps.undo_swap(session=session, swap_id=swap.id, by="cy")
        with keyed.write() as session:
            assert swaps.undo_swap(session=session, swap_id=swap.id, by="bob").state == "undone"
        with keyed.read() as session:
            assert schedules.who_is_on_call(session=session, at=start)["primary"].people == ("ann",)


ROTA = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:rota-1@test
DTSTART;TZID=Europe/Berlin:20261207T090000
DTEND;TZID=Europe/Berlin:20261207T170000
RRULE:FREQ=DAILY;COUNT=5
EXDATE;TZID=Europe/Berlin:20261209T090000
SUMMARY:On call: ann
END:VEVENT
BEGIN:VEVENT
UID:rota-1@test
RECURRENCE-ID;TZID=Europe/Berlin:20261210T090000
DTSTART;TZID=Europe/Berlin:20261210T120000
DTEND;TZID=Europe/Berlin:20261210T180000
SUMMARY:Bob Example
END:VEVENT
END:VCALENDAR
"""


def test_an_imported_calendar_layer_follows_recurrence_exceptions_and_moves(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        person(keyed, "bob", hook.url)
        with keyed.write() as session:
            schedules.add_schedule(session=session, name="rota", time_zone="Europe/Berlin")
            schedules.add_layer(
                session=session,
                schedule="rota",
                spec=schedules.LayerSpec(name="import", ical_text=ROTA),
            )

    def at(day: int, hour: int) -> tuple[str, ...]:
        with keyed.read() as session:
            when = dt.datetime(2026, 12, day, hour, tzinfo=UTC)
            return schedules.who_is_on_call(session=session, at=when)["rota"].people

    assert at(7, 10) == ("ann",)
    assert at(9, 10) == (), "the excluded day has nobody"
    assert at(10, 9) == () and at(10, 12) == ("bob",), "the moved occurrence names bob"
    with pytest.raises(ValidationError), keyed.write() as session:
        schedules.add_layer(
            session=session,
            schedule="rota",
            spec=schedules.LayerSpec(name="bad", ical_text="not a calendar"),
        )


def test_schedule_feeds_have_stable_uids_reminders_and_take_only_feed_keys_in_urls(
    keyed: Store,
) -> None:
    from vigil.auth import create_token

    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        rotation(keyed, "primary", ["ann"], shift="daily")
        with keyed.write() as session:
            _t, feed_key = create_token(session=session, name="cal", scopes=["calendar"])
            _t, api_token = create_token(session=session, name="api", scopes=["read"])
        with TestClient(create_app(keyed.settings)) as client:
            first = client.get("/api/v1/schedules/primary/calendar.ics", params={"key": feed_key})
            again = client.get("/api/v1/schedules/primary/calendar.ics", params={"key": feed_key})
            mine = client.get("/api/v1/people/ann/calendar.ics", params={"key": feed_key})
            refused = client.get(
                "/api/v1/schedules/primary/calendar.ics", params={"key": api_token}
            )
            in_url = client.get(
                "/api/v1/schedules/primary/calendar.ics", params={"token": api_token}
            )
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
    uids = [line for line in first.text.splitlines() if line.startswith("UID:")]
    assert uids and uids == [line for line in again.text.splitlines() if line.startswith("UID:")]
    assert "BEGIN:VALARM" in first.text and "TRIGGER:-PT15M" in first.text
    assert "On call: ann (primary)" in mine.text
    assert refused.status_code == 401 and in_url.status_code == 401


def _twilio_server(received: list[dict[str, Any]]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            received.append({"path": self.path, "auth": self.headers.get("authorization"), **form})
            reply = json.dumps({"sid": "SM123", "status": "queued"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_a: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sms_and_voice_pages_speak_the_twilio_api_to_a_local_server(keyed: Store) -> None:
    received: list[dict[str, Any]] = []
    server, base = _twilio_server(received)
    store = Store(keyed.settings.model_copy(update={
        "sms_api_url": base, "sms_account_sid": "AC123", "sms_auth_token": SecretStr("tok-secret"),
        "sms_from": "+15550001111",
    }))  # fmt: skip
    try:
        with store.write() as session:
            people.add_person(session=session, handle="ann", name="Ann")
            people.add_contact(
                session=session,
                settings=store.settings,
                handle="ann",
                label="phone",
                kind="sms",
                address="+49 151 1234 5678",
            )
            people.add_contact(
                session=session,
                settings=store.settings,
                handle="ann",
                label="call",
                kind="voice",
                address="+4915112345678",
            )
            for label in ("phone", "call"):
                _c, code = people.new_verification_code(
                    session=session, settings=store.settings, handle="ann", label=label
                )
                people.confirm_contact(
                    session=session, settings=store.settings, handle="ann", label=label, code=code
                )
            people.add_rule(
                session=session, handle="ann", urgency="high", contact="call", delay_minutes=0
            )
        policy(store, "default", (5, ["person:ann"]))
        ref = declare(store)
        now = dt.datetime.now(UTC)
        _tick(store, now)
        deliverer_for(store).deliver_once(now=now + dt.timedelta(seconds=1))
    finally:
        store.close()
        server.shutdown()
        server.server_close()
    sms = [r for r in received if r["path"] == "/2010-04-01/Accounts/AC123/Messages.json"]
    calls = [r for r in received if r["path"] == "/2010-04-01/Accounts/AC123/Calls.json"]
    assert sms and sms[0]["To"] == "+4915112345678" and sms[0]["From"] == "+15550001111"
    assert ref in sms[0]["Body"] and sms[0]["auth"].startswith("Basic ")
    assert calls and "<Say>" in calls[0]["Twiml"] and "&lt;" not in calls[0]["To"]


def test_a_persons_token_names_them_and_bad_input_names_the_field(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        with keyed.write() as session:
            _t, secret = people.create_person_token(
                session=session, handle="ann", name="ann-laptop", scopes=["write"]
            )
        ref = declare(keyed)
        with TestClient(create_app(keyed.settings)) as client:
            h = {"Authorization": f"Bearer {secret}"}
            noted = client.post(
                f"/api/v1/incidents/{ref}/notes", json={"text": "looking"}, headers=h
            )
            made = client.post(
                "/api/v1/people/ann/tokens",
                json={"name": "ann-phone", "scopes": ["write"]},
                headers={"Authorization": f"Bearer {_admin_token(keyed)}"},
            )
            by_api = client.post(
                f"/api/v1/incidents/{ref}/notes",
                json={"text": "from my phone"},
                headers={"Authorization": f"Bearer {made.json()['token']}"},
            )
            bad_zone = client.post(
                "/api/v1/people",
                json={"handle": "bo", "name": "Bo", "time_zone": "Mars/Olympus"},
                headers=h,
            )
            bad_handle = client.post(
                "/api/v1/people", json={"handle": "Bad Handle!", "name": "x"}, headers=h
            )
            bad_hours = client.patch(
                "/api/v1/people/ann", json={"working_hours": "someday 9-5"}, headers=h
            )
            role = client.put(
                f"/api/v1/incidents/{ref}/roles/commander", json={"person": "ann"}, headers=h
            )
            bad_role = client.put(
                f"/api/v1/incidents/{ref}/roles/captain", json={"person": "ann"}, headers=h
            )
    assert noted.status_code == 201 and noted.json()["actor"] == "ann"
    assert made.status_code == 201 and made.json()["person"] == "ann"
    assert by_api.status_code == 201 and by_api.json()["actor"] == "ann"
    for r, field in (
        (bad_zone, "time_zone"),
        (bad_handle, "handle"),
        (bad_hours, "working_hours"),
        (bad_role, "role"),
    ):
        assert r.status_code == 422, r.text
        assert field in r.text
    assert role.status_code == 200
    assert any("ann takes the commander role" in m for m in _timeline(keyed, ref))


def test_unknown_people_and_schedules_are_4xx_and_nothing_is_half_written(keyed: Store) -> None:
    with keyed.write() as session:
        schedules.add_schedule(session=session, name="primary")
    with pytest.raises(ValidationError, match="nobody has the handle"), keyed.write() as session:
        schedules.add_layer(
            session=session,
            schedule="primary",
            spec=schedules.LayerSpec(name="l", participants=["ghost"]),
        )
    with keyed.read() as session:
        assert list(schedules.list_layers(session=session, schedule="primary")) == []
    with pytest.raises(NotFoundError), keyed.write() as session:
        roles.escalation_of(session=session, ref="INC_999")


def test_reading_the_same_opening_twice_leaves_a_climb_under_way_alone(keyed: Store) -> None:
    from vigil.oncall.paging import _start

    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        policy(keyed, "default", (5, ["person:ann"]), (5, ["person:ann"]))
        declare(keyed)
        now = dt.datetime.now(UTC)
        assert _tick(keyed, now) == 1
        with keyed.write() as session:  # a second process that read the same feed rows
            climb = session.execute(select(IncidentEscalation)).scalar_one()
            _start(session, {climb.incident_id}, now)
        with keyed.read() as session:
            again = session.execute(select(IncidentEscalation)).scalar_one()
    assert (again.step, again.state) == (1, "climbing")


HOLIDAYS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:leave-1@test
DTSTART;VALUE=DATE:20261224
DTEND;VALUE=DATE:20261227
SUMMARY:ann on leave
END:VEVENT
END:VCALENDAR
"""


def test_an_away_calendar_takes_people_off_call_and_the_layer_below_decides(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        person(keyed, "bob", hook.url)
        with keyed.write() as session:
            schedules.add_schedule(session=session, name="team")
            for name, who in (("secondary", "bob"), ("primary", "ann")):
                schedules.add_layer(
                    session=session, schedule="team",
                    spec=schedules.LayerSpec(name=name, participants=[who], handoff="2026-01-05T09:00"),
                )  # fmt: skip
            schedules.add_layer(
                session=session, schedule="team",
                spec=schedules.LayerSpec(name="holidays", ical_text=HOLIDAYS, ical_mode="away"),
            )  # fmt: skip
        with pytest.raises(ValidationError, match="ical_url"), keyed.write() as session:
            schedules.add_layer(
                session=session, schedule="team",
                spec=schedules.LayerSpec(name="x", ical_url="file:///etc/passwd"),
            )  # fmt: skip
        with keyed.read() as session:
            during = schedules.who_is_on_call(
                session=session, at=dt.datetime(2026, 12, 25, 12, tzinfo=UTC)
            )
            after = schedules.who_is_on_call(
                session=session, at=dt.datetime(2026, 12, 28, 12, tzinfo=UTC)
            )
    assert during["team"].people == ("bob",) and during["team"].decided_by == ("secondary",)
    assert after["team"].people == ("ann",)


def test_after_the_last_step_pages_repeat_as_they_come_due_until_acknowledged(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)  # default rule: high urgency now, every 5 minutes
        policy(keyed, "default", (5, ["person:ann"]))
        ref = declare(keyed)
        t0 = dt.datetime.now(UTC)
        _tick(keyed, t0)

        def pages() -> list[tuple[str, str]]:
            with keyed.read() as session:
                rows = session.execute(
                    select(Notification).where(Notification.event == "page")
                ).scalars()
                return sorted((n.key.rsplit(":", 1)[1], n.state) for n in rows)

        assert pages() == [("0", "pending")], "repeats are not written ahead"
        assert _tick(keyed, t0 + 4 * MIN) == 0
        _tick(keyed, t0 + 11 * MIN)
        assert [n for n, _ in pages()] == ["0", "1", "2"]
        with keyed.read() as session:
            climb = session.execute(select(IncidentEscalation)).scalar_one()
        assert climb.state == "repeating" and climb.next_at == t0 + 15 * MIN
        with keyed.write() as session:
            incidents.transition_incident(
                session=session, ref=ref, target="acknowledged", actor="ann"
            )
        _tick(keyed, t0 + 30 * MIN)
        assert [n for n, _ in pages()] == ["0", "1", "2"]
        assert {s for _, s in pages()} == {"cancelled"}


def test_a_storm_of_pages_to_one_person_arrives_as_one_digest(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        policy(keyed, "default", (5, ["person:ann"]))
        refs = [declare(keyed, title=f"Shard {i} down") for i in range(8)]
        now = dt.datetime.now(UTC)
        assert _tick(keyed, now) == 8
        deliverer_for(keyed).deliver_once(now=now + dt.timedelta(seconds=1))
    bodies = [r.json() for r in hook.received]
    assert len(bodies) == 1 and bodies[0]["event"] == "digest"
    assert sorted(item["incident"] for item in bodies[0]["items"]) == sorted(refs)
