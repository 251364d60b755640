"""Vigil under Prometheus: /metrics passes promtool, the shipped alerting rules pass
`promtool check rules` and `promtool test rules`, and a real Prometheus scrapes a real server."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.conftest import IN_CI
from tests.server import free_port, running
from vigil.app import create_app
from vigil.auth import integrations
from vigil.cli import app
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.monitoring.cli import rules_text
from vigil.notify import service as notify

HERE = Path(__file__).parent


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (Debian's prometheus package)")
        pytest.skip(f"{name} is not installed (apt-get install prometheus)")
    return found


def _metrics_with_every_family(store: Store) -> str:
    """/metrics after an event, a refused event and a job run, so every family has samples."""
    settings = store.settings.model_copy(
        update={"ingest_refusal_delay_seconds": 0.0, "secret_key": SecretStr(new_key())}
    )
    with store.write() as session:
        _item, key = integrations.create_integration(session=session, name="mon", kind="events")
        notify.add_channel(
            session=session, settings=settings, name="ops", url=f"json://127.0.0.1:{free_port()}/"
        )
    h = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings=settings)) as client:
        ok = client.post("/api/v1/events", json={"resource": "db", "status": "stopped"}, headers=h)
        assert ok.status_code == 202, ok.text
        assert client.post("/api/v1/events", json={"resource": ""}, headers=h).status_code == 422
        deadline = time.monotonic() + 10
        text = client.get("/metrics").text
        wanted = ("vigil_job_last_run_timestamp_seconds{", "vigil_feed_follower_lag_rows{")
        while not all(w in text for w in wanted) and time.monotonic() < deadline:
            time.sleep(0.1)
            text = client.get("/metrics").text
    return text


def test_metrics_pass_promtool_and_carry_what_the_rules_read(store: Store) -> None:
    promtool = _tool("promtool")
    text = _metrics_with_every_family(store)
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    exposed = set(re.findall(r"^(vigil_[a-z_]+)", text, re.M))
    wanted = set(re.findall(r"\b(vigil_[a-z_]+)", rules_text()))
    if store.engine.dialect.name == "postgresql":  # its disk is the database server's to watch
        wanted -= {"vigil_database_disk_free_bytes", "vigil_database_disk_size_bytes"}
    assert wanted and wanted <= exposed, wanted - exposed
    assert 'vigil_ingest_rejected_requests_total{receiver="events"} 1.0' in text
    assert re.search(r"^vigil_database_size_bytes \d", text, re.M)


def test_shipped_rules_pass_promtool_check_and_unit_tests(tmp_path: Path) -> None:
    promtool = _tool("promtool")
    printed = CliRunner().invoke(app, ["prometheus", "rules"])
    assert printed.exit_code == 0 and printed.stdout == rules_text()
    (tmp_path / "prometheus-rules.yml").write_text(printed.stdout)
    shutil.copy(HERE / "rules_test.yml", tmp_path)
    for args in (["check", "rules", "prometheus-rules.yml"], ["test", "rules", "rules_test.yml"]):
        done = subprocess.run(
            [promtool, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_real_prometheus_scrapes_vigil_and_loads_its_rules(
    settings: Settings, tmp_path: Path
) -> None:
    prometheus = _tool("prometheus")
    port = free_port()
    (tmp_path / "rules.yml").write_text(rules_text())
    with running(settings) as server:
        httpx.post(
            f"{server.base}/api/v1/incidents",
            json={"title": "Disk full", "severity": "high"},
            headers={"Authorization": f"Bearer {server.token}"},
        ).raise_for_status()
        target = server.base.removeprefix("http://")
        (tmp_path / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "rule_files: [rules.yml]\n"
            f"scrape_configs: [{{job_name: vigil, static_configs: [{{targets: ['{target}']}}]}}]\n"
        )
        proc = subprocess.Popen(
            [
                prometheus, "--config.file=prometheus.yml", f"--storage.tsdb.path={tmp_path}/tsdb",
                f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
            ],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        api = f"http://127.0.0.1:{port}/api/v1"
        try:
            deadline = time.monotonic() + 30
            found: list[dict[str, object]] = []
            while time.monotonic() < deadline and not found:
                time.sleep(0.5)
                try:
                    query = {"query": 'vigil_active_incidents{severity="high"}'}
                    found = httpx.get(f"{api}/query", params=query, timeout=2).json()["data"][
                        "result"
                    ]
                except (httpx.TransportError, KeyError):
                    continue
            assert found, "Prometheus never stored a sample scraped from Vigil"
            assert found[0]["value"][1] == "1"  # type: ignore[index]
            (target_state,) = httpx.get(f"{api}/targets", timeout=2).json()["data"]["activeTargets"]
            assert target_state["health"] == "up", target_state
            (group,) = httpx.get(f"{api}/rules", timeout=2).json()["data"]["groups"]
            assert group["name"] == "vigil" and len(group["rules"]) == 7
            assert all(rule["health"] == "ok" for rule in group["rules"]), group["rules"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
