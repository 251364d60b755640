"""One measurement of the write paths, run against whichever ``vigil`` is on ``sys.path``.

``python bench/ab_worker.py CASE BACKEND DATABASE_URL DATA_DIR`` prints one JSON line. It uses
only interfaces every version since the ingestion pipeline has, so ``bench.ab`` can run it
against an older checkout and this one in the same minutes.

Cases: ``batch`` (1,000-signal requests through the group-commit pipeline: repeats, with a
few resources changing state and opening or resolving incidents), ``single`` (one-signal
requests, each waiting for its commit), ``log_incident`` (one committed incident per call)
and ``raw_sqlite`` (sqlite3 doing log_incident's three writes on the same schema).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any


def _signals(round_: int, size: int, resources: int) -> list[Any]:
    from vigil.ingest.signals import Signal

    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=round_ * 10)
    out = []
    for i in range(size):
        r = (round_ * size + i) % resources
        # Every 50th resource flips each round: a state change plus an open or a resolve.
        flips = r % 50 == 0 and round_ % 2 == 1
        out.append(
            Signal(
                resource=f"cam-{r}",
                component="ffmpeg",
                status="active" if flips else "stuck",
                health="ok" if flips else "failing",
                occurred_at=base + dt.timedelta(microseconds=i),
                source="events",
                sender="bench",
                dedup_key=f"events:bench:cam-{r}/ffmpeg",
                severity="high",
            )
        )
    return out


def _pipeline(settings: Any, jobs: list[list[Any]], *, wait_each: bool) -> float:
    from vigil.db.store import Store
    from vigil.ingest.pipeline import IngestPipeline

    store = Store(settings)
    pipeline = IngestPipeline(store)
    pipeline.start()
    try:
        pipeline.submit(_signals(0, 1000, 1000)).result()  # warm: states and incidents exist
        started = time.perf_counter()
        if wait_each:
            for job in jobs:
                pipeline.submit(job).result()
        else:
            for future in [pipeline.submit(job) for job in jobs]:
                future.result()
        elapsed = time.perf_counter() - started
    finally:
        pipeline.stop()
        store.close()
    return sum(len(j) for j in jobs) / elapsed


def _log_incident(settings: Any, n: int) -> float:
    from vigil import IncidentLogger, log_incident

    IncidentLogger.configure(settings=settings)
    for _ in range(50):
        log_incident(category="WORKER_FAILURE", description="warm-up", severity="HIGH")
    started = time.perf_counter()
    for _ in range(n):
        log_incident(
            category="WORKER_FAILURE",
            description="Worker process crashed during task execution",
            severity="HIGH",
            project_id="ai_pm_manager",
            task_id="TASK_917",
        )
    return n / (time.perf_counter() - started)


_RAW_INCIDENT = (
    "INSERT INTO incidents (human_id, uuid, title, description, category, severity, status, "
    "project_id, task_id, affected_records, labels, tags, source, occurrence_count, "
    "reported_by, detected_at, last_seen_at, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, 'WORKER_FAILURE', 'high', 'open', 'ai_pm_manager', 'TASK_917', "
    "'[]', '{}', '[]', 'library', 1, 'library', ?, ?, ?, ?) RETURNING id"
)


def _raw_sqlite(path: Path, n: int) -> float:
    """The same writes per call as log_incident (id sequence, incident, timeline entry and,
    where the schema has it, the search index row), same pragmas, one commit each."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    indexed = (
        conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'incident_search'").fetchone()
        is not None
    )
    description = "Worker process crashed during task execution"
    started = time.perf_counter()
    for _ in range(n):
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        conn.execute("BEGIN IMMEDIATE")
        (seq,) = conn.execute(
            "INSERT INTO id_sequences (scope, value) VALUES ('INC_#', 1) "
            "ON CONFLICT (scope) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchone()
        (pk,) = conn.execute(
            _RAW_INCIDENT,
            (f"INC_{seq:03d}", uuid.uuid4().hex, description, description) + (now,) * 4,
        ).fetchone()
        conn.execute(
            "INSERT INTO timeline_entries (incident_id, at, actor, kind, message, changes) "
            "VALUES (?, ?, 'library', 'created', ?, ?)",
            (pk, now, f"Declared high WORKER_FAILURE incident: {description}",
             '{"status": {"from": null, "to": "open"}}'),
        )  # fmt: skip
        if indexed:
            conn.execute(
                "INSERT INTO incident_search (rowid, title, body, postmortem) VALUES (?, ?, ?, '')",
                (pk, description, description + "  "),
            )
        conn.execute("COMMIT")
    conn.close()
    return n / (time.perf_counter() - started)


def main() -> None:
    case, backend, url, data_dir = sys.argv[1:5]
    from vigil.config import Settings
    from vigil.db.migrate import upgrade_schema
    from vigil.db.store import Store

    settings = Settings(database_url=url, data_dir=Path(data_dir))
    store = Store(settings)
    upgrade_schema(store)  # each checkout builds the schema it expects
    store.close()
    if case == "batch":
        rate = _pipeline(settings, [_signals(r, 1000, 1000) for r in range(1, 41)], wait_each=False)
    elif case == "single":
        jobs = [_signals(r, 1, 1000) for r in range(1, 1501)]
        rate = _pipeline(settings, jobs, wait_each=True)
    elif case == "log_incident":
        rate = _log_incident(settings, 2000)
    elif case == "raw_sqlite":
        rate = _raw_sqlite(Path(url.removeprefix("sqlite:///")), 2000)
    else:
        raise SystemExit(f"unknown case {case!r}")
    print(json.dumps({"case": case, "backend": backend, "rate": rate}))


if __name__ == "__main__":
    main()
