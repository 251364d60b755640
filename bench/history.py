"""Ingestion into a PostgreSQL database that already holds 50 million events, beside an empty one.

    python -m bench history
    BENCH_HISTORY_EVENTS=5000000 python -m bench history

Two databases side by side: one empty, one with BENCH_HISTORY_EVENTS (50,000,000) rows in the
event log and a state change for every 50th of them (1,000,000), spread over the 90 days
before the run, written by the database itself (``INSERT … SELECT generate_series``) and then
analyzed. Ingestion is the group-commit pipeline with 1,000-signal batches (the A/B ``batch``
case), alternated between the two databases for five rounds: the ratio of medians is the
cost of the stored history (target: within 10 %).
"""

from __future__ import annotations

import os
import statistics
import time

import psycopg

from bench.ab_worker import _pipeline, _signals
from bench.databases import database

EVENTS = int(os.environ.get("BENCH_HISTORY_EVENTS", "50000000"))

_FILL_EVENTS = """
INSERT INTO events (received_at, occurred_at, source, sender, resource, component, host,
                    status, severity, summary, dedup_key, labels, details, incident_id, outcome)
SELECT now() - (%(n)s - g) * interval '155 milliseconds', now() - (%(n)s - g) * interval '155 milliseconds',
       'events', 'bench', 'hist-' || (g %% 2000), 'ffmpeg', NULL, 'active', NULL, '',
       'events:bench:hist-' || (g %% 2000) || '/ffmpeg', '{}', '{}', NULL, 'updated'
FROM generate_series(1, %(n)s) AS g
"""
_FILL_STATES = """
INSERT INTO resource_state_changes (state_key, resource, component, at, status, health,
                                    previous_status)
SELECT 'hist-' || (g %% 2000) || '/ffmpeg', 'hist-' || (g %% 2000), 'ffmpeg',
       now() - (%(n)s - g) * interval '7750 milliseconds',
       CASE WHEN g %% 2 = 0 THEN 'stuck' ELSE 'active' END,
       CASE WHEN g %% 2 = 0 THEN 'failing' ELSE 'ok' END, NULL
FROM generate_series(1, %(n)s) AS g
"""


def _fill(url: str, n: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(_FILL_EVENTS, {"n": n})
        conn.execute(_FILL_STATES, {"n": n // 50})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE events")
        conn.execute("VACUUM ANALYZE resource_state_changes")
    return time.perf_counter() - started


def run() -> None:
    jobs = [_signals(r, 1000, 1000) for r in range(1, 41)]
    with database("postgresql") as empty, database("postgresql") as full:
        took = _fill(str(full.database_url), EVENTS)
        print(
            f"[postgresql] ingestion beside {EVENTS:,} stored events and {EVENTS // 50:,} state "
            f"changes (filled in {took:.0f} s); 40 requests of 1,000 signals, 5 rounds alternating"
        )
        rates: dict[str, list[float]] = {"empty": [], "full": []}
        for r in range(5):
            for name, settings in (("empty", empty), ("full", full)) if r % 2 == 0 else (
                ("full", full), ("empty", empty)):  # fmt: skip
                rates[name].append(_pipeline(settings, jobs, wait_each=False))
        a, b = statistics.median(rates["empty"]), statistics.median(rates["full"])
        print(
            f"  empty database {a:,.0f} signals/s, with the history {b:,.0f} signals/s: "
            f"ratio {b / a:.3f}  (rounds: {[round(x) for x in rates['empty']]} / "
            f"{[round(x) for x in rates['full']]})"
        )


if __name__ == "__main__":
    run()
