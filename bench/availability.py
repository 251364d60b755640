"""Availability over 1,000 resources and 1,000,000 state changes in 30 days."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from typing import Any

from vigil.db.store import Store

END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
START = END - dt.timedelta(days=30)


def changes(n: int, resources: int = 1000, seed: int = 11) -> Iterator[tuple[Any, ...]]:
    """Yield state changes: each resource alternates ok/failing, mostly ok."""
    rnd = random.Random(seed)
    per = n // resources
    span = (END - START).total_seconds()
    for r in range(resources):
        t = START - dt.timedelta(hours=1)
        step = span / per
        failing = False
        for _ in range(per):
            t = t + dt.timedelta(seconds=step * (0.5 + rnd.random()))
            failing = not failing
            yield (
                f"dev-{r}\x1fffmpeg",
                f"dev-{r}",
                "ffmpeg",
                t,
                "stopped" if failing else "active",
                "failing" if failing else "ok",
                None,
            )


def load(store: Store, n: int) -> None:
    """Insert ``n`` state changes."""
    cols = "state_key, resource, component, at, status, health, previous_status"
    raw = store.engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        if store.backend == "sqlite":
            conn.execute("BEGIN")
            conn.executemany(
                f"INSERT INTO resource_state_changes ({cols}) VALUES (?,?,?,?,?,?,?)",
                (
                    [
                        *row[:3],
                        row[3]
                        .astimezone(dt.UTC)
                        .replace(tzinfo=None)
                        .isoformat(" ", "microseconds"),
                        *row[4:],
                    ]
                    for row in changes(n)
                ),
            )
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
        else:
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY resource_state_changes ({cols}) FROM STDIN") as copy,
            ):
                for row in changes(n):
                    copy.write_row(row)
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE resource_state_changes")
            conn.autocommit = False
    finally:
        raw.close()


def measure(store: Store) -> float:
    """Return the wall time of one availability computation in ms."""
    from vigil.analytics.availability import availability_by_resource

    t = time.perf_counter()
    with store.read() as session:
        rows = availability_by_resource(session=session, start=START, end=END)
    assert len(rows) == 1000
    return (time.perf_counter() - t) * 1000


def refresh(store: Store) -> tuple[float, int]:
    """Store the down intervals; return (ms, resources rebuilt)."""
    from vigil.analytics.downtime import refresh_downtime

    t = time.perf_counter()
    with store.write() as session:
        n = refresh_downtime(session=session)
    return (time.perf_counter() - t) * 1000, n


def add_recent(store: Store, seconds: float) -> None:
    """One more change per resource, ``seconds`` before END (what arrives between refreshes)."""
    from vigil.ingest.models import ResourceStateChange

    at = END - dt.timedelta(seconds=seconds)
    with store.write() as session:
        session.add_all(
            ResourceStateChange(
                state_key=f"dev-{r}\x1fffmpeg",
                resource=f"dev-{r}",
                component="ffmpeg",
                at=at,
                status="stuck",
                health="failing",
            )
            for r in range(1000)
        )
