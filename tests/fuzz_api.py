"""Fuzz the whole OpenAPI of a real `vigil serve` with schemathesis; exit non-zero on any failure.

``python -m tests.fuzz_api --backend sqlite --max-time 120`` (CI runs it on both backends).
The server runs on loopback against a fresh database that is removed afterwards; the run is
deterministic (fixed seed) and bounded in time and examples.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from tests.conftest import PG_ADMIN_URL
from tests.server import running
from vigil.config import Settings

#: Checks that judge the API rather than the fuzzer's guesses: no 5xx, responses that match
#: the documented schema and status codes, content types and headers as declared.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
    ]
)


def _fuzz(base: str, token: str, max_time: int, max_examples: int, report: Path) -> int:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(max_examples),
        "--max-time",
        str(max_time),
        "--seed",
        "20261202",
        "--generation-deterministic",
        # One worker: CPython 3.11 raises "AST constructor recursion depth mismatch" when
        # hypothesis describes strategies (ast.parse) in two threads at once.
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--report",
        "junit",
        "--report-dir",
        str(report),
    ]
    return subprocess.run(command, check=False).returncode


def main() -> int:
    """Start a server on the chosen backend, fuzz it, return schemathesis' exit code."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--max-time", type=int, default=120)
    parser.add_argument("--max-examples", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-fuzz-") as tmp:
        data = Path(tmp)
        if args.backend == "sqlite":
            return _run(Settings(database_url=f"sqlite:///{data}/vigil.db", data_dir=data), args)
        import psycopg

        name = f"vigil_fuzz_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            return _run(Settings(database_url=f"{base}/{name}", data_dir=data), args)
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _seed(base: str, token: str) -> None:
    """Objects the fuzzer's path parameters name (tests/schemathesis.toml), so requests reach
    past "not found": three incidents, a postmortem with an action item, a heartbeat, an
    integration, a maintenance window, a person, a schedule with a layer, an override and a
    swap request, an escalation policy."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
        for title in ("Checkout down", "Queue stuck", "Disk full"):
            c.post(
                "/api/v1/incidents", json={"title": title, "severity": "high"}
            ).raise_for_status()
        c.post("/api/v1/incidents/INC_001/postmortem").raise_for_status()
        c.post(
            "/api/v1/incidents/INC_001/actions",
            json={"title": "Add a check", "priority": "high"},
        ).raise_for_status()
        c.post("/api/v1/heartbeats", json={"name": "hb", "interval_seconds": 60}).raise_for_status()
        c.post("/api/v1/integrations", json={"name": "int", "kind": "events"}).raise_for_status()
        c.post(
            "/api/v1/maintenance",
            json={
                "name": "upgrade",
                "starts_at": "2030-01-01T00:00:00Z",
                "ends_at": "2030-01-01T01:00:00Z",
                "resource": "db-*",
            },
        ).raise_for_status()
        c.post("/api/v1/people", json={"handle": "ann", "name": "Ann"}).raise_for_status()
        c.post("/api/v1/schedules", json={"name": "primary"}).raise_for_status()
        c.post(
            "/api/v1/schedules/primary/layers", json={"name": "main", "participants": ["ann"]}
        ).raise_for_status()
        c.post(
            "/api/v1/schedules/primary/overrides",
            json={"kind": "add", "person": "ann", "start": "2030-01-01T00:00:00Z",
                  "end": "2030-01-02T00:00:00Z"},
        ).raise_for_status()  # fmt: skip
        c.post(
            "/api/v1/schedules/primary/swaps",
            json={
                "requester": "ann",
                "start": "2030-01-03T00:00:00Z",
                "end": "2030-01-04T00:00:00Z",
            },
        ).raise_for_status()
        c.post(
            "/api/v1/escalation-policies",
            json={"name": "default", "steps": [{"targets": ["schedule:primary"]}]},
        ).raise_for_status()


def _run(settings: Settings, args: argparse.Namespace) -> int:
    # Refusals are answered at once here: the fuzzer sends mostly bad requests on purpose.
    with running(settings, env_extra={"VIGIL_INGEST_REFUSAL_DELAY_SECONDS": "0"}) as server:
        _seed(server.base, server.token)
        return _fuzz(
            server.base, server.token, args.max_time, args.max_examples, settings.data_dir / "rep"
        )


if __name__ == "__main__":
    sys.exit(main())
