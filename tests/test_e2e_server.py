"""A real ``vigil serve`` on loopback: the quick start a new user follows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vigil.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    port = _free_port()
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    token = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not token:
        line = proc.stdout.readline()
        if line.strip().startswith("vgl_"):
            token = line.strip()
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base, token, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)


def test_quick_start_flow_over_http(
    server: tuple[str, str, subprocess.Popen[str]], settings: Settings
) -> None:
    base, token, _proc = server
    assert token, "the first start must print an admin token"
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=h, timeout=10) as client:
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
            client.post(f"/api/v1/incidents/{ref}/resolve", json={"resolution": "failover"}).json()[
                "status"
            ]
            == "resolved"
        )
        timeline = client.get(f"/api/v1/incidents/{ref}/timeline").json()
        assert len(timeline) == 3 and all(e["actor"].startswith("admin-") for e in timeline)
        assert client.get("/docs").status_code == 200
        assert httpx.get(f"{base}/api/v1/incidents", timeout=5).status_code == 401


def test_upgrade_refuses_while_server_runs(
    server: tuple[str, str, subprocess.Popen[str]], settings: Settings
) -> None:
    from vigil.db.runfiles import running_processes

    _base, _token, proc = server
    found = running_processes(settings, str(settings.database_url))
    assert [p.pid for p in found] == [proc.pid]
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    assert running_processes(settings, str(settings.database_url)) == []
    assert not any(Path(settings.data_dir, "run").glob("*.json"))
