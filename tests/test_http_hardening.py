"""Hostile and malformed requests get a 4xx in the one error shape, on both backends."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vigil.app import create_app
from vigil.auth import service as auth
from vigil.config import Settings
from vigil.db.store import Store
from vigil.logs import RedactSecretsFilter, redact_query


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store=store), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def admin(store: Store) -> dict[str, str]:
    with store.write() as session:
        _t, secret = auth.create_token(session=session, name="root", scopes=["admin"])
    return {"Authorization": f"Bearer {secret}"}


def _error(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    error: dict[str, object] = response.json()["error"]  # type: ignore[attr-defined]
    assert error["message"]
    return error


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-01:00", "1066-10-14T09:00:00Z"]
)
def test_times_out_of_range_are_refused_with_the_field(
    client: TestClient, admin: dict[str, str], when: str
) -> None:
    body = {"title": "t", "detected_at": when}
    error = _error(client.post("/api/v1/incidents", json=body, headers=admin), 422)
    assert error["field"] == "detected_at" and "between 1900" in str(error["message"])
    error = _error(client.get("/api/v1/incidents", params={"since": when}, headers=admin), 422)
    assert error["field"] == "since"
    params = {"start": when}
    _error(client.get("/api/v1/analytics/availability", params=params, headers=admin), 422)


@pytest.mark.parametrize("number", ["0.5", "1700000000", "-6.98943341152601e-126", "inf"])
def test_numbers_are_not_read_as_seconds_since_1970(
    client: TestClient, admin: dict[str, str], number: str
) -> None:
    r = client.get("/api/v1/analytics/recurring", params={"end": number}, headers=admin)
    assert _error(r, 422)["field"] == "end"
    body = {"title": "t", "detected_at": number}
    assert _error(client.post("/api/v1/incidents", json=body, headers=admin), 422)


def test_huge_window_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    r = client.get("/api/v1/analytics/availability", params={"window": "99999999d"}, headers=admin)
    assert _error(r, 422)["field"] == "window"


def test_explicit_null_is_refused_unless_the_field_can_be_cleared(
    client: TestClient, admin: dict[str, str]
) -> None:
    ref = client.post("/api/v1/incidents", json={"title": "t"}, headers=admin).json()["id"]
    for field in ("labels", "tags", "title", "affected_records"):
        r = client.patch(f"/api/v1/incidents/{ref}", json={field: None}, headers=admin)
        assert _error(r, 422)["field"] == field
    r = client.patch(f"/api/v1/incidents/{ref}", json={"service": None}, headers=admin)
    assert r.status_code == 200
    client.post(f"/api/v1/incidents/{ref}/postmortem", headers=admin)
    r = client.patch(f"/api/v1/incidents/{ref}/postmortem", json={"summary": None}, headers=admin)
    assert _error(r, 422)["field"] == "summary"


def test_values_longer_than_their_columns_get_422(
    client: TestClient, admin: dict[str, str]
) -> None:
    r = client.post("/api/v1/incidents", json={"title": "t", "host": "h" * 201}, headers=admin)
    assert _error(r, 422)["field"] == "host"
    labels = {f"k{i}": "v" for i in range(65)}
    r = client.post("/api/v1/incidents", json={"title": "t", "labels": labels}, headers=admin)
    assert _error(r, 422)["field"] == "labels"


def test_nul_bytes_are_refused_everywhere(client: TestClient, admin: dict[str, str]) -> None:
    _error(client.get("/api/v1/incidents/INC%00", headers=admin), 400)
    _error(client.get("/api/v1/incidents", params={"q": "a\x00b"}, headers=admin), 400)
    raw = b'{"title": "a\\u0000b"}'
    h = {**admin, "Content-Type": "application/json"}
    assert "NUL" in str(
        _error(client.post("/api/v1/incidents", content=raw, headers=h), 400)["message"]
    )
    ok = b'{"title": "a\\\\u0000b"}'  # an escaped backslash, not a NUL
    assert client.post("/api/v1/incidents", content=ok, headers=h).status_code == 201
    event = b'{"resource": "r\\u0000", "status": "stuck"}'
    _error(client.post("/api/v1/events", content=event, headers=h), 400)


def test_duplicate_keys_and_deep_nesting_are_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    h = {**admin, "Content-Type": "application/json"}
    dup = b'{"title": "a", "title": "b"}'
    error = _error(client.post("/api/v1/incidents", content=dup, headers=h), 400)
    assert "twice" in str(error["message"]) and error["field"] == "title"
    deep = b"[" * 5000 + b"]" * 5000
    for path in (
        "/api/v1/incidents",
        "/api/v1/integrations/alertmanager",
        "/api/v1/integrations/grafana",
        "/v2/enqueue",
    ):
        r = client.post(path, content=deep, headers=h)
        assert r.status_code == 400, (path, r.text)
    pd = b'{"routing_key": "a", "routing_key": "b", "event_action": "trigger"}'
    r = client.post("/v2/enqueue", content=pd, headers=h)
    assert r.status_code == 400 and "twice" in r.text
    # The event receiver's fast path refuses them too, at the top level and inside labels,
    # and stores nothing.
    for body in (
        b'{"resource": "web-1", "resource": "web-2", "status": "down"}',
        b'[{"resource": "web-1", "status": "down"},'
        b' {"resource": "web-3", "status": "down", "labels": {"env": "a", "env": "b"}}]',
    ):
        error = _error(client.post("/api/v1/events", content=body, headers=h), 400)
        assert "twice" in str(error["message"]), body
        assert error["field"] in {"resource", "env"}, error
    assert client.get("/api/v1/incidents", headers=admin).json()["items"] == []
    deep_event = (
        b'{"resource": "r", "status": "down", "labels": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    )
    _error(client.post("/api/v1/events", content=deep_event, headers=h), 400)


def test_malformed_json_names_line_and_column_not_a_fake_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    h = {**admin, "Content-Type": "application/json"}
    error = _error(client.post("/api/v1/incidents", content=b'{\n "title": }', headers=h), 400)
    assert "line 2, column 11" in str(error["message"]) and error["field"] is None


def test_forged_cursors_and_ids_out_of_range(client: TestClient, admin: dict[str, str]) -> None:
    import base64

    for raw in ("0001-01-01T00:00:00+01:00|1", "2026-01-01T00:00:00+00:00|99999999999999", "x"):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode()
        r = client.get("/api/v1/incidents", params={"cursor": cursor}, headers=admin)
        assert _error(r, 422)["field"] == "cursor"
    r = client.delete(f"/api/v1/maintenance/{2**70}", headers=admin)
    assert _error(r, 422)["field"] == "window_id"


def test_empty_dedup_key_twice_is_a_conflict_or_accepted_never_500(
    client: TestClient, admin: dict[str, str]
) -> None:
    statuses = [
        client.post("/api/v1/incidents", json={"title": "t", "dedup_key": ""}, headers=admin)
        for _ in range(2)
    ]
    assert all(r.status_code < 500 for r in statuses), [r.text for r in statuses]


def test_search_words_are_matched_literally(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/incidents", json={"title": "disk full"}, headers=admin)
    client.post("/api/v1/incidents", json={"title": "100% cpu"}, headers=admin)
    # Words are looked up in the search index; wildcards and operators are plain text.
    cases = (("%", []), ("k_f", []), ("disk", ["disk full"]), ("100%", ["100% cpu"]),
             ('"disk" NEAR(full', []), ("disk*", ["disk full"]))  # fmt: skip
    for q, want in cases:
        items = client.get("/api/v1/incidents", params={"q": q}, headers=admin).json()["items"]
        assert [i["title"] for i in items] == want, q


def test_chunked_oversize_body_gets_413(store: Store, admin: dict[str, str]) -> None:
    settings = store.settings.model_copy(update={"max_body_bytes": 1000})
    app = create_app(settings, Store(settings))
    with TestClient(app) as c:

        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 500

        h = {**admin, "Content-Type": "application/json"}
        r = c.post("/api/v1/incidents", content=chunks(), headers=h)
        assert _error(r, 413)["code"] == "payload_too_large"


def test_openapi_documents_error_responses_and_resolves_every_reference(
    client: TestClient,
) -> None:
    import json

    spec = client.get("/openapi.json").json()
    text = json.dumps(spec)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        name = ref.rsplit("/", 1)[-1]
        assert name in spec["components"]["schemas"], ref
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "422" in op["responses"] and "401" in op["responses"], (method, path)


def test_credentials_in_query_strings_are_redacted_from_access_logs() -> None:
    assert redact_query("/api/v1/calendar.ics?key=vgc_secret&x=1") == (
        "/api/v1/calendar.ics?key=REDACTED&x=1"
    )
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/x?token=vgl_abc&api_key=k", "1.1", 200), None,
    )  # fmt: skip
    RedactSecretsFilter().filter(record)
    assert "vgl_abc" not in record.getMessage() and "=k" not in record.getMessage()


def test_database_errors_do_not_echo_sql(client: TestClient, admin: dict[str, str]) -> None:
    from sqlalchemy.exc import OperationalError
    from starlette.requests import Request

    from vigil.web.errors import _driver_error

    request = Request({"type": "http", "method": "GET", "path": "/api/v1/x", "headers": []})
    exc = OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
    response = _driver_error(request, exc)
    assert response.status_code == 503
    assert b"SQL" not in response.body and b"BEGIN" not in response.body


def test_browsers_get_an_escaped_html_error_page_outside_the_api(client: TestClient) -> None:
    r = client.get("/no-such-page/<script>", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<script>" not in r.text
    api = client.get("/api/v1/no-such/<script>", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_analytics_refuse_impossible_targets_and_minimums(
    client: TestClient, admin: dict[str, str]
) -> None:
    for target in ("-1", "nan", "inf", "101"):
        r = client.get("/api/v1/analytics/availability", params={"target": target}, headers=admin)
        assert r.status_code == 422, (target, r.text)
    r = client.get("/api/v1/analytics/recurring", params={"minimum": "-3"}, headers=admin)
    assert _error(r, 422)["field"] == "minimum"


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    from vigil.analytics.reports import csv_safe

    assert csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_safe("@SUM(A1)") == "'@SUM(A1)" and csv_safe("+1+1") == "'+1+1"
    assert csv_safe("-2.5") == "-2.5" and csv_safe("cam-01") == "cam-01" and csv_safe(3) == 3


def test_a_busy_sqlite_write_lock_answers_503_not_500(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "vigil.db"
    settings = Settings(
        database_url=f"sqlite:///{db}", data_dir=tmp_path, sqlite_busy_timeout_ms=50
    )
    store = Store(settings)
    with store.write() as session:
        _token, secret = auth.create_token(session=session, name="w", scopes=["write"])
    holder = sqlite3.connect(db, isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        client = TestClient(create_app(store=store))
        r = client.post(
            "/api/v1/incidents", json={"title": "x"}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert r.status_code == 503, r.text
        assert "locked" in r.text.lower() or "busy" in r.text.lower()
        assert "BEGIN" not in r.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.close()
