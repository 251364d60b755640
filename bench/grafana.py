"""The Grafana dashboard's SQL panels over 1,000,000 incidents and a year of state history.

    python -m bench grafana
    BENCH_GRAFANA_ROWS=100000 python -m bench grafana

PostgreSQL only (the dashboard reads Vigil's PostgreSQL). The incidents span the year up to
now; 1,000 resources fail about twice a day each for that year (730,000 stored down
intervals). Each panel's query, exactly as the dashboard ships it, runs 15 times after 3
warm-ups: median and p95 (target: every panel under 100 ms).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time

from sqlalchemy import text

from bench import data
from bench.databases import database
from vigil.db.store import Store
from vigil.monitoring.grafana import SQL_PANELS

ROWS = int(os.environ.get("BENCH_GRAFANA_ROWS", "1000000"))
RESOURCES = 1000


def _load_history(store: Store, now: dt.datetime) -> int:
    """A year of down intervals for RESOURCES resources, about two failures a day each."""
    rnd = random.Random(11)
    start = (now - dt.timedelta(days=365)).timestamp()
    end = now.timestamp()
    raw = store.engine.raw_connection()
    n = 0
    try:
        conn = raw.driver_connection
        assert conn is not None
        with conn.cursor() as cur:  # type: ignore[attr-defined]
            with cur.copy("COPY resource_observations (resource, first_seen_s) FROM STDIN") as cp:
                for r in range(RESOURCES):
                    cp.write_row((f"device-{r + 1}", start))
            with cur.copy("COPY resource_downtime (resource, start_s, end_s) FROM STDIN") as cp:
                for r in range(RESOURCES):
                    t = start + rnd.random() * 43_200
                    while t < end:
                        length = rnd.expovariate(1 / 600)  # ten minutes on average
                        cp.write_row((f"device-{r + 1}", t, min(t + length, end)))
                        n += 1
                        t += length + rnd.expovariate(1 / 43_200)
        conn.commit()
        conn.autocommit = True  # type: ignore[attr-defined]
        conn.execute("VACUUM ANALYZE resource_downtime")  # type: ignore[attr-defined]
        conn.execute("VACUUM ANALYZE resource_observations")  # type: ignore[attr-defined]
        conn.autocommit = False  # type: ignore[attr-defined]
    finally:
        raw.close()
    return n


def run() -> None:
    now = dt.datetime.now(dt.UTC)
    data.END = now  # the synthetic year ends now, as the panels' windows do
    with database("postgresql") as settings:
        store = Store(settings)
        started = time.perf_counter()
        data.load(store, ROWS)
        intervals = _load_history(store, now)
        print(
            f"[postgresql] grafana panels: {ROWS:,} incidents, {intervals:,} down intervals of "
            f"{RESOURCES:,} resources over a year (loaded in {time.perf_counter() - started:.0f} s)"
        )
        with store.engine.connect() as conn:
            for key, panel in SQL_PANELS.items():
                query = text(panel.sql)
                for _ in range(3):
                    rows = conn.execute(query).all()
                times = []
                for _ in range(15):
                    t = time.perf_counter()
                    rows = conn.execute(query).all()
                    times.append((time.perf_counter() - t) * 1000)
                times.sort()
                print(
                    f"  {key:<20} {len(rows):>6} rows  median {statistics.median(times):7.1f} ms  "
                    f"p95 {times[int(0.95 * (len(times) - 1))]:7.1f} ms"
                )
        store.close()


if __name__ == "__main__":
    run()
