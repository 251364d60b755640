"""A change-feed follower beside full-speed ingestion on SQLite: lag, and what reading costs.

    python -m bench feed

Ingestion runs through the group-commit pipeline with 1,000-signal requests in which every
signal changes its resource's state and opens or resolves its incident, so each one writes
one state change and one timeline entry (two feed rows). A follower thread polls both feeds
every 0.2 s, reads the rows past its position and stores the new one, as a real follower
does, in its own process (as `vigil worker` beside `vigil serve`). Each round runs ingestion
alone and with the follower, alternating, on fresh databases.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import statistics
import time
from typing import Any

from sqlalchemy.exc import OperationalError

from bench.databases import database
from vigil.db.store import Store
from vigil.feed import FEEDS, Position, advance, head, position_of, since
from vigil.ingest.pipeline import IngestPipeline
from vigil.ingest.signals import Signal

LOGS = ("timeline_entries", "resource_state_changes")
RESOURCES = 1000


def _requests(rounds: int) -> list[list[Signal]]:
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = []
    for r in range(rounds):
        failing = r % 2 == 0
        out.append(
            [
                Signal(
                    resource=f"cam-{i}",
                    component="ffmpeg",
                    status="stuck" if failing else "active",
                    health="failing" if failing else "ok",
                    occurred_at=base + dt.timedelta(seconds=r, microseconds=i),
                    source="events",
                    sender="bench",
                    dedup_key=f"events:bench:cam-{i}",
                    severity="high",
                )
                for i in range(RESOURCES)
            ]
        )
    return out


class _Follower:
    def __init__(self, store: Store, stop: Any) -> None:
        self.store = store
        self.stop = stop
        self.samples: list[tuple[float, int]] = []  # (time, rows handled so far)
        self.handled = 0
        self.busy = 0  # position writes that waited past the busy timeout
        self.positions: dict[str, Position] = {}

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.poll()
        self.poll()

    def poll(self) -> None:
        # Read in a read transaction (WAL: never waits for the writer), then store the
        # position in a short write; if the writer keeps the lock past the busy timeout,
        # the position stays in memory and is stored on a later poll (at least once).
        with self.store.read() as session:
            for log in LOGS:
                low = self.positions.get(log) or position_of(
                    session=session, follower="bench", log=log
                )
                high = head(session=session, log=log)
                if high <= low:
                    continue
                table = FEEDS[log]
                window = since(session=session, log=log, low=low, high=high)
                rows = session.execute(table.select().with_only_columns(table.c.id).where(window))
                self.handled += len(rows.all())
                self.positions[log] = high
        self.samples.append((time.perf_counter(), self.handled))
        try:
            with self.store.write() as session:
                for log, to in self.positions.items():
                    advance(session=session, follower="bench", log=log, to=to)
        except OperationalError:
            self.busy += 1


def _follow(settings: Any, stop: Any, results: Any) -> None:
    """The follower's own process (as `vigil worker` beside `vigil serve`).

    Its position writes wait at most 50 ms for the write lock: a flooded ingest writer holds
    it nearly all the time, and waiting would delay reading; a position not stored now is
    stored by a later poll.
    """
    store = Store(settings.model_copy(update={"sqlite_busy_timeout_ms": 50}))
    follower = _Follower(store, stop)
    follower.run()
    results.put((follower.samples, follower.handled, follower.busy))
    store.close()


def _run(with_follower: bool, requests: list[list[Signal]]) -> dict[str, Any]:
    with database("sqlite") as settings:
        store = Store(settings)
        pipeline = IngestPipeline(store)
        pipeline.start()
        ctx = multiprocessing.get_context("spawn")
        stop, results = ctx.Event(), ctx.Queue()
        follower = (
            ctx.Process(target=_follow, args=(settings, stop, results)) if with_follower else None
        )
        written: list[tuple[float, int]] = []  # (commit time, feed rows written so far)
        samples: list[tuple[float, int]] = []
        handled = busy = 0
        try:
            if follower is not None:
                follower.start()
                time.sleep(1.0)  # started and polling
            started = time.perf_counter()
            futures = [pipeline.submit(r) for r in requests]
            rows = 0
            for future in futures:
                future.result()
                rows += 2 * RESOURCES
                written.append((time.perf_counter(), rows))
            elapsed = time.perf_counter() - started
        finally:
            pipeline.stop()
            if follower is not None:
                stop.set()
                samples, handled, busy = results.get(timeout=120)
                follower.join()
            store.close()
    result: dict[str, Any] = {"rate": len(written) * 2 * RESOURCES / elapsed}
    if follower is not None:
        lags = []
        for at, count in written:
            caught = next((t for t, n in samples if n >= count), None)
            if caught is not None:
                lags.append(caught - at)
        result["lag_max"] = max(lags)
        result["lag_median"] = statistics.median(lags)
        result["handled"] = handled
        result["busy"] = busy
    return result


def run(rounds: int = 5) -> None:
    """Print ingestion's feed-row rate alone and with a follower, and the follower's lag."""
    requests = _requests(60)
    alone: list[float] = []
    beside: list[dict[str, Any]] = []
    for r in range(rounds):
        order = [False, True] if r % 2 == 0 else [True, False]
        for with_follower in order:
            out = _run(with_follower, requests)
            (beside.append(out) if with_follower else alone.append(out["rate"]))
    a = statistics.median(alone)
    b = statistics.median(x["rate"] for x in beside)
    print(
        f"feed [sqlite]: ingestion writes {a:,.0f} feed rows/s alone, {b:,.0f}/s with a follower "
        f"polling every 0.2 s (ratio {b / a:.3f}); follower lag median "
        f"{statistics.median(x['lag_median'] for x in beside):.3f} s, worst "
        f"{max(x['lag_max'] for x in beside):.3f} s; position writes deferred by a busy "
        f"writer: {sum(x['busy'] for x in beside)}; {rounds} rounds"
    )
    capacity()


def capacity(rows: int = 400_000, window: int = 20_000) -> None:
    """How many feed rows per second one follower reads and acknowledges on SQLite.

    The timeline is filled directly (one incident, ``rows`` entries); the follower reads whole
    rows in windows of ``window`` past its position and stores the position after each, as a
    real follower does. Ingestion cannot write 50,000 feed rows/s on this machine, so this is
    the follower's side of "keeps up with 50,000 changes/s" measured on its own.
    """
    import sqlite3

    from vigil.db.store import Store
    from vigil.incidents import service as incidents
    from vigil.incidents.schemas import IncidentCreate

    with database("sqlite") as settings:
        store = Store(settings)
        with store.write() as session:
            incidents.create_incident(
                session=session,
                settings=settings,
                data=IncidentCreate(title="feed", category="SYSTEM_ERROR"),
                actor="bench",
            )
        raw = sqlite3.connect(str(settings.database_url).removeprefix("sqlite:///"))
        raw.executemany(
            "INSERT INTO timeline_entries (incident_id, at, actor, kind, message, changes) "
            "VALUES (1, '2026-01-01 00:00:00.000000', 'bench', 'note', ?, '{}')",
            ((f"entry {i}",) for i in range(rows)),
        )
        raw.commit()
        raw.close()
        table = FEEDS["timeline_entries"]
        read = 0
        started = time.perf_counter()
        while True:
            with store.read() as session:
                low = position_of(session=session, follower="cap", log="timeline_entries")
                top = head(session=session, log="timeline_entries")
                if top <= low:
                    break
                high = Position(0, min(top.row_id, low.row_id + window))
                got = session.execute(
                    table.select().where(
                        since(session=session, log="timeline_entries", low=low, high=high)
                    )
                ).all()
            read += len(got)
            with store.write() as session:
                advance(session=session, follower="cap", log="timeline_entries", to=high)
        took = time.perf_counter() - started
        store.close()
    print(
        f"feed [sqlite]: one follower reads and acknowledges {read / took:,.0f} feed rows/s "
        f"({read:,} rows in windows of {window:,}; target: keep up with 50,000/s)"
    )
