"""Run the benchmarks and print medians, throughputs and ratios.

    python -m bench                 # everything, SQLite and PostgreSQL
    python -m bench log_incident    # one benchmark
    python -m bench.ab BASE         # write paths A/B against an earlier commit
    BENCH_ROWS=100000 python -m bench queries

PostgreSQL runs use a fresh database on 127.0.0.1 (dropped afterwards).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.databases import database
from vigil.db.store import Store

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))


def median_ms(fn: Callable[[], object], runs: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_log_incident(backend: str) -> None:
    """log_incident: one committed incident per call."""
    from vigil import IncidentLogger, log_incident

    variants = [("NORMAL",), ("FULL",)] if backend == "sqlite" else [("-",)]
    for (sync,) in variants:
        extra = {"sqlite_synchronous": sync} if backend == "sqlite" else {}
        with database(backend, **extra) as settings:
            IncidentLogger.configure(settings=settings)
            n = 3000
            rates = []
            for _ in range(5):
                t = time.perf_counter()
                for _ in range(n):
                    log_incident(
                        category="WORKER_FAILURE",
                        description="Worker process crashed during task execution",
                        severity="HIGH",
                        project_id="ai_pm_manager",
                        task_id="TASK_917",
                    )
                rates.append(n / (time.perf_counter() - t))
            IncidentLogger.store().close()
            IncidentLogger._store = None
            label = f"synchronous={sync}" if backend == "sqlite" else "postgresql"
            print(
                f"log_incident [{backend} {label}]: median {statistics.median(rates):,.0f} incidents/s "
                f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}; target 3,000/s: "
                f"{statistics.median(rates) / 3000:.2f}x)"
            )


def bench_queries(backend: str) -> None:
    """Summary and recurrence over ROWS incidents; CLI list over the same data."""
    from bench.data import END, load
    from vigil.analytics.service import incidents_summary, recurrence_rate

    with database(backend) as settings:
        store = Store(settings)
        t = time.perf_counter()
        load(store, ROWS)
        print(f"[{backend}] loaded {ROWS:,} incidents in {time.perf_counter() - t:.1f} s")
        cases: list[tuple[str, Callable[[], object]]] = []

        def q(fn: Callable[..., object], **kw: object) -> Callable[[], object]:
            def run() -> object:
                with store.read() as session:
                    return fn(session=session, **kw)

            return run

        import datetime as dt

        cases.append(("summary, all rows, no filter", q(incidents_summary)))
        cases.append(
            (
                "summary, project ai_pm_manager (50%)",
                q(incidents_summary, project_id="ai_pm_manager"),
            )
        )
        cases.append(
            (
                "summary, last 30 days",
                q(incidents_summary, start=END - dt.timedelta(days=30), end=END),
            )
        )
        for days in (30, 365):
            cases.append(
                (
                    f"recurrence WORKER_FAILURE {days} d",
                    q(
                        recurrence_rate,
                        settings=settings,
                        category="WORKER_FAILURE",
                        days=days,
                        now=END,
                    ),
                )
            )
        cases.append(
            (
                "recurrence WORKER_FAILURE 30 d, project",
                q(
                    recurrence_rate,
                    settings=settings,
                    category="WORKER_FAILURE",
                    days=30,
                    project_id="ai_pm_manager",
                    now=END,
                ),
            )
        )
        for name, fn in cases:
            ms = median_ms(fn)
            print(
                f"[{backend}] {name}: median {ms:.1f} ms over {ROWS:,} incidents (target < 200 ms: {200 / ms:.1f}x headroom)"
            )
        env = {
            **os.environ,
            "VIGIL_DATABASE_URL": str(settings.database_url),
            "VIGIL_DATA_DIR": str(settings.data_dir),
        }
        vigil = str(Path(sys.executable).with_name("vigil"))
        ms = median_ms(
            lambda: subprocess.run(
                [vigil, "list", "--limit", "50"], env=env, check=True, capture_output=True
            ),
            runs=7,
        )
        print(
            f"[{backend}] `vigil list --limit 50` over {ROWS:,}: median {ms:.0f} ms wall (target < 600 ms)"
        )
        store.close()


def explain(store: Store, label: str, stmt: Any, params: dict[str, Any]) -> None:
    """Print the plan a benchmarked query runs with (the statement compiled as Vigil runs it)."""
    import dataclasses

    from vigil.db.fastpath import PreparedStatement

    statement = stmt.statement if isinstance(stmt, PreparedStatement) else stmt
    prefix = "EXPLAIN QUERY PLAN " if store.backend == "sqlite" else "EXPLAIN (COSTS OFF) "
    with store.read() as session:
        conn = session.connection()
        # A private copy compiled the same way, with the EXPLAIN prefix in front of its SQL.
        plan = PreparedStatement(statement)
        compiled = plan._compile(conn.dialect)
        plan._by_dialect[conn.dialect.name] = dataclasses.replace(
            compiled, sql=prefix + compiled.sql
        )
        rows = plan.execute(conn, params).fetchall()
    print(f"[{store.backend}] plan of {label}:")
    for row in rows:
        print("    " + str(row[-1] if store.backend == "sqlite" else row[0]))


def bench_analytics(backend: str) -> None:
    """Availability over 1M state changes; response metrics over 1M incidents; panels over 100k."""
    import datetime as dt

    from bench import availability as av
    from bench.data import END, load
    from vigil.analytics.panels import dashboard_panels
    from vigil.analytics.response import response_metrics

    with database(backend) as settings:
        store = Store(settings)
        av.load(store, ROWS)
        first, rebuilt = av.refresh(store)
        print(
            f"[{backend}] availability: first refresh of {ROWS:,} unseen state changes "
            f"({rebuilt:,} resources): {first:,.0f} ms (once; then incremental)"
        )
        ms = median_ms(lambda: av.measure(store), runs=5)
        print(
            f"[{backend}] availability, 1,000 resources, {ROWS:,} state changes, 30 days: "
            f"median {ms:,.0f} ms (target < 500 ms)"
        )
        from vigil.analytics import availability as avail

        lo, hi = av.START.timestamp(), av.END.timestamp()
        explain(store, "availability aggregates", avail._AGGREGATES, {"lo": lo, "hi": hi})
        explain(
            store,
            "availability, stored part of a resource with pending changes",
            avail._AGGREGATE_BEFORE,
            {"lo": lo, "hi": hi, "resource": "dev-1", "since": hi - 3600},
        )
        av.add_recent(store, 60)
        behind = median_ms(lambda: av.measure(store), runs=3)
        inc, _ = av.refresh(store)
        print(
            f"[{backend}] availability with 1,000 changes not yet refreshed: median "
            f"{behind:,.0f} ms; refreshing them: {inc:,.0f} ms"
        )
        store.close()
    with database(backend) as settings:
        store = Store(settings)
        load(store, ROWS)

        def metrics() -> object:
            with store.read() as session:
                return response_metrics(
                    session=session, start=END - dt.timedelta(days=400), end=END, group_by="service"
                )

        from vigil.analytics import response as resp

        window = {"lo": END - dt.timedelta(days=400), "hi": END}
        explain(store, "response: counts, sums, maxima by service", resp._AGGREGATES[False], window)
        explain(
            store,
            "response: k-th MTTR of one service (ascending)",
            resp._NTH["ttr_s", False, False],
            {**window, "service": "svc-1", "skip": 24000},
        )
        ms = median_ms(metrics, runs=3)
        print(
            f"[{backend}] response metrics by service over {ROWS:,} incidents: median {ms:,.0f} ms (target < 500 ms)"
        )
        store.close()
    with database(backend) as settings:
        store = Store(settings)
        load(store, 100_000)

        def panels() -> object:
            with store.read() as session:
                return dashboard_panels(session=session, now=END)

        ms = median_ms(panels, runs=5)
        print(
            f"[{backend}] four dashboard panels with 100,000 incidents: median {ms:,.0f} ms (target < 100 ms)"
        )
        store.close()


def bench_cli_startup() -> None:
    """Cold start of `vigil --help`."""
    vigil = str(Path(sys.executable).with_name("vigil"))
    ms = median_ms(
        lambda: subprocess.run([vigil, "--help"], check=True, capture_output=True), runs=11
    )
    print(f"`vigil --help`: median {ms:.0f} ms wall (target < 300 ms)")


def main(argv: list[str]) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {__import__('sqlite3').sqlite_version}"
    )
    wanted = set(argv) or {
        "log_incident",
        "queries",
        "cli",
        "ingest",
        "analytics",
        "bad_senders",
        "feed",
        "notify",
        "oncall",
        "pages",
        "grafana",
        "history",
    }
    backends = [
        b
        for b in ("sqlite", "postgresql")
        if os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").count(b)
    ]
    if "cli" in wanted:
        bench_cli_startup()
    if "feed" in wanted:
        from bench import feed

        feed.run()
    if "notify" in wanted:
        from bench import notify

        notify.run()
    if "oncall" in wanted:
        from bench import oncall

        oncall.run()
    if "pages" in wanted:
        from bench import pages

        pages.run()
    if "grafana" in wanted:
        from bench import grafana

        grafana.run()
    if "history" in wanted:
        from bench import history

        history.run()
    for backend in backends:
        if "log_incident" in wanted:
            bench_log_incident(backend)
        if "queries" in wanted:
            bench_queries(backend)
        if "analytics" in wanted:
            bench_analytics(backend)
        if "ingest" in wanted:
            from bench import ingest

            with database(backend) as settings:
                ingest.run(settings, backend)
            if backend == "postgresql":
                with database(backend) as settings:
                    ingest.run(settings, backend, processes=2)
        if "bad_senders" in wanted:
            from bench import ingest

            with database(backend) as settings:
                ingest.run_bad_senders(settings, backend)


if __name__ == "__main__":
    main(sys.argv[1:])
