"""Notification delivery: latency, throughput, storms, and what a channel costs ingestion.

    python -m bench notify

All traffic goes to a webhook receiver this benchmark starts on 127.0.0.1. Cases:

* latency: `vigil serve` (SQLite) with one default webhook channel; 200 failing events, one at
  a time; time from sending the event to the receiver getting the notification (p50, p99);
* throughput: 5,000 notifications owed to one channel without rate limit or bundling,
  delivered in this process; notifications/s;
* storm: 1,000 incidents opened within 10 s on one channel; with bundling (5) and Slack's
  rate (60/min): messages and time until all are delivered; without bundling at 6,000/min;
* ingestion with one default channel vs none: batch throughput over HTTP (wrk), alternating
  in the same minutes, ratio; and the server's CPU time for the same 39 batches with and
  without a channel (steadier on a shared machine than throughput).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from tests.notify.receivers import webhook_receiver
from tests.server import free_port

from bench.databases import database
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.incidents import service as incidents
from vigil.incidents.schemas import IncidentCreate
from vigil.notify import service
from vigil.notify.scheduled import deliver_notifications


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
        "VIGIL_SECRET_KEY": settings.secret_key.get_secret_value() if settings.secret_key else "",
        "VIGIL_SERVE_JOBS": str(settings.serve_jobs).lower(),
    }


def _serve(settings: Settings, port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "serve", "--port", str(port), "--log-level", "warning"],
        env=_env(settings),
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
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, token
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("vigil serve did not start")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _keyed(settings: Settings, **extra: Any) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key()), **extra})


def _channel(store: Store, url: str, **kw: Any) -> None:
    with store.write() as session:
        service.add_channel(
            session=session,
            settings=store.settings,
            name="hook",
            url=url,
            kind="webhook",
            default_route=True,
            **kw,
        )


def bench_latency(n: int = 200) -> None:
    with database("sqlite") as base, webhook_receiver() as hook:
        settings = _keyed(base)
        store = Store(settings)
        _channel(store, hook.url, bundle_after=0)
        store.close()
        arrived: dict[str, float] = {}
        lock = threading.Lock()
        port = free_port()
        proc, token = _serve(settings, port)
        try:
            h = {"Authorization": f"Bearer {token}"}
            waits = []
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=h, timeout=10) as c:
                for i in range(n):
                    seen = len(hook.received)
                    t = time.perf_counter()
                    r = c.post("/api/v1/events", json={"resource": f"lat-{i}", "status": "down"})
                    assert r.status_code == 202, r.text
                    while len(hook.received) == seen and time.perf_counter() - t < 5:
                        time.sleep(0.0005)
                    with lock:
                        arrived[str(i)] = time.perf_counter() - t
                    waits.append((time.perf_counter() - t) * 1000)
            waits.sort()
            p50 = statistics.median(waits)
            p99 = waits[int(len(waits) * 0.99) - 1]
            print(
                f"[sqlite] incident opened -> first notification at a local webhook: "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {n} (targets 200 ms, 1 s)"
            )
        finally:
            _stop(proc)


def _declare_many(store: Store, n: int, prefix: str) -> None:
    with store.write() as session:
        for i in range(n):
            incidents.create_incident(
                session=session,
                settings=store.settings,
                data=IncidentCreate(
                    title=f"{prefix} {i}", severity="high", category="SYSTEM_ERROR"
                ),
                actor="bench",
            )


def bench_throughput(n: int = 5000) -> None:
    with database("sqlite") as base, webhook_receiver() as hook:
        store = Store(_keyed(base))
        _channel(store, hook.url, bundle_after=0, rate_per_minute=0)
        _declare_many(store, n, "Throughput")
        t = time.perf_counter()
        while len(hook.received) < n and time.perf_counter() - t < 120:
            deliver_notifications(store)
        took = time.perf_counter() - t
        store.close()
        keys = hook.keys()
        print(
            f"[sqlite] delivery to a local webhook, no rate limit: {n / took:,.0f} notifications/s "
            f"({len(keys)} received, {len(set(keys))} distinct; target 500/s)"
        )


def _storm(bundle_after: int, rate: int, label: str, n: int = 1000) -> None:
    with database("sqlite") as base, webhook_receiver() as hook:
        store = Store(_keyed(base))
        _channel(store, hook.url, bundle_after=bundle_after, rate_per_minute=rate)
        stop = threading.Event()

        def deliver() -> None:
            while not stop.is_set():
                deliver_notifications(store)
                time.sleep(0.2)

        worker = threading.Thread(target=deliver)
        t = time.perf_counter()
        worker.start()
        for chunk in range(10):  # 1,000 incidents over 10 s
            _declare_many(store, n // 10, f"Storm {chunk}")
            time.sleep(max(0.0, t + chunk + 1 - time.perf_counter()))

        def covered() -> int:
            got = 0
            for r in hook.received:
                body = r.json()
                got += len(body["items"]) if body.get("event") == "digest" else 1
            return got

        while covered() < n and time.perf_counter() - t < 120:
            time.sleep(0.1)
        took = time.perf_counter() - t
        stop.set()
        worker.join()
        store.close()
        print(
            f"[sqlite] storm, {n} incidents in 10 s, {label}: {covered()} notified in "
            f"{len(hook.received)} messages, all delivered {took:.1f} s after the first"
        )


def _ingest_rate(with_channel: bool, worker: bool = False) -> tuple[float, int]:
    """Batch events/s over HTTP, and messages delivered; ``worker``: jobs (delivery) in a
    `vigil worker` process."""
    from bench.ingest import _prepare, _wrk_rate

    with database("sqlite") as base, webhook_receiver() as hook:
        settings = _keyed(base, serve_jobs=not worker)
        if with_channel:
            store = Store(settings)
            _channel(store, hook.url)
            store.close()
        port = free_port()
        proc, _token = _serve(settings, port)
        helper = None
        if worker:
            env = {**_env(settings), "VIGIL_SERVE_JOBS": "true"}
            helper = subprocess.Popen(
                [sys.executable, "-m", "vigil", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        try:
            key = _prepare(settings, port)
            rate = _wrk_rate("batch.lua", port, 4, 8, key) * 1000
            time.sleep(2.5 if with_channel else 0)  # what is owed gets delivered
            return rate, len(hook.received)
        finally:
            _stop(proc)
            if helper is not None:
                _stop(helper)


def bench_ingest_overhead(rounds: int = 3) -> None:
    plain, channel = [], []
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        for with_channel in order:
            (channel if with_channel else plain).append(_ingest_rate(with_channel)[0])
    a, b = statistics.median(plain), statistics.median(channel)
    print(
        f"[sqlite] batch ingestion over HTTP: no channel {a:,.0f} events/s, one default channel "
        f"{b:,.0f} events/s, ratio {b / a:.3f} (target >= 0.90; runs {plain} / {channel})"
    )


def run() -> None:
    bench_latency()
    bench_throughput()
    _storm(5, 60, "bundling after 5, 60/min")
    _storm(0, 6000, "no bundling, 6,000/min")
    bench_ingest_overhead()
    bench_ingest_cpu()
    bench_ingest_with_worker()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _batches(n: int) -> list[list[dict[str, str]]]:
    import random

    rng = random.Random(7)  # the same mix as bench/wrk/batch.lua, the same every run
    out = []
    for _ in range(n):
        batch = []
        for _ in range(1000):
            if rng.random() < 0.8:
                batch.append(
                    {
                        "resource": f"r{rng.randint(0, 999)}",
                        "component": "ffmpeg",
                        "status": "stuck",
                    }
                )
            else:
                status = "stopped" if rng.random() < 0.5 else "active"
                batch.append(
                    {
                        "resource": f"t{rng.randint(0, 199)}",
                        "component": "monitor",
                        "status": status,
                    }
                )
        out.append(batch)
    return out


def ingest_cpu(
    batches: list[list[dict[str, str]]], setup: Callable[[Store, str], None] | None = None
) -> tuple[float, int]:
    """Server CPU seconds to ingest ``batches`` (and deliver what they owe) after ``setup``
    (given a store and the receiver's URL) prepared the database; messages received."""
    with database("sqlite") as base, webhook_receiver() as hook:
        settings = _keyed(base)
        if setup is not None:
            store = Store(settings)
            setup(store, hook.url)
            store.close()
        port = free_port()
        proc, token = _serve(settings, port)
        try:
            h = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=h, timeout=60) as c:
                c.post("/api/v1/events", json=batches[0])  # warm up
                before = _cpu_seconds(proc.pid)
                for batch in batches[1:]:
                    assert c.post("/api/v1/events", json=batch).status_code == 202
                time.sleep(2.0)  # let delivery finish what the batches owe
                return _cpu_seconds(proc.pid) - before, len(hook.received)
        finally:
            _stop(proc)


def bench_ingest_cpu(rounds: int = 3, n: int = 60) -> None:
    """The same batches with and without a channel: server CPU per event, alternating."""
    batches = _batches(n)
    plain, channel, sent = [], [], 0
    for r in range(rounds):
        for with_channel in (False, True) if r % 2 == 0 else (True, False):
            cpu, messages = ingest_cpu(batches, _channel if with_channel else None)
            (channel if with_channel else plain).append(cpu)
            sent = max(sent, messages)
    a, b = statistics.median(plain), statistics.median(channel)
    events = (n - 1) * 1000
    print(
        f"[sqlite] server CPU per 1,000 ingested events (same {events:,} events, batches of "
        f"1,000): no channel {a / events * 1e6:.1f} ms, one default channel "
        f"{b / events * 1e6:.1f} ms (incl. delivering {sent} messages); ingestion capacity "
        f"ratio {a / b:.3f}"
    )


def bench_ingest_with_worker(rounds: int = 3) -> None:
    """Ingestion with no channel vs a default channel delivered by a `vigil worker`."""
    plain, channel, messages = [], [], 0
    for r in range(rounds):
        for with_channel in (False, True) if r % 2 == 0 else (True, False):
            rate, sent = _ingest_rate(with_channel, worker=with_channel)
            (channel if with_channel else plain).append(rate)
            messages = max(messages, sent)
    a, b = statistics.median(plain), statistics.median(channel)
    print(
        f"[sqlite] batch ingestion over HTTP: no channel {a:,.0f} events/s, one default channel "
        f"delivered by `vigil worker` (VIGIL_SERVE_JOBS=false) {b:,.0f} events/s, ratio "
        f"{b / a:.3f}, up to {messages} messages delivered (runs {plain} / {channel})"
    )
