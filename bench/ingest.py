"""Ingestion throughput and latency over HTTP, with wrk as the load generator on loopback."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vigil.auth import integrations
from vigil.config import Settings
from vigil.db.store import Store

HERE = Path(__file__).parent


def _server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()  # never leave a benchmark server behind
    proc.wait()
    raise RuntimeError("server did not start")


def _wrk(script: str, port: int, connections: int, seconds: int, key: str) -> tuple[float, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(HERE / "wrk" / script),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, "VIGIL_BENCH_KEY": key},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    failed = int(errors.group(1)) if errors else 0
    if total and failed > 0.01 * int(total.group(1)):
        raise RuntimeError(f"{failed} of {total.group(1)} requests failed during {script}: {out}")
    if failed:
        print(
            f"note: {failed} of {total.group(1) if total else '?'} requests failed during {script}"
        )
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rps, float(p99.group(1)) * factor


def _prepare(settings: Settings, port: int) -> str:
    store = Store(settings)
    with store.write() as session:
        key = integrations.create_integration(session=session, name=f"bench-{port}")[1]
    store.close()
    body = [{"resource": f"r{i}", "component": "ffmpeg", "status": "stuck"} for i in range(1000)]
    r = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/events",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert r.status_code == 202, r.text
    return key


def _latency_to_visible(port: int, key: str, token_key: str, n: int = 300) -> float:
    """Send a failing status, then read the incident through the API; p99 of the whole round trip."""
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
        for i in range(n):
            t = time.perf_counter()
            r = c.post(
                "/api/v1/events",
                json={"resource": f"lat{i}", "status": "stopped"},
                headers={"Authorization": f"Bearer {key}"},
            )
            ref = r.json()["incidents"][0]
            got = c.get(
                f"/api/v1/incidents/{ref}", headers={"Authorization": f"Bearer {token_key}"}
            )
            assert got.status_code == 200 and got.json()["status"] == "open"
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[int(len(times) * 0.99) - 1]


def run(settings: Settings, backend: str, processes: int = 1) -> None:
    """Measure single-event and batch throughput (and latency to visible with one process)."""
    from vigil.auth.service import create_token

    ports = [18811 + i for i in range(processes)]
    servers = [_server(settings, p) for p in ports]
    try:
        keys = [_prepare(settings, p) for p in ports]
        label = f"{backend}, {processes} server process{'es' if processes > 1 else ''}"
        for script, conns, unit in (("events.lua", 32, 1), ("batch.lua", 4, 1000)):
            rates, p99s = [], []
            for _ in range(3):
                procs = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-c",
                            f"import bench.ingest as b; print(*b._wrk({script!r}, {p}, {conns // processes}, 10, {k!r}))",
                        ],
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    for p, k in zip(ports, keys, strict=True)
                ]
                results = [tuple(map(float, proc.communicate()[0].split())) for proc in procs]
                rates.append(sum(r[0] for r in results) * unit)
                p99s.append(max(r[1] for r in results))
            name = "single-event requests" if unit == 1 else "batch requests (1,000 events each)"
            print(
                f"[{label}] {name}: median {statistics.median(rates):,.0f} events/s "
                f"(runs {', '.join(f'{r:,.0f}' for r in rates)}), p99 {statistics.median(p99s):.1f} ms"
            )
        if processes == 1:
            store = Store(settings)
            with store.write() as session:
                _t, token = create_token(session=session, name="bench-reader", scopes=["read"])
            store.close()
            p99 = _latency_to_visible(ports[0], keys[0], token)
            print(
                f"[{label}] failing status -> incident visible via API: p99 {p99:.1f} ms (target < 100 ms)"
            )
    finally:
        for s in servers:
            s.terminate()
            s.wait(timeout=30)


def _wrk_rate(script: str, port: int, connections: int, seconds: int, key: str) -> float:
    """Requests per second of one wrk run, errors included (for the misbehaving sender)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "wrk" / script),
         f"http://127.0.0.1:{port}"],
        env={**os.environ, "VIGIL_BENCH_KEY": key}, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def _beside(port: int, key: str, seconds: int, other: str) -> tuple[float, float]:
    """Good senders' rate while two other connections run ``other``; and the others' rate."""
    rate = "_wrk_rate" if other == "bad.lua" else "_wrk"
    side = subprocess.Popen(
        [sys.executable, "-c",
         f"import bench.ingest as b; r = b.{rate}({other!r}, {port}, 2, {seconds}, {key!r}); "
         "print(r if isinstance(r, float) else r[0])"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    good = _wrk("events.lua", port, 8, seconds, key)[0]
    return good, float(side.communicate()[0])


def run_bad_senders(settings: Settings, backend: str, rounds: int = 3, seconds: int = 8) -> None:
    """8 good senders alone, beside 2 more good senders, and beside 2 bad ones, alternated."""
    port = 18831
    server = _server(settings, port)
    try:
        key = _prepare(settings, port)
        alone, with_good, with_bad, bad_rates = [], [], [], []
        for _ in range(rounds):
            alone.append(_wrk("events.lua", port, 8, seconds, key)[0])
            with_good.append(_beside(port, key, seconds, "events.lua")[0])
            good, bad = _beside(port, key, seconds, "bad.lua")
            with_bad.append(good)
            bad_rates.append(bad)
        vs_alone = statistics.median(b / a for a, b in zip(alone, with_bad, strict=True))
        vs_good = statistics.median(b / g for g, b in zip(with_good, with_bad, strict=True))
        print(
            f"[{backend}] 8 good senders: alone {statistics.median(alone):,.0f} req/s, "
            f"beside 2 good senders {statistics.median(with_good):,.0f}, beside 2 bad senders "
            f"{statistics.median(with_bad):,.0f} (the bad ones sent "
            f"{statistics.median(bad_rates):,.0f} req/s); ratio beside bad / alone "
            f"{vs_alone:.2f}, beside bad / beside good {vs_good:.2f} (target >= 0.80)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
