"""A real ``vigil serve`` on loopback: the quick start a new user follows."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server import running
from vigil.config import Settings
from vigil.db.runfiles import running_processes


def test_quick_start_flow_over_http(settings: Settings) -> None:
    with running(settings) as server:
        assert server.token, "the first start must print an admin token"
        h = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.base, headers=h, timeout=10) as client:
            r = client.post(
                "/api/v1/incidents", json={"title": "Checkout 500s", "severity": "critical"}
            )
            assert r.status_code == 201
            ref = r.json()["id"]
            assert (
                client.post(
                    f"/api/v1/incidents/{ref}/acknowledge", json={"note": "paging db"}
                ).status_code
                == 200
            )
            assert (
                client.post(
                    f"/api/v1/incidents/{ref}/resolve", json={"resolution": "failover"}
                ).json()["status"]
                == "resolved"
            )
            timeline = client.get(f"/api/v1/incidents/{ref}/timeline").json()
            assert len(timeline) == 3
            assert all(e["actor"].startswith("admin-") for e in timeline)
            assert client.get("/docs").status_code == 200
            assert httpx.get(f"{server.base}/api/v1/incidents", timeout=5).status_code == 401


def test_upgrade_sees_the_running_server(settings: Settings) -> None:
    with running(settings) as server:
        found = running_processes(settings, str(settings.database_url))
        assert [p.pid for p in found] == [server.proc.pid]
    assert running_processes(settings, str(settings.database_url)) == []
    assert not any(Path(settings.data_dir, "run").glob("*.json"))
