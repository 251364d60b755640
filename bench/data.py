"""Bulk-load synthetic incidents straight into a migrated database (bypassing the service)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

from vigil.config import DEFAULT_CATEGORIES
from vigil.db.store import Store

SEVERITIES = ("critical", "high", "medium", "low")
# A store a team actually has: nearly everything old is resolved or closed, a few are open.
STATUSES = ("resolved",) * 60 + ("closed",) * 37 + ("open",) * 2 + ("acknowledged",)
COLUMNS = (
    "human_id",
    "uuid",
    "title",
    "description",
    "category",
    "severity",
    "status",
    "project_id",
    "service",
    "resource",
    "component",
    "host",
    "affected_records",
    "labels",
    "tags",
    "source",
    "occurrence_count",
    "detected_at",
    "last_seen_at",
    "resolved_at",
    "created_at",
    "updated_at",
)
END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SPAN_DAYS = 365


def rows(n: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """Yield ``n`` incidents spread over the year before END, oldest first."""
    rnd = random.Random(seed)
    start = END - dt.timedelta(days=SPAN_DAYS)
    step = SPAN_DAYS * 86400 / n
    for i in range(n):
        detected = start + dt.timedelta(seconds=i * step + rnd.random() * step)
        status = rnd.choice(STATUSES)
        resolved = (
            detected + dt.timedelta(minutes=rnd.randint(1, 600))
            if status in ("resolved", "closed")
            else None
        )
        yield (
            f"INC_{i + 1:07d}",
            uuid.UUID(int=rnd.getrandbits(128)),
            f"synthetic incident {i}",
            "",
            rnd.choice(DEFAULT_CATEGORIES),
            rnd.choice(SEVERITIES),
            status,
            "ai_pm_manager" if rnd.random() < 0.5 else f"project_{rnd.randint(1, 20)}",
            f"svc-{i % 20}",
            f"device-{rnd.randint(1, 1000)}",
            rnd.choice(("ffmpeg", "monitor")),
            f"host-{rnd.randint(1, 10)}",
            "[]",
            "{}",
            "[]",
            "bench",
            1,
            detected,
            detected,
            resolved,
            detected,
            detected,
        )


def load(store: Store, n: int) -> None:
    """Insert ``n`` synthetic incidents into ``store`` and refresh planner statistics."""
    if store.backend == "sqlite":
        _load_sqlite(store, n)
    else:
        _load_pg(store, n)


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, uuid.UUID):
        return v.hex
    return v


def _load_sqlite(store: Store, n: int) -> None:
    raw = store.engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        conn.execute("BEGIN")
        sql = (
            f"INSERT INTO incidents ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        conn.executemany(sql, ([_sqlite_value(v) for v in r] for r in rows(n)))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        raw.close()


def _load_pg(store: Store, n: int) -> None:
    raw = store.engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        sql = f"COPY incidents ({', '.join(COLUMNS)}) FROM STDIN"
        with conn.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[attr-defined]
            for r in rows(n):
                copy.write_row(r)
        conn.commit()
        conn.autocommit = True  # type: ignore[attr-defined]
        conn.execute("VACUUM ANALYZE incidents")  # type: ignore[attr-defined]
        conn.autocommit = False  # type: ignore[attr-defined]
    finally:
        raw.close()
