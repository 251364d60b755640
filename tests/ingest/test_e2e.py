"""Ingestion against a real server: PagerDuty client, Alertmanager, SIGKILL durability."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import IN_CI
from tests.server import free_port, running, self_signed, start, stop
from vigil.auth import integrations
from vigil.config import Settings
from vigil.db.store import Store
from vigil.incidents.models import Incident
from vigil.ingest.models import Event, IngestPending
from vigil.validation import as_instant


def _key(settings: Settings, name: str = "src", kind: str = "events") -> str:
    store = Store(settings)
    try:
        with store.write() as session:
            return integrations.create_integration(session=session, name=name, kind=kind)[1]
    finally:
        store.close()


def _incident(server_base: str, token: str, ref: str) -> dict[str, object]:
    r = httpx.get(
        f"{server_base}/api/v1/incidents/{ref}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    return dict(r.json())


def _incident_tls(server_base: str, token: str, ref: str, cert: str) -> dict[str, object]:
    r = httpx.get(
        f"{server_base}/api/v1/incidents/{ref}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
        verify=cert,
    )
    return dict(r.json())


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a client, not a backend
def test_unmodified_pagerduty_client_library(settings: Settings, tmp_path: Path) -> None:
    import pagerduty

    key = _key(settings, "pd", "pagerduty")
    cert, tls_key = self_signed(str(tmp_path))  # the client insists on https://
    with running(settings, tls=(cert, tls_key)) as server:
        client = pagerduty.EventsApiV2Client(key, base_url=server.base, verify=cert)
        dedup = client.trigger(
            "Checkout latency high",
            "checkout-1",
            severity="error",
            custom_details={"p99_ms": 2300},
            links=[{"href": "http://x", "text": "dash"}],
        )
        assert dedup
        assert _incident_tls(server.base, server.token, "INC_001", cert)["status"] == "open"
        assert client.acknowledge(dedup) == dedup
        assert _incident_tls(server.base, server.token, "INC_001", cert)["status"] == "acknowledged"
        assert client.resolve(dedup) == dedup
        inc = _incident_tls(server.base, server.token, "INC_001", cert)
        assert inc["status"] == "resolved"
        assert inc["severity"] == "high"
        assert inc["resource"] == "checkout-1"
        bad = pagerduty.EventsApiV2Client("f" * 32, base_url=server.base, verify=cert)
        with pytest.raises(pagerduty.Error):
            bad.trigger("x", "y")


def _alertmanager() -> str | None:
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a client, not a backend
def test_unmodified_alertmanager_opens_and_resolves(settings: Settings) -> None:
    exe = _alertmanager()
    if exe is None:
        if IN_CI:
            pytest.fail("Alertmanager is required in CI (apt install prometheus-alertmanager)")
        pytest.skip("prometheus-alertmanager is not installed")
    key = _key(settings, "am", "alertmanager")
    with running(settings) as server, tempfile.TemporaryDirectory() as tmp:
        am_port = free_port()
        config = Path(tmp, "am.yml")
        config.write_text(f"""
route:
  receiver: vigil
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: vigil
    webhook_configs:
      - url: {server.base}/api/v1/integrations/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {key}
""")
        am = subprocess.Popen(
            [
                exe,
                f"--config.file={config}",
                f"--storage.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            am_url = f"http://127.0.0.1:{am_port}/api/v2/alerts"
            alert = {
                "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
                "annotations": {"summary": "disk 99% full"},
            }
            _wait(lambda: _post(am_url, [alert]))
            _wait(
                lambda: _incident(server.base, server.token, "INC_001").get("status") == "open", 20
            )
            inc = _incident(server.base, server.token, "INC_001")
            assert inc["severity"] == "critical"
            assert inc["title"] == "disk 99% full"
            ended = {
                **alert,
                "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1)),
            }
            assert _post(am_url, [ended])
            _wait(
                lambda: _incident(server.base, server.token, "INC_001").get("status") == "resolved",
                30,
            )
        finally:
            am.terminate()
            am.wait(timeout=10)


def _post(url: str, body: object) -> bool:
    try:
        return httpx.post(url, json=body, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _wait(check: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {seconds}s")


def test_sigkill_loses_no_acknowledged_event(settings: Settings) -> None:
    key = _key(settings)
    # Repeat counters are never written before the kill (SQLite defers them), so the restart
    # must recompute them from the event log.
    server = start(settings, env_extra={"VIGIL_INGEST_COUNTER_SECONDS": "3600"})
    acked: list[str] = []
    lock = threading.Lock()

    def sender(n: int) -> None:
        with httpx.Client(
            base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=5
        ) as c:
            for i in range(100_000):
                summary = f"s{n}-{i}"
                status = ("stuck", "stopped", "active")[i % 3]
                try:
                    r = c.post(
                        "/api/v1/events",
                        json={
                            "resource": f"dev{i % 7}",
                            "component": "ffmpeg",
                            "status": status,
                            "summary": summary,
                        },
                    )
                except httpx.TransportError:
                    return
                if r.status_code == 202:
                    with lock:
                        acked.append(summary)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    os.kill(server.proc.pid, signal.SIGKILL)
    for t in threads:
        t.join(timeout=30)
    server.proc.wait()
    assert len(acked) > 50
    if settings.resolved_database_url.startswith("sqlite"):
        store = Store(settings)
        with store.read() as session:
            assert session.execute(select(func.count()).select_from(IngestPending)).scalar()
        store.close()
    server = start(settings)  # restart on the same database
    try:
        store = Store(settings)
        with store.read() as session:
            stored = set(session.execute(select(Event.summary)).scalars())
            doubles = session.execute(
                select(Incident.dedup_key)
                .where(Incident.status.in_(("open", "acknowledged", "investigating")))
                .group_by(Incident.dedup_key)
                .having(func.count() > 1)
            ).all()
            # Repeat counters the killed writer still owed were recomputed from the event log
            # on restart (SQLite defers them): each equals what the events say.
            e = Event.__table__.c
            counted = session.execute(
                select(
                    Incident.human_id,
                    Incident.occurrence_count,
                    Incident.last_seen_at,
                    select(func.count())
                    .where(e.incident_id == Incident.id, e.outcome.in_(("opened", "updated")))
                    .scalar_subquery(),
                    select(func.max(e.occurred_at))
                    .where(e.incident_id == Incident.id, e.outcome.in_(("opened", "updated")))
                    .scalar_subquery(),
                )
            ).all()
            owed = session.execute(select(func.count()).select_from(IngestPending)).scalar()
        store.close()
        assert set(acked) <= stored
        assert doubles == []
        assert counted and owed == 0
        assert [(h, n, seen) for h, n, seen, _n, _seen in counted] == [
            (h, n_events, as_instant(seen_events))
            for h, _n, _seen, n_events, seen_events in counted
        ]
    finally:
        stop(server)
