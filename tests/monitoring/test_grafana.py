"""The Grafana dashboard: built with the SDK, every SQL panel's query run against PostgreSQL and
compared with Vigil's own reports; the Prometheus variant reads only metrics Vigil exports."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from tests.factories import make_incident
from vigil.analytics.availability import availability_by_resource
from vigil.analytics.downtime import refresh_downtime
from vigil.analytics.panels import dashboard_panels
from vigil.analytics.response import response_metrics
from vigil.app import create_app
from vigil.cli import app
from vigil.db.store import Store
from vigil.incidents import service as incidents
from vigil.ingest.receivers import events_to_signals
from vigil.ingest.service import ingest_signals
from vigil.monitoring.grafana import SQL_PANELS, dashboard_json

MIN = dt.timedelta(minutes=1)


def _seed(store: Store) -> None:
    """Resources failing and recovering, declared incidents acknowledged and resolved."""
    now = dt.datetime.now(dt.UTC)
    events = [
        {"resource": "cam-1", "status": "active", "timestamp": (now - 90 * MIN).isoformat()},
        {"resource": "cam-1", "status": "stopped", "timestamp": (now - 60 * MIN).isoformat()},
        {"resource": "cam-1", "status": "active", "timestamp": (now - 45 * MIN).isoformat()},
        {"resource": "cam-2", "status": "stopped", "timestamp": (now - 30 * MIN).isoformat()},
        {"resource": "cam-3", "status": "active", "timestamp": (now - 20 * MIN).isoformat()},
    ]
    for event in events:  # in order, one commit each, as senders would
        with store.write() as session:
            signals = events_to_signals(store.settings, event, sender="test")
            ingest_signals(session=session, settings=store.settings, signals=signals)
    for i, severity in enumerate(("critical", "high", "low")):
        ref = make_incident(
            store, title=f"declared {i}", severity=severity, detected_at=now - (40 - i) * MIN
        )
        with store.write() as session:
            incidents.transition_incident(
                session=session, ref=ref, target="acknowledged", actor="t", at=now - (30 - i) * MIN
            )
            if i < 2:
                incidents.transition_incident(
                    session=session, ref=ref, target="resolved", actor="t", at=now - (10 + i) * MIN
                )
    with store.write() as session:
        refresh_downtime(session=session)


def _rows(store: Store, key: str) -> list[dict[str, object]]:
    with store.read() as session:
        return [dict(r._mapping) for r in session.execute(text(SQL_PANELS[key].sql))]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_every_sql_panel_agrees_with_vigils_reports(store: Store) -> None:
    _seed(store)
    now = dt.datetime.now(dt.UTC)
    with store.read() as session:
        panels = dashboard_panels(session=session)
        day = availability_by_resource(
            session=session, start=now - dt.timedelta(days=1), end=now, exclude_maintenance=False
        )
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        (today_response,) = response_metrics(session=session, start=midnight, end=now)
        today = availability_by_resource(
            session=session, start=midnight, end=now, exclude_maintenance=False
        )

    assert [r["id"] for r in _rows(store, "active")] == [a.id for a in panels.active]
    assert {r["severity"] for r in _rows(store, "active")} >= {"critical", "low"}

    shown = {r["resource"]: r for r in _rows(store, "availability")}
    assert set(shown) == {a.resource for a in day} == {"cam-1", "cam-2", "cam-3"}
    for a in day:
        assert shown[a.resource]["availability_percent"] == pytest.approx(
            a.availability_percent, abs=0.01
        )
        assert shown[a.resource]["sla_band"] == a.sla_band
    assert shown["cam-2"]["availability_percent"] == pytest.approx(0.0, abs=0.01)

    (summary,) = _rows(store, "summary")
    s = panels.summary
    assert (summary["active"], summary["last_24h"], summary["last_7d"]) == (
        s.active, s.last_24h, s.last_7d,
    )  # fmt: skip
    assert summary["critical_24h"] == s.critical_24h
    assert summary["average_resolution_seconds_7d"] == pytest.approx(
        s.average_resolution_seconds_7d, abs=0.01
    )

    recent = _rows(store, "recent")
    assert [r["id"] for r in recent] == [h.id for h in panels.recent]
    ongoing = {h.id for h in panels.recent if h.duration == "ongoing"}
    assert {str(r["id"]) for r in recent if r["duration"] == "ongoing"} == ongoing

    by_day = {r["time"].date(): r for r in _rows(store, "response")}  # type: ignore[attr-defined]
    if now - midnight > 41 * MIN:  # every seeded incident was detected today (UTC)
        row = by_day[now.date()]
        assert row["mtta"] == pytest.approx(today_response.mtta.mean, abs=0.01)
        assert row["mttr"] == pytest.approx(today_response.mttr.mean, abs=0.01)
        (fleet,) = [
            r["fleet"]
            for r in _rows(store, "availability_trend")
            if r["time"].date() == now.date()  # type: ignore[attr-defined]
        ]
        observed = sum(a.observed_seconds for a in today)
        up = sum(a.observed_seconds - a.downtime_seconds for a in today)
        assert fleet == pytest.approx(100 * up / observed, abs=0.01)


def test_the_dashboard_is_grafana_json_with_every_panel() -> None:
    result = CliRunner().invoke(app, ["grafana", "dashboard"])
    assert result.exit_code == 0
    board = json.loads(result.stdout)
    assert board["refresh"] == "30s" and board["uid"] == "vigil-sql"
    titles = [p["title"] for p in board["panels"]]
    assert titles == [p.title for p in SQL_PANELS.values()]
    sql = [t["rawSql"] for p in board["panels"] for t in p["targets"]]
    assert sql == [p.sql for p in SQL_PANELS.values()]
    colours = json.dumps(board["panels"][0]["fieldConfig"]["defaults"]["mappings"])
    assert '"critical": {"color": "red"' in colours
    bad = CliRunner().invoke(app, ["grafana", "dashboard", "--variant", "excel"])
    assert bad.exit_code == 2 and "variant 'excel' is not one of: sql, prometheus" in bad.stderr


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # metrics, not storage
def test_the_prometheus_variant_reads_only_metrics_vigil_exports(store: Store) -> None:
    _seed(store)
    board = json.loads(dashboard_json("prometheus"))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert exprs and all("rawSql" not in t for p in board["panels"] for t in p["targets"])
    with TestClient(create_app(store=store)) as client:
        exposed = client.get("/metrics").text
    for name in {m for e in exprs for m in re.findall(r"\bvigil_[a-z0-9_]+", e)}:
        assert re.search(rf"^{name}\{{", exposed, re.M), name
    assert 'vigil_resource_availability_24h_percent{resource="cam-2"} 0.0' in exposed
