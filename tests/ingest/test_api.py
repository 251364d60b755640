"""Ingestion over HTTP, in process, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from vigil.app import create_app
from vigil.auth import integrations
from vigil.auth import service as auth
from vigil.db.store import Store


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store=store)) as c:
        yield c


@pytest.fixture
def key(store: Store) -> str:
    with store.write() as session:
        return integrations.create_integration(session=session, name="monitor", kind="events")[1]


def _key_of(store: Store, kind: str) -> str:
    with store.write() as session:
        return integrations.create_integration(session=session, name=kind, kind=kind)[1]


def test_single_and_batch_events(client: TestClient, key: str) -> None:
    h = {"Authorization": f"Bearer {key}"}
    r = client.post(
        "/api/v1/events",
        json={"resource": "cam1", "component": "ffmpeg", "status": "stopped"},
        headers=h,
    )
    assert r.status_code == 202
    assert r.json()["incidents"] == ["INC_001"]
    assert r.json()["results"] == [{"outcome": "opened", "incident_id": "INC_001"}]
    batch = [{"resource": "cam1", "component": "ffmpeg", "status": "stopped"}] * 3 + [
        {"resource": "cam1", "component": "ffmpeg", "status": "active"}
    ]
    r = client.post("/api/v1/events", json=batch, headers=h)
    assert [x["outcome"] for x in r.json()["results"]] == [
        "updated",
        "updated",
        "updated",
        "resolved",
    ]
    inc = client.get("/api/v1/incidents/INC_001", headers=h)
    assert inc.status_code == 403  # an integration key only sends events, and is told so
    assert "ingestion key" in inc.json()["error"]["message"]


def test_write_token_may_send_events_read_token_may_not(client: TestClient, store: Store) -> None:
    with store.write() as session:
        _t, writer = auth.create_token(session=session, name="w", scopes=["write"])
        _t, reader = auth.create_token(session=session, name="r", scopes=["read"])
    body = {"resource": "db", "status": "down"}
    assert (
        client.post(
            "/api/v1/events", json=body, headers={"Authorization": f"Bearer {writer}"}
        ).status_code
        == 202
    )
    r = client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403
    timeline = client.get(
        "/api/v1/incidents/INC_001/timeline", headers={"Authorization": f"Bearer {reader}"}
    ).json()
    assert timeline[0]["actor"] == "w"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"resource": "x", "status": "sleeping"}', 422, "status 'sleeping' is not one of"),
        (b'{"status": "stuck"}', 422, "resource"),
        (b'[{"resource": "x", "status": "stuck"}, {"resource": "y"}]', 422, "[1].status"),
        (
            b'{"resource": "x", "status": "stuck", "severity": "mega"}',
            422,
            "critical, high, medium, low",
        ),
        (b"[]", 422, "no events"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    client: TestClient, key: str, body: bytes, status: int, needle: str
) -> None:
    h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    r = client.post("/api/v1/events", content=body, headers=h)
    assert r.status_code == status
    assert needle in r.json()["error"]["message"]
    assert client.get("/api/v1/resources", headers=h).status_code == 403


def test_oversize_batch_and_bad_key(client: TestClient, key: str, store: Store) -> None:
    too_many = [
        {"resource": f"r{i}", "status": "ok"} for i in range(store.settings.ingest_max_events + 1)
    ]
    r = client.post("/api/v1/events", json=too_many, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 413
    assert "ingest_max_events" in r.json()["error"]["message"]
    r = client.post(
        "/api/v1/events",
        json={"resource": "x", "status": "ok"},
        headers={"Authorization": "Bearer nope"},
    )
    assert r.status_code == 401


def test_pagerduty_validation_matches_events_api_v2(client: TestClient, store: Store) -> None:
    key = _key_of(store, "pagerduty")
    r = client.post(
        "/v2/enqueue",
        json={"routing_key": key, "event_action": "trigger", "payload": {"summary": "x"}},
    )
    assert r.status_code == 400
    assert r.json()["status"] == "invalid event"
    assert any("payload.source" in e for e in r.json()["errors"])
    r = client.post("/v2/enqueue", json={"routing_key": "0" * 32, "event_action": "trigger"})
    assert r.status_code == 400
    assert r.json()["errors"] == ["Invalid routing key"]
    r = client.post("/v2/enqueue", json={"routing_key": key, "event_action": "resolve"})
    assert "'dedup_key' is required" in r.json()["errors"][0]
    r = client.post(
        "/v2/enqueue",
        json={
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": "disk-7",
            "payload": {
                "summary": "Disk full",
                "source": "db-7",
                "severity": "error",
                "component": "postgres",
                "custom_details": {"free": "0"},
            },
        },
    )
    assert r.status_code == 202
    assert r.json() == {"status": "success", "message": "Event processed", "dedup_key": "disk-7"}


def _am_payload(status: str, fingerprint: str = "abc123") -> dict[str, object]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "vigil",
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency"},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": "HighLatency",
                    "instance": "api-1:9100",
                    "severity": "critical",
                },
                "annotations": {"summary": "p99 above 2s"},
                "startsAt": "2026-02-01T12:00:00Z",
                "endsAt": "2026-02-01T12:10:00Z"
                if status == "resolved"
                else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom/graph",
                "fingerprint": fingerprint,
            }
        ],
    }


@pytest.mark.parametrize(
    "path", ["/api/v1/integrations/alertmanager", "/api/v1/integrations/grafana"]
)
def test_alert_webhooks_open_and_resolve(client: TestClient, store: Store, path: str) -> None:
    h = {"Authorization": f"Bearer {_key_of(store, path.rsplit('/', 1)[-1])}"}
    r = client.post(path, json=_am_payload("firing"), headers=h)
    assert r.status_code == 202
    assert r.json()["results"][0]["outcome"] == "opened"
    assert (
        client.post(path, json=_am_payload("firing"), headers=h).json()["results"][0]["outcome"]
        == "updated"
    )
    r = client.post(path, json=_am_payload("resolved"), headers=h)
    assert r.json()["results"][0]["outcome"] == "resolved"
    r = client.post(path, json={"alerts": [{"status": "exploding"}]}, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["allowed"] == ["firing", "resolved"]


def test_integrations_heartbeats_maintenance_over_api(client: TestClient, store: Store) -> None:
    with store.write() as session:
        _t, admin = auth.create_token(session=session, name="admin", scopes=["admin"])
    h = {"Authorization": f"Bearer {admin}"}
    r = client.post("/api/v1/integrations", json={"name": "am", "kind": "alertmanager"}, headers=h)
    assert r.status_code == 201
    old = r.json()["key"]
    new = client.post("/api/v1/integrations/am/rotate", headers=h).json()["key"]
    assert old != new
    am = "/api/v1/integrations/alertmanager"
    ev = _am_payload("firing")
    assert client.post(am, json=ev, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.post(am, json=ev, headers={"Authorization": f"Bearer {new}"}).status_code == 202
    wrong = client.post("/api/v1/events", json={"resource": "x", "status": "ok"},
                        headers={"Authorization": f"Bearer {new}"})  # fmt: skip
    assert wrong.status_code == 403
    assert "alertmanager integration" in wrong.json()["error"]["message"]
    beat_key = client.post(
        "/api/v1/integrations", json={"name": "hb", "kind": "heartbeat"}, headers=h
    ).json()["key"]
    assert (
        client.post(
            "/api/v1/integrations", json={"name": "x", "kind": "fax"}, headers=h
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/heartbeats", json={"name": "cron", "interval_seconds": 60}, headers=h
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/heartbeats/cron/beat", headers={"Authorization": f"Bearer {beat_key}"}
        ).json()["outcome"]
        == "recorded"
    )
    r = client.post(
        "/api/v1/maintenance",
        json={
            "name": "m",
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2026-01-02T00:00:00Z",
            "resource": "cam-*",
        },
        headers=h,
    )
    assert r.status_code == 201
    assert [
        w["name"] for w in client.get("/api/v1/maintenance?include_past=true", headers=h).json()
    ] == ["m"]
    assert client.get("/api/v1/resources", headers=h).json()[0]["resource"] == "api-1:9100"
    assert client.delete("/api/v1/integrations/am", headers=h).status_code == 204
    assert (
        client.post(
            "/api/v1/events", json=ev, headers={"Authorization": f"Bearer {new}"}
        ).status_code
        == 401
    )


def test_metrics_count_events_and_active_incidents(client: TestClient, key: str) -> None:
    h = {"Authorization": f"Bearer {key}"}
    client.post(
        "/api/v1/events",
        json=[{"resource": "m1", "status": "stopped"}, {"resource": "m1", "status": "stopped"}],
        headers=h,
    )
    text = client.get("/metrics").text
    assert 'vigil_ingested_events_total{outcome="opened"} 1.0' in text
    assert 'vigil_ingested_events_total{outcome="updated"} 1.0' in text
    assert 'vigil_active_incidents{severity="critical",status="open"} 1.0' in text
    assert "vigil_ingest_batch_seconds_count 1.0" in text


def test_metrics_show_how_far_feed_followers_lag(
    client: TestClient, store: Store, key: str
) -> None:
    import time

    from vigil.analytics.downtime import refresh_in_steps
    from vigil.jobs.service import list_jobs

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the server's first refresh; the next is 30 s away
        with store.read() as session:
            if any(j.runs for j in list_jobs(session=session) if j.name == "availability.refresh"):
                break
        time.sleep(0.05)
    h = {"Authorization": f"Bearer {key}"}
    client.post("/api/v1/events", json=[{"resource": "lag1", "status": "stopped"}], headers=h)
    refresh_in_steps(store=store)
    client.post("/api/v1/events", json=[{"resource": "lag2", "status": "stopped"}], headers=h)
    text = client.get("/metrics").text
    assert 'vigil_job_runs_total{job="availability.refresh"} 1.0' in text
    # The second incident's "created" entry and its state change are not followed yet.
    assert (
        'vigil_feed_follower_lag_rows{follower="availability",log="timeline_entries"} 1.0' in text
    )
    assert (
        'vigil_feed_follower_lag_rows{follower="availability",log="resource_state_changes"} 1.0'
        in text
    )


def test_an_integration_only_touches_incidents_it_opened(
    client: TestClient, store: Store, key: str
) -> None:
    pd = _key_of(store, "pagerduty")
    trigger = {
        "routing_key": pd,
        "event_action": "trigger",
        "dedup_key": "db-down",
        "payload": {"summary": "DB down", "source": "db-1", "severity": "critical"},
    }
    opened = client.post("/v2/enqueue", json=trigger)
    assert opened.status_code == 202, opened.text
    forged = {"resource": "x", "status": "ok", "dedup_key": "pagerduty:pagerduty:db-down"}
    r = client.post("/api/v1/events", json=forged, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202 and r.json()["results"][0]["outcome"] != "resolved"
    with store.read() as session:
        from vigil.incidents.models import Incident

        statuses = {i.source: i.status for i in session.query(Incident).all()}
    assert statuses["pagerduty"] == "open"
    # Keys of another kind are refused by each receiver with a 403 that says where to send.
    am = _key_of(store, "alertmanager")
    r = client.post("/v2/enqueue", json={**trigger, "routing_key": am})
    assert r.status_code == 403 and "/api/v1/integrations/alertmanager" in r.text
    r = client.post(
        "/api/v1/integrations/grafana", json=_am_payload("firing"),
        headers={"Authorization": f"Bearer {am}"},
    )  # fmt: skip
    assert r.status_code == 403


def test_pagerduty_and_alertmanager_shapes_are_checked(client: TestClient, store: Store) -> None:
    pd = _key_of(store, "pagerduty")
    body = {
        "routing_key": pd,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "x", "severity": "error", "group": {"a": 1}},
    }
    r = client.post("/v2/enqueue", json=body)
    assert r.status_code == 400 and "'payload.group' must be a string" in r.text
    am = _key_of(store, "alertmanager")
    alert = _am_payload("firing")
    alert["alerts"][0]["labels"] = ["not", "a", "map"]  # type: ignore[index]
    r = client.post(
        "/api/v1/integrations/alertmanager", json=alert, headers={"Authorization": f"Bearer {am}"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "alerts[0].labels"


def test_refusals_are_answered_after_the_configured_delay(store: Store, key: str) -> None:
    import time

    settings = store.settings.model_copy(update={"ingest_refusal_delay_seconds": 0.3})
    with TestClient(create_app(settings, Store(settings))) as c:
        h = {"Authorization": f"Bearer {key}"}
        started = time.perf_counter()
        r = c.post("/api/v1/events", json={"resource": "x", "status": "nope"}, headers=h)
        assert r.status_code == 422 and time.perf_counter() - started >= 0.3
        started = time.perf_counter()
        assert (
            c.post("/api/v1/events", json={"resource": "x", "status": "ok"}, headers=h).status_code
            == 202
        )
        assert time.perf_counter() - started < 0.3  # good requests are not delayed
