"""Prometheus metrics at ``GET /metrics`` (``curl http://localhost:8000/metrics``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from vigil.db import Store
from vigil.incidents import ACTIVE_STATUSES, Incident

__all__ = ["Metrics"]


class _ActiveIncidents(Collector):
    """Active incidents by severity and status, read from the database at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "vigil_active_incidents",
            "Open, acknowledged or investigating incidents.",
            labels=["severity", "status"],
        )
        with self.store.read() as session:
            rows = session.execute(
                select(Incident.severity, Incident.status, func.count())
                .where(Incident.status.in_(ACTIVE_STATUSES))
                .group_by(Incident.severity, Incident.status)
            ).all()
        for severity, status, count in rows:
            family.add_metric([severity, status], count)
        yield family


class _JobsAndFollowers(Collector):
    """Periodic jobs' runs and failures, and how far each feed follower lags, at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        from vigil.feed import follower_lag
        from vigil.jobs import list_jobs

        runs = CounterMetricFamily("vigil_job_runs", "Runs of each periodic job.", labels=["job"])
        failures = CounterMetricFamily(
            "vigil_job_failures", "Failed runs of each periodic job.", labels=["job"]
        )
        seconds = GaugeMetricFamily(
            "vigil_job_last_duration_seconds", "How long each job's last run took.", labels=["job"]
        )
        started = GaugeMetricFamily(
            "vigil_job_last_run_timestamp_seconds",
            "When each job's last run started (Unix time).",
            labels=["job"],
        )
        period = GaugeMetricFamily(
            "vigil_job_period_seconds", "How often each job is due.", labels=["job"]
        )
        lag = GaugeMetricFamily(
            "vigil_feed_follower_lag_rows",
            "Committed changes a follower has not handled yet (counted up to 100,000).",
            labels=["follower", "log"],
        )
        with self.store.read() as session:
            for job in list_jobs(session=session):
                runs.add_metric([job.name], job.runs)
                failures.add_metric([job.name], job.failures)
                period.add_metric([job.name], job.period_seconds)
                if job.last_duration_seconds is not None:
                    seconds.add_metric([job.name], job.last_duration_seconds)
                if job.last_started_at is not None:
                    started.add_metric([job.name], _unix(job.last_started_at))
            for behind in follower_lag(session=session):
                lag.add_metric([behind.follower, behind.log], behind.rows)
        yield from (runs, failures, seconds, started, period, lag)


class _Notifications(Collector):
    """Notifications by channel and state, and the age of the oldest one owed, at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from vigil.db import utcnow
        from vigil.notify import NOTIFICATION_STATES, Channel, Notification

        count = GaugeMetricFamily(
            "vigil_notifications",
            "Notifications by channel and state (pending, sending, sent, failed, bundled, "
            "silenced).",
            labels=["channel", "state"],
        )
        oldest = GaugeMetricFamily(
            "vigil_notification_oldest_pending_seconds",
            "Age of the oldest notification not yet delivered (0 when none is owed).",
        )
        n = Notification
        with self.store.read() as session:
            rows = session.execute(
                select(n.channel_name, n.state, func.count()).group_by(n.channel_name, n.state)
            ).all()
            first = session.execute(
                select(func.min(n.created_at)).where(n.state.in_(("pending", "sending")))
            ).scalar()
            channels = session.scalars(select(Channel.name)).all()
        # Every channel's counts, zeros included, so alerting rules compare like with like.
        counts = {(c, state): 0 for c in channels for state in NOTIFICATION_STATES}
        counts.update({(channel, state): how_many for channel, state, how_many in rows})
        for (channel, state), how_many in sorted(counts.items()):
            count.add_metric([channel, state], how_many)
        oldest.add_metric([], (utcnow() - first).total_seconds() if first else 0.0)
        yield from (count, oldest)


def _unix(value: dt.datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()


class _Database(Collector):
    """How big the database is and, for a SQLite file, how full its disk is."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        import shutil

        from vigil.db import sqlite_path

        size = GaugeMetricFamily("vigil_database_size_bytes", "Size of Vigil's database.")
        path = sqlite_path(self.store.url)
        if path is None:
            with self.store.read() as session:
                size.add_metric(
                    [], session.scalar(text("SELECT pg_database_size(current_database())"))
                )
            yield size
            return
        files = [path, path.with_name(path.name + "-wal")]
        size.add_metric([], sum(f.stat().st_size for f in files if f.exists()))
        disk = shutil.disk_usage(path.parent)
        free = GaugeMetricFamily(
            "vigil_database_disk_free_bytes", "Free space on the disk holding the SQLite file."
        )
        total = GaugeMetricFamily(
            "vigil_database_disk_size_bytes", "Size of the disk holding the SQLite file."
        )
        free.add_metric([], disk.free)
        total.add_metric([], disk.total)
        yield from (size, free, total)


class _Reliability(Collector):
    """What the dashboard's Prometheus variant draws: availability per resource over the last
    24 hours (planned maintenance left out, as in Vigil's reports) and the 7-day MTTA/MTTR."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from vigil.analytics import availability, response
        from vigil.db import utcnow

        percent = GaugeMetricFamily(
            "vigil_resource_availability_24h_percent",
            "Availability of each resource over the last 24 hours (maintenance left out).",
            labels=["resource"],
        )
        means = GaugeMetricFamily(
            "vigil_response_seconds_7d_average",
            "Mean time to acknowledge (mtta) and to resolve (mttr) over the last 7 days.",
            labels=["metric"],
        )
        now = utcnow()
        with self.store.read() as session:
            rows = availability.availability_by_resource(
                session=session, start=now - dt.timedelta(days=1), end=now
            )
            weeks = response.response_metrics(
                session=session, start=now - dt.timedelta(days=7), end=now
            )
        for row in rows:
            if row.availability_percent is not None:
                percent.add_metric([row.resource], row.availability_percent)
        for week in weeks:  # one group: all incidents
            for name, stats in (("mtta", week.mtta), ("mttr", week.mttr)):
                if stats.mean is not None:
                    means.add_metric([name], stats.mean)
        yield from (percent, means)


class Metrics:
    """The process' metrics registry (one per app, so tests can build several apps)."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "vigil_ingested_events",
            "Events committed, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "vigil_ingest_batch_events",
            "Events per group-commit transaction.",
            buckets=(1, 5, 20, 100, 500, 1000, 2000, 5000),
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "vigil_ingest_batch_seconds",
            "Time to apply and commit one batch.",
            registry=self.registry,
        )
        self.registry.register(_ActiveIncidents(store))
        self.registry.register(_JobsAndFollowers(store))
        self.rejected = Counter(
            "vigil_ingest_rejected_requests",
            "Ingestion requests refused (bad input, an unknown or wrong key, too large), by "
            "receiver.",
            ["receiver"],
            registry=self.registry,
        )
        self.registry.register(_Notifications(store))
        self.registry.register(_Database(store))
        self.registry.register(_Reliability(store))

    def render(self) -> bytes:
        """Return the text exposition format."""
        return bytes(generate_latest(self.registry))
