"""Input a new user types: one-line errors that say what is allowed, no side effects."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.factories import make_incident
from vigil.app import create_app
from vigil.auth import create_token, integrations
from vigil.cli import app
from vigil.db.store import Store

runner = CliRunner()


def _vigil(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout + result.stderr


def test_a_bad_setting_is_one_line_naming_it_and_exit_code_2(tmp_path: Path) -> None:
    for name, value, says in (
        ("VIGIL_PORT", "abc", "valid integer"),
        ("VIGIL_ID_TEMPLATE", "INC-{date:%Y%m%d}", "{seq}"),
    ):
        code, out = _vigil({"VIGIL_DATA_DIR": str(tmp_path), name: value}, "list")
        assert code == 2, out
        assert out.strip().count("\n") == 0 and name in out and says in out, out


def test_a_read_command_never_creates_a_database(tmp_path: Path) -> None:
    typo = tmp_path / "typo"
    code, out = _vigil({"VIGIL_DATA_DIR": str(typo)}, "show", "INC_001")
    assert code != 0 and f"no database at {typo / 'vigil.db'}" in out
    assert not (typo / "vigil.db").exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_times_say_the_format_and_accept_relative_forms(store: Store) -> None:
    make_incident(store, title="Disk full")
    env = {"VIGIL_DATA_DIR": str(store.settings.data_dir)}
    db = str(store.settings.database_url)
    code, out = _vigil(env, "--db", db, "list", "--since", "26/12/2025")
    assert code == 2 and out.strip().count("\n") == 0
    assert "ISO 8601, e.g. 2025-12-26 or 2025-12-26T14:30Z" in out and "┃" not in out
    for when in ("yesterday", "2h ago", "-7d", "2025-12-26", "2025-12-26T14:30Z"):
        code, out = _vigil(env, "--db", db, "list", "--since", when, "--json")
        assert code == 0, (when, out)
    code, out = _vigil(env, "--db", db, "list", "--bogus")
    assert code == 2 and "No such option: --bogus" in out and out.strip().count("\n") == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_incident_ids_in_any_case(store: Store) -> None:
    ref = make_incident(store)
    env = {"VIGIL_DATA_DIR": str(store.settings.data_dir)}
    code, out = _vigil(env, "--db", str(store.settings.database_url), "show", ref.lower())
    assert code == 0 and ref in out


def test_an_ingestion_key_on_a_read_route_is_told_what_it_is(store: Store) -> None:
    with store.write() as session:
        _made, key = integrations.create_integration(session=session, name="cams")
        _t, token = create_token(session=session, name="w", scopes=["write"])
    client = TestClient(create_app(store=store))
    answer = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 403
    assert "ingestion key of the events integration 'cams'" in answer.json()["error"]["message"]
    bad = client.post(
        "/api/v1/incidents",
        content=b'{"title": "x",\n "severity": }',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["field"] is None and "line 2" in error["message"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_incident_handled_outside_vigil_can_be_described_with_its_times(store: Store) -> None:
    with store.write() as session:
        _t, token = create_token(session=session, name="w", scopes=["write"])
    client = TestClient(create_app(store=store))
    auth = {"Authorization": f"Bearer {token}"}
    made = client.post(
        "/api/v1/incidents",
        json={"title": "Nightly job stuck", "detected_at": "2026-11-02T03:00:00Z"},
        headers=auth,
    ).json()
    ref = made["id"]
    future = client.post(f"/api/v1/incidents/{ref}/acknowledge", json={"at": "2999-01-01T00:00Z"},
                         headers=auth)  # fmt: skip
    assert future.status_code == 422 and future.json()["error"]["field"] == "at"
    early = client.post(f"/api/v1/incidents/{ref}/acknowledge", json={"at": "2026-11-02T02:00Z"},
                        headers=auth)  # fmt: skip
    assert early.status_code == 422 and "lifecycle times go in order" in early.text
    acked = client.post(f"/api/v1/incidents/{ref}/acknowledge", json={"at": "2026-11-02T03:02Z"},
                        headers=auth)  # fmt: skip
    assert acked.status_code == 200
    env = {"VIGIL_DATA_DIR": str(store.settings.data_dir)}
    code, out = _vigil(env, "--db", str(store.settings.database_url), "resolve", ref, "--at",
                       "2026-11-02T03:15Z", "-r", "restarted the job")  # fmt: skip
    assert code == 0, out
    done = client.get(f"/api/v1/incidents/{ref}", headers=auth).json()
    assert done["total_duration_seconds"] == 15 * 60
    assert done["detection_to_ack_seconds"] == 2 * 60
    timeline = client.get(f"/api/v1/incidents/{ref}/timeline", headers=auth).json()
    assert sum("backfilled" in e["message"] for e in timeline) == 2


def test_postmortem_timeline_rows_can_be_corrected_and_removed(store: Store) -> None:
    with store.write() as session:
        _t, token = create_token(session=session, name="w", scopes=["write"])
    ref = make_incident(store, title="Queue backlog")
    client = TestClient(create_app(store=store))
    auth = {"Authorization": f"Bearer {token}"}
    made = client.post(f"/api/v1/incidents/{ref}/postmortem", headers=auth)
    assert made.status_code == 201, made.text
    copied = made.json()["timeline"][0]  # copied from the incident's own timeline
    edited = client.patch(
        f"/api/v1/incidents/{ref}/postmortem/timeline/{copied['id']}",
        json={"event": "Backlog alert fired", "at": "2026-01-01T10:00:00Z"},
        headers=auth,
    )
    assert edited.status_code == 200, edited.text
    row = next(r for r in edited.json()["timeline"] if r["id"] == copied["id"])
    assert row["event"] == "Backlog alert fired" and row["at"].startswith("2026-01-01T10:00:00")
    own = client.get(f"/api/v1/incidents/{ref}/timeline", headers=auth).json()
    assert own[0]["message"] != "Backlog alert fired"  # the incident's own trail stays
    gone = client.delete(
        f"/api/v1/incidents/{ref}/postmortem/timeline/{copied['id']}", headers=auth
    )
    assert gone.status_code == 200 and all(r["id"] != copied["id"] for r in gone.json()["timeline"])
    again = client.delete(
        f"/api/v1/incidents/{ref}/postmortem/timeline/{copied['id']}", headers=auth
    )
    assert again.status_code == 404 and again.json()["error"]["field"] == "entry_id"
    other = make_incident(store, title="Other")
    client.post(f"/api/v1/incidents/{other}/postmortem", headers=auth)
    foreign = client.get(f"/api/v1/incidents/{other}/postmortem", headers=auth).json()["timeline"]
    wrong = client.patch(
        f"/api/v1/incidents/{ref}/postmortem/timeline/{foreign[0]['id']}",
        json={"event": "x"},
        headers=auth,
    )
    assert wrong.status_code == 404  # a row of another postmortem is not this one's


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_times_in_json_are_rfc3339_with_z_everywhere(store: Store) -> None:
    import json

    from vigil import IncidentLogger

    ref = make_incident(store, title="Clock check")
    env = {"VIGIL_DATA_DIR": str(store.settings.data_dir)}
    db = str(store.settings.database_url)
    assert _vigil(env, "--db", db, "resolve", ref, "-r", "done")[0] == 0
    shown = json.loads(_vigil(env, "--db", db, "show", ref, "--json")[1])
    stamps = [shown["detected_at"], shown["resolved_at"]]
    stamps += [c["to"] for e in shown["timeline"] for c in e["changes"].values() if c.get("to")
               and str(c["to"])[:2] == "20"]  # fmt: skip
    IncidentLogger.configure(settings=store.settings)
    stamps.append(IncidentLogger.get_incident(ref)["timestamp"])
    assert stamps and all(s.endswith("Z") and "+00:00" not in s for s in stamps), stamps


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_log_lines_outside_the_incident_and_past_due_dates_are_pointed_out(
    store: Store, tmp_path: Path
) -> None:
    ref = make_incident(store, title="Disk full")
    env = {"VIGIL_DATA_DIR": str(store.settings.data_dir)}
    db = ["--db", str(store.settings.database_url)]
    assert _vigil(env, *db, "postmortem", "new", ref)[0] == 0
    log = tmp_path / "app.log"
    log.write_text("2025-12-26 14:05:00 ERROR disk full\n")
    code, out = _vigil(env, *db, "timeline", "import-log", ref, str(log), "--since",
                       "2025-12-26T14:00", "--until", "2025-12-26T15:00")  # fmt: skip
    assert code == 0 and "1 of 1 line(s) lie outside the incident" in out
    code, out = _vigil(env, *db, "actions", "add", ref, "Clean up", "--due", "2020-01-01")
    assert code == 0 and "already past" in out


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_whys_conclusion_keeps_the_root_cause_paragraph(store: Store) -> None:
    with store.write() as session:
        _t, token = create_token(session=session, name="w", scopes=["write"])
    ref = make_incident(store, title="Schedule API 500s")
    client = TestClient(create_app(store=store))
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/incidents/{ref}/postmortem"
    assert client.post(base, headers=auth).status_code == 201
    paragraph = "A migration added a column the code read before the deploy finished."
    assert client.patch(base, json={"root_cause": paragraph}, headers=auth).status_code == 200
    client.post(f"{base}/whys/start", json={"problem": "500s"}, headers=auth)
    client.post(f"{base}/whys", json={"question": "Why?", "answer": "No check"}, headers=auth)
    done = client.post(
        f"{base}/root-cause", json={"text": "No migration check in CI"}, headers=auth
    )
    assert done.status_code == 200
    read = done.json()
    assert read["root_cause"] == paragraph and read["whys_root_cause"] == "No migration check in CI"
    report = client.get(f"{base}/report", headers=auth).text
    assert paragraph in report and "**ROOT CAUSE**: No migration check in CI" in report
