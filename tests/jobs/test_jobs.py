"""Each due job runs once per period across processes; a dead runner's job is taken over."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli import app
from vigil.config import Settings
from vigil.db.store import Store
from vigil.jobs.registry import Job, all_jobs
from vigil.jobs.runner import JobRunner


def _spawn(
    store: Store, out: Path, period: float, duration: float, seconds: float, lease: float
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.jobs.run_jobs",
            store.url,
            str(out),
            str(period),
            str(duration),
            str(seconds),
        ],
        env={**os.environ, "LEASE": str(lease)},
    )


def _runs(out: Path) -> list[tuple[str, int, float]]:
    if not out.exists():
        return []
    rows = [line.split() for line in out.read_text().splitlines()]
    return [(kind, int(pid), float(t)) for kind, pid, t in rows]


def test_every_domain_registers_its_jobs() -> None:
    jobs = all_jobs()
    assert [j.name for j in jobs] == [
        "availability.refresh",
        "heartbeats.check",
        "notifications.deliver",
        "notifications.reminders",
        "oncall.calendars",
        "oncall.escalate",
        "oncall.test_pages",
        "retention.prune",
    ]
    assert [j.name for j in jobs if j.wake_on_commit] == [
        "notifications.deliver",
        "oncall.escalate",
    ]


def test_two_runners_run_each_period_once_and_failures_are_recorded(store: Store) -> None:
    calls: list[float] = []

    def tick(_store: Store) -> str:
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("second run fails")
        return "ticked"

    job = Job("test.tick", lambda _s: 0.4, tick, "")
    runners = [JobRunner(store, [job], tick=0.02) for _ in range(2)]
    runners[1].owner += "-b"  # two processes as far as the leases know
    for r in runners:
        r.start()
    time.sleep(2.1)
    for r in runners:
        r.stop()
    assert 4 <= len(calls) <= 6  # 2.1 s / 0.4 s, never one per runner
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert min(gaps) > 0.3
    result = CliRunner().invoke(app, ["--db", store.url, "jobs", "list"])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header.split() == [
        "Job", "Every", "Last", "run", "Took", "Result", "Runner", "Runs", "Failures", "Summary"
    ]  # fmt: skip
    tick = next(re.split(r"\s{2,}", line) for line in lines if line.startswith("test.tick"))
    assert tick[1] == "0.4s" and tick[7] == "1", tick  # every 0.4 s; one failure


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_processes_one_killed_mid_run(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "runs.log"
    lease = 2.0
    first = _spawn(store, out, period=30, duration=30, seconds=60, lease=lease)
    try:
        deadline = time.monotonic() + 30
        while not _runs(out) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [k for k, _p, _t in _runs(out)] == ["start"]
        first.send_signal(signal.SIGKILL)  # dies holding the job
        first.wait()
        killed_at = time.time()
        # Two fresh processes on this host: they see the holder is gone and one of them (only
        # one) takes the job over at once, without waiting for the lease to run out.
        others = [
            _spawn(store, out, period=30, duration=0.2, seconds=6, lease=lease) for _ in range(2)
        ]
        for p in others:
            p.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    runs = _runs(out)
    starts = [(pid, t) for kind, pid, t in runs if kind == "start"]
    ends = [(pid, t) for kind, pid, t in runs if kind == "end"]
    assert len(starts) == 2 and len(ends) == 1  # the killed run and one takeover
    takeover_pid, takeover_at = starts[1]
    assert takeover_pid in {p.pid for p in others}
    assert takeover_at >= killed_at - 0.1  # never while the first one still ran


def test_serve_can_leave_the_jobs_to_workers(settings: Settings) -> None:
    import threading

    from fastapi.testclient import TestClient

    from vigil.app import create_app

    def job_threads() -> int:
        return sum(1 for t in threading.enumerate() if t.name == "vigil-jobs")

    before = job_threads()
    with TestClient(create_app(settings.model_copy(update={"serve_jobs": False}))):
        assert job_threads() == before
    with TestClient(create_app(settings)):
        assert job_threads() == before + 2  # the timed jobs and the ones commits wake
