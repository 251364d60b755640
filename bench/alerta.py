"""Side-by-side with Alerta on PostgreSQL: the same de-duplication mix, one run, as a ratio.

Needs Alerta in its own venv: ``python -m venv /tmp/alerta-venv &&
/tmp/alerta-venv/bin/pip install alerta-server psycopg2-binary gunicorn`` (or set ALERTA_VENV).
Usage: ``python -m bench.alerta``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.databases import PG_ADMIN, database
from bench.ingest import _prepare, _server, _wrk

VENV = Path(os.environ.get("ALERTA_VENV", "/tmp/alerta-venv"))


def _alerta(port: int) -> tuple[subprocess.Popen[bytes], str]:
    import psycopg

    name = f"alerta_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    conf = Path(tempfile.mkdtemp()) / "alertad.conf"
    base = PG_ADMIN.rsplit("/", 1)[0]
    conf.write_text(f"DATABASE_URL = '{base}/{name}'\nAUTH_REQUIRED = False\nPLUGINS = []\n")
    env = {**os.environ, "ALERTA_SVR_CONF_FILE": str(conf)}
    proc = subprocess.Popen(
        [
            str(VENV / "bin" / "gunicorn"),
            "alerta:create_app()",
            "-w",
            "1",
            "--threads",
            "8",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/management/healthcheck", timeout=1).status_code
                == 200
            ):
                break
        except httpx.TransportError:
            time.sleep(0.1)
    for i in range(1000):  # the same starting point: 1,000 resources failing
        httpx.post(
            f"http://127.0.0.1:{port}/alert",
            json={
                "resource": f"r{i}",
                "event": "ffmpeg",
                "environment": "Production",
                "severity": "major",
                "service": ["cams"],
            },
            timeout=10,
        )
    return proc, name


def main() -> None:
    import psycopg

    alerta, name = _alerta(18901)
    try:
        a_rate, a_p99 = _wrk("alerta.lua", 18901, 32, 10, "")
    finally:
        alerta.terminate()
        alerta.wait(timeout=30)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    with database("postgresql") as settings:
        server = _server(settings, 18902)
        try:
            key = _prepare(settings, 18902)
            v_rate, v_p99 = _wrk("events.lua", 18902, 32, 10, key)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"Alerta 9 (gunicorn, 1 worker x 8 threads, PostgreSQL): {a_rate:,.0f} events/s, p99 {a_p99:.1f} ms"
    )
    print(f"Vigil (1 process, PostgreSQL): {v_rate:,.0f} events/s, p99 {v_p99:.1f} ms")
    print(f"ratio Vigil/Alerta: {v_rate / a_rate:.2f}x throughput")


if __name__ == "__main__":
    sys.exit(main())
