"""Group commit: one writer thread applies queued requests, many per transaction.

A request's events are validated first, then queued; the HTTP handler waits
for the batch holding them to commit and only then answers 202, so an
accepted event is never lost. While one batch commits, the next requests
queue up and share the following commit, which is what makes SQLite keep up
with thousands of small requests per second.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field

from vigil.db import Store, translate_db_error
from vigil.errors import ConflictError, VigilError
from vigil.incidents import ConcurrentChangeError
from vigil.ingest.cache import IngestCache, fold_pending
from vigil.ingest.service import ingest_signals
from vigil.ingest.signals import Outcome, Signal
from vigil.metrics import Metrics

__all__ = ["IngestPipeline"]

log = logging.getLogger("vigil.ingest")


@dataclass
class _Job:
    signals: list[Signal]
    future: Future[list[Outcome]] = field(default_factory=Future)


class IngestPipeline:
    """The single writer of ingested events in this process."""

    def __init__(self, store: Store, metrics: Metrics | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.max_batch = store.settings.ingest_max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        # SQLite serializes writers, so this writer can tell when its cache is still true.
        self.cache = (
            IngestCache(counter_seconds=store.settings.ingest_counter_seconds)
            if store.backend == "sqlite"
            else None
        )

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            # Counters a previous writer deferred and never wrote (it was killed).
            with self.store.write() as session:
                folded = fold_pending(session)
            if folded:
                log.info("recomputed repeat counters of %d events from the event log", folded)
            self._thread = threading.Thread(target=self._run, name="vigil-ingest", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish queued work and stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def submit(self, signals: list[Signal]) -> Future[list[Outcome]]:
        """Queue ``signals``; the future resolves after they are committed."""
        job = _Job(signals)
        self._queue.put(job)
        return job.future

    def _run(self) -> None:
        counters = self.cache.counters if self.cache is not None else None
        while True:
            if counters is not None and counters.pending:
                try:
                    job = self._queue.get(timeout=counters.due_in())
                except queue.Empty:
                    self._flush_counters()  # idle: write what is owed
                    continue
            else:
                job = self._queue.get()
            if job is None:
                self._flush_counters()
                return
            batch, size, stop = [job], len(job.signals), False
            while size < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
                size += len(more.signals)
            self._apply(batch)
            if stop:
                self._flush_counters()
                return

    def _flush_counters(self) -> None:
        counters = self.cache.counters if self.cache is not None else None
        if counters is None or not counters.pending:
            return
        try:
            with self.store.write() as session:
                counters.add(session, {}, {}, None)
        except Exception:
            counters.rolled_back()
            log.exception("writing deferred counters failed; they stay owed")
            return
        counters.committed()

    def _apply(self, batch: list[_Job], *, retried: bool = False) -> None:
        started = time.perf_counter()
        try:
            with self.store.write() as session:
                outcomes = ingest_signals(
                    session=session,
                    settings=self.store.settings,
                    signals=[s for job in batch for s in job.signals],
                    cache=self.cache,
                )
        except Exception as exc:
            if self.cache is not None:
                self.cache.rolled_back()
            if len(batch) > 1:
                # Isolate the failing request by halves: a bad one costs a few retries of
                # the others, not one transaction per request.
                middle = len(batch) // 2
                self._apply(batch[:middle])
                self._apply(batch[middle:])
                return
            if not retried and _is_race(exc):
                # Another process changed the same key between our read and write; the
                # retry reads what it committed.
                self._apply(batch, retried=True)
                return
            _log_rejection(exc)
            batch[0].future.set_exception(exc)
            return
        self.batches += 1
        if self.cache is not None:
            self.cache.committed()
        if self.metrics is not None:
            self.metrics.batch_size.observe(len(outcomes))
            self.metrics.batch_seconds.observe(time.perf_counter() - started)
            for name, n in Counter(o.outcome for o in outcomes).items():
                self.metrics.events.labels(name).inc(n)
        start = 0
        for job in batch:
            job.future.set_result(outcomes[start : start + len(job.signals)])
            start += len(job.signals)


def _is_race(exc: Exception) -> bool:
    """True for a clash with a concurrent writer (worth one retry): a unique key taken
    meanwhile, or an incident whose status changed after the batch read it."""
    return isinstance(exc, ConcurrentChangeError) or isinstance(
        translate_db_error(exc), ConflictError
    )


def _log_rejection(exc: Exception) -> None:
    """Log why a request failed in the writer: one short line, no user input echoed at length."""
    if isinstance(exc, VigilError) or translate_db_error(exc) is not None:
        text = " ".join(str(exc).split())
        log.warning("ingest request refused: %s", text if len(text) <= 300 else text[:300] + "…")
    else:
        log.error("ingest request failed: %s", type(exc).__name__, exc_info=exc)
