"""The REST API in process, on both backends."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from vigil.app import create_app
from vigil.auth import service as auth
from vigil.db.store import Store


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store=store)) as c:
        yield c


def _token(store: Store, name: str, *scopes: str) -> dict[str, str]:
    with store.write() as session:
        _t, secret = auth.create_token(session=session, name=name, scopes=list(scopes))
    return {"Authorization": f"Bearer {secret}"}


def test_create_ack_resolve_with_timeline_attributed_to_token(
    client: TestClient, store: Store
) -> None:
    h = _token(store, "pagerbot", "write")
    r = client.post(
        "/api/v1/incidents",
        json={"title": "API down", "severity": "HIGH", "labels": {"env": "prod"}},
        headers=h,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == "INC_001" and body["severity"] == "high" and body["status"] == "open"
    assert (
        client.post("/api/v1/incidents/INC_001/acknowledge", headers=h).json()["status"]
        == "acknowledged"
    )
    r = client.post(
        "/api/v1/incidents/INC_001/resolve", json={"resolution": "rolled back"}, headers=h
    )
    assert r.json()["status"] == "resolved" and r.json()["resolution"] == "rolled back"
    assert r.json()["total_duration_seconds"] >= 0
    r = client.post(
        "/api/v1/incidents/INC_001/notes", json={"text": "postmortem Friday"}, headers=h
    )
    assert r.status_code == 201
    timeline = client.get("/api/v1/incidents/INC_001/timeline", headers=h).json()
    assert [e["kind"] for e in timeline] == ["created", "status_changed", "status_changed", "note"]
    assert {e["actor"] for e in timeline} == {"pagerbot"}


def test_update_list_filters_and_pagination(client: TestClient, store: Store) -> None:
    h = _token(store, "w", "write")
    for i in range(5):
        client.post(
            "/api/v1/incidents",
            json={"title": f"t{i}", "severity": "low" if i % 2 else "critical", "resource": "db-1"},
            headers=h,
        )
    r = client.patch(
        "/api/v1/incidents/INC_002", json={"severity": "medium", "root_cause": "cron"}, headers=h
    )
    assert r.status_code == 200 and r.json()["severity"] == "medium"
    page = client.get("/api/v1/incidents", params={"limit": 2}, headers=h).json()
    assert [i["id"] for i in page["items"]] == ["INC_005", "INC_004"]
    page2 = client.get(
        "/api/v1/incidents", params={"limit": 2, "cursor": page["next_cursor"]}, headers=h
    ).json()
    assert [i["id"] for i in page2["items"]] == ["INC_003", "INC_002"]
    crit = client.get("/api/v1/incidents", params=[("severity", "critical")], headers=h).json()
    assert [i["id"] for i in crit["items"]] == ["INC_005", "INC_003", "INC_001"]


def test_errors_share_one_shape(client: TestClient, store: Store) -> None:
    h = _token(store, "w", "write")
    r = client.post("/api/v1/incidents", json={"title": "x", "severity": "apocalyptic"}, headers=h)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error" and err["field"] == "severity"
    assert err["allowed"] == ["critical", "high", "medium", "low"]
    r = client.post("/api/v1/incidents", json={"title": 5, "colour": "red"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["details"]
    assert {d["field"] for d in r.json()["error"]["details"]} >= {"colour"}
    r = client.get("/api/v1/incidents/INC_404", headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    client.post("/api/v1/incidents", json={"title": "y"}, headers=h)
    r = client.post("/api/v1/incidents/INC_001/close", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    r = client.get("/api/v1/nope", headers=h)
    assert r.status_code == 404 and "error" in r.json()


def test_auth_and_scopes(client: TestClient, store: Store) -> None:
    assert client.get("/api/v1/incidents").status_code == 401
    assert (
        client.get("/api/v1/incidents", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    reader = _token(store, "ro", "read")
    assert client.get("/api/v1/incidents", headers=reader).status_code == 200
    r = client.post("/api/v1/incidents", json={"title": "x"}, headers=reader)
    assert r.status_code == 403 and "write" in r.json()["error"]["message"]
    admin = _token(store, "root", "admin")
    r = client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["write"]}, headers=admin)
    assert r.status_code == 201 and r.json()["token"].startswith("vgl_")
    new = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.post("/api/v1/incidents", json={"title": "x"}, headers=new).status_code == 201
    assert client.delete("/api/v1/tokens/ci", headers=admin).status_code == 200
    assert client.post("/api/v1/incidents", json={"title": "x"}, headers=new).status_code == 401
    with store.read() as session:
        stored = [t.token_hash for t in auth.list_tokens(session=session, include_revoked=True)]
    assert r.json()["token"] not in stored


def test_oversized_body_gets_413(client: TestClient, store: Store) -> None:
    h = _token(store, "w", "write")
    big = "x" * (store.settings.max_body_bytes + 10)
    r = client.post("/api/v1/incidents", json={"title": "x", "description": big}, headers=h)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    with store.read() as session:
        from vigil.incidents.service import list_incidents

        assert list_incidents(session=session, settings=store.settings)[0] == []


def test_summary_recurrence_and_health(client: TestClient, store: Store) -> None:
    h = _token(store, "w", "write")
    client.post(
        "/api/v1/incidents",
        json={"title": "x", "category": "WORKER_FAILURE", "severity": "high"},
        headers=h,
    )
    s = client.get("/api/v1/analytics/summary", headers=h).json()
    assert s["total"] == 1 and s["by_severity"] == {"high": 1}
    r = client.get(
        "/api/v1/analytics/recurrence", params={"category": "worker_failure", "days": 7}, headers=h
    ).json()
    assert r["total_incidents"] == 1 and r["trend"] == "stable"
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["process"].endswith(f":{os.getpid()}")
    assert "notifications.deliver" in health["jobs"] and "heartbeats.check" in health["jobs"]
    deadline = time.monotonic() + 10  # followers appear once they have stored a position
    while not health["followers"] and time.monotonic() < deadline:
        time.sleep(0.1)
        health = client.get("/healthz").json()
    assert {f["follower"] for f in health["followers"]} >= {"availability"}
    assert all(f["behind"] >= 0 for f in health["followers"])
    assert client.get("/openapi.json").status_code == 200
