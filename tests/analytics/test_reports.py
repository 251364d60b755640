"""Response metrics, panels, ranking, recurrence and the report commands and endpoints."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.factories import make_incident
from vigil.analytics.panels import dashboard_panels, recurring_incidents
from vigil.analytics.reports import parse_window, weekly_report
from vigil.analytics.response import response_metrics
from vigil.app import create_app
from vigil.auth import service as auth
from vigil.cli import app
from vigil.config import Settings
from vigil.db import utcnow
from vigil.db.store import Store
from vigil.errors import ValidationError
from vigil.incidents import service as incidents
from vigil.ingest import maintenance
from vigil.ingest.receivers import events_to_signals
from vigil.ingest.service import ingest_signals

BASE = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)


def _incident(store: Store, service: str, detected: int, ack: int | None, res: int | None) -> None:
    ref = make_incident(store, service=service, detected_at=BASE + dt.timedelta(minutes=detected))
    with store.write() as session:
        if ack is not None:
            incidents.transition_incident(
                session=session,
                ref=ref,
                target="acknowledged",
                actor="t",
                at=BASE + dt.timedelta(minutes=detected + ack),
            )
        if res is not None:
            incidents.transition_incident(
                session=session,
                ref=ref,
                target="resolved",
                actor="t",
                at=BASE + dt.timedelta(minutes=detected + (ack or 0) + res),
            )


@hsettings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["api", "db"]),
            st.integers(0, 1000),
            st.one_of(st.none(), st.integers(0, 60)),
            st.one_of(st.none(), st.integers(1, 600)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_response_metrics_match_statistics(
    store: Store, rows: list[tuple[str, int, int | None, int | None]]
) -> None:
    tag = f"s{abs(hash(tuple(rows)))}-"
    for service, detected, ack, res in rows:
        _incident(store, tag + service, detected, ack, res)
    with store.read() as session:
        got = {
            m.group: m
            for m in response_metrics(
                session=session, start=BASE, end=BASE + dt.timedelta(days=2), group_by="service"
            )
            if m.group and m.group.startswith(tag)
        }
    for service in ("api", "db"):
        mine = [r for r in rows if r[0] == service]
        if not mine:
            assert tag + service not in got
            continue
        m = got[tag + service]
        ttr = sorted(((a or 0) + r) * 60.0 for _, _, a, r in mine if r is not None)
        assert m.incidents == len(mine)
        assert m.mttr.count == len(ttr)
        assert m.mttr.pending == len(mine) - len(ttr)
        if ttr:
            assert m.mttr.mean == pytest.approx(statistics.mean(ttr))
            assert m.mttr.median == pytest.approx(statistics.median(ttr))
            assert m.mttr.max == ttr[-1]
            assert m.mttr.p90 == ttr[max(-(-9 * len(ttr) // 10) - 1, 0)]
        tta = [a * 60.0 for _, _, a, r in mine if a is not None]
        assert m.mtta.count == len(tta)
        assert m.mtta.pending == len(mine) - len(tta)
        # Grouped by service the numbers come from indexes; filtered by it, from one stream.
        with store.read() as session:
            (streamed,) = response_metrics(
                session=session,
                start=BASE,
                end=BASE + dt.timedelta(days=2),
                group_by="all",
                service=tag + service,
            )
        assert streamed.model_dump(exclude={"group"}) == m.model_dump(exclude={"group"})


def _events(store: Store, *events: dict[str, object]) -> None:
    with store.write() as session:
        ingest_signals(
            session=session,
            settings=store.settings,
            signals=events_to_signals(store.settings, list(events), sender="m"),
        )


def test_panels_weekly_and_recurrence(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    _events(
        store,
        {
            "resource": "cam1",
            "component": "ffmpeg",
            "status": "active",
            "timestamp": (now - dt.timedelta(hours=5)).isoformat(),
        },
    )
    _events(
        store,
        {
            "resource": "cam1",
            "component": "ffmpeg",
            "status": "stuck",
            "timestamp": (now - dt.timedelta(hours=4)).isoformat(),
        },
    )
    _events(
        store,
        {
            "resource": "cam1",
            "component": "ffmpeg",
            "status": "active",
            "timestamp": (now - dt.timedelta(hours=3)).isoformat(),
        },
    )
    _events(
        store,
        {
            "resource": "cam2",
            "component": "ffmpeg",
            "status": "stopped",
            "timestamp": (now - dt.timedelta(hours=2)).isoformat(),
        },
    )
    make_incident(store, title="minor", severity="low", detected_at=now - dt.timedelta(minutes=30))
    with store.read() as session:
        panels = dashboard_panels(session=session, window=dt.timedelta(hours=6), now=now)
        assert [a.severity for a in panels.active] == [
            "critical",
            "low",
        ]  # severity first, then age
        assert panels.summary.active == 2
        assert panels.summary.last_24h == 3
        assert panels.summary.critical_24h == 1
        assert panels.summary.average_resolution_seconds_7d == pytest.approx(3600, abs=1)
        assert [h.duration for h in panels.recent][:1] == ["ongoing"]
        avail = {a.resource: a for a in panels.availability}
        assert avail["cam1"].availability_percent == pytest.approx(100 * 4 / 5, abs=0.01)
        assert avail["cam2"].availability_percent == pytest.approx(0, abs=0.01)
        report = weekly_report(session=session, now=now)
    for question in (
        "broken right now",
        "uptime last week",
        "How quickly",
        "99 % availability target",
        "most and least reliable",
    ):
        assert question in report
    assert "cam2" in report
    _events(
        store,
        {
            "resource": "cam1",
            "component": "ffmpeg",
            "status": "stuck",
            "timestamp": (now - dt.timedelta(hours=1)).isoformat(),
        },
    )
    with store.read() as session:
        groups = recurring_incidents(session=session, start=now - dt.timedelta(days=90), end=now)
    assert groups[0].fingerprint == "cam1|ffmpeg|SYSTEM_ERROR"
    assert groups[0].count == 2


def test_windows() -> None:
    assert parse_window("24h") == dt.timedelta(hours=24)
    assert parse_window("2w") == dt.timedelta(days=14)
    with pytest.raises(ValidationError, match="like 24h"):
        parse_window("soon")


def test_report_cli_and_api_formats(settings: Settings, store: Store) -> None:
    _events(store, {"resource": "cam9", "status": "stopped"})
    runner = CliRunner()
    env = {"VIGIL_DATA_DIR": str(settings.data_dir)}
    base = ["--db", str(settings.database_url), "report"]
    out = runner.invoke(app, [*base, "availability", "-w", "1d", "-f", "csv"], env=env)
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[0]["resource"] == "cam9"
    assert rows[0]["sla_band"] == "Poor"
    assert rows[0]["failures"] == "1"  # first seen stopped: it did fail
    with store.write() as session:
        maintenance.create_window(
            session=session, name="swap", resource="cam*", starts_at=utcnow() - dt.timedelta(hours=1),
            ends_at=utcnow() + dt.timedelta(hours=1), actor="t", reason="camera swap",
        )  # fmt: skip
    planned = {}
    for extra in ([], ["--count-maintenance"]):
        out = runner.invoke(app, [*base, "availability", "-w", "1d", "-f", "csv", *extra], env=env)
        assert out.exit_code == 0, out.output
        (row,) = csv.DictReader(io.StringIO(out.stdout))
        planned[bool(extra)] = float(row["maintenance_seconds"] or 0)
    assert planned[False] > 0 and planned[True] == 0  # left out of the SLA unless counted
    out = runner.invoke(app, [*base, "response", "--group-by", "resource", "-f", "json"], env=env)
    assert json.loads(out.stdout)[0]["mttr"]["pending"] == 1
    out = runner.invoke(app, [*base, "weekly"], env=env)
    assert out.stdout.startswith("# Weekly reliability report")
    for cmd in ("summary", "recurrence", "reliability", "dashboard"):
        assert runner.invoke(app, [*base, cmd], env=env).exit_code == 0, cmd
    bad = runner.invoke(app, [*base, "response", "--group-by", "colour"], env=env)
    assert bad.exit_code == 2
    assert "group_by 'colour' is not one of" in bad.stderr
    with store.write() as session:
        _t, token = auth.create_token(session=session, name="r", scopes=["read"])
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(store=store)) as client:
        r = client.get(
            "/api/v1/analytics/availability", params={"window": "1d", "format": "csv"}, headers=h
        )
        assert r.headers["content-type"].startswith("text/csv")
        assert "cam9" in r.text
        for counted in ("false", "true"):
            (row,) = client.get(
                "/api/v1/analytics/availability",
                params={"window": "1d", "count_maintenance": counted}, headers=h,
            ).json()  # fmt: skip
            assert (row["maintenance_seconds"] > 0) is (counted == "false")
        assert client.get("/api/v1/analytics/response", headers=h).json()[0]["incidents"] == 1
        assert client.get("/api/v1/analytics/dashboard", headers=h).json()["summary"]["active"] == 1
        # cam9 was seen for seconds of the 30 days: marked as partly observed, and not ranked.
        ranking = client.get("/api/v1/analytics/reliability", headers=h).json()
        assert [r["resource"] for r in ranking] == []
        (row,) = client.get("/api/v1/analytics/availability", headers=h).json()
        assert row["resource"] == "cam9" and row["partly_observed"] is True
        assert row["observed_percent"] < 1
        assert client.get("/api/v1/analytics/recurring", headers=h).json() == []
        assert "Weekly reliability report" in client.get("/api/v1/analytics/weekly", headers=h).text
        r = client.get("/api/v1/analytics/availability", params={"window": "x"}, headers=h)
        assert r.status_code == 422
