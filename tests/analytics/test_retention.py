"""Retention: old events and state history go, availability stays what it was."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.analytics.test_availability import _record, minute
from tests.factories import make_incident
from vigil.analytics.availability import availability_by_resource
from vigil.analytics.downtime import refresh_downtime
from vigil.analytics.retention import prune_in_batches, prune_logs, pruned_before
from vigil.cli import app
from vigil.db.store import Store
from vigil.incidents import service as incidents
from vigil.incidents.schemas import IncidentUpdate
from vigil.ingest.models import Event, ResourceStateChange
from vigil.jobs.registry import all_jobs

NOW = minute(10_000)  # the retention of one day cuts at minute 8,560


def _settings(store: Store) -> Store:
    return Store(
        store.settings.model_copy(
            update={"event_retention_days": 1, "state_history_retention_days": 1}
        )
    )


def _events(store: Store, *minutes: int) -> None:
    with store.write() as session:
        for m in minutes:
            session.add(
                Event(
                    received_at=minute(m), occurred_at=minute(m), source="events", sender="t",
                    resource="r", component="", status="active", dedup_key="k", outcome="ok",
                )
            )  # fmt: skip


def _figures(store: Store) -> dict[tuple[int, int], tuple[float, float, int]]:
    windows = [(0, 10_000), (8_000, 9_000), (9_500, 10_000), (100, 200)]
    out = {}
    with store.read() as session:
        for lo, hi in windows:
            for r in availability_by_resource(
                session=session, start=minute(lo), end=minute(hi), exclude_maintenance=False
            ):
                out[(lo, hi, hash(r.resource))] = (
                    r.downtime_seconds, r.observed_seconds, r.failures,
                )  # fmt: skip
    return out  # type: ignore[return-value]


def test_old_events_go_and_a_dry_run_changes_nothing(store: Store) -> None:
    store = _settings(store)
    _events(store, 100, 5_000, 9_000, 9_900)
    with store.read() as session:
        (events, states) = prune_logs(
            session=session, settings=store.settings, dry_run=True, now=NOW
        )
    assert (events.log, events.rows) == ("events", 2) and events.cut == NOW - dt.timedelta(days=1)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 4
        assert pruned_before(session=session, log="events") is None
    with store.write() as session:
        prune_logs(session=session, settings=store.settings, now=NOW)
    with store.read() as session:
        kept = session.scalars(select(Event.received_at).order_by(Event.id)).all()
        assert kept == [minute(9_000), minute(9_900)]
        assert pruned_before(session=session, log="events") == NOW - dt.timedelta(days=1)
    store.close()


def test_pruning_the_state_history_keeps_availability_and_what_rebuilds_need(
    store: Store,
) -> None:
    store = _settings(store)
    # "old": failed and recovered long before the cut. "across": down from before the cut to
    # after it. "open": down since before the cut and still down.
    _record(
        store, "old",
        [("a", 0, False), ("a", 100, True), ("a", 150, False), ("a", 500, True), ("a", 600, False)],
        [],
    )  # fmt: skip
    _record(store, "across", [("a", 0, False), ("a", 8_000, True), ("a", 9_000, False)], [])
    _record(store, "open", [("a", 0, False), ("b", 10, False), ("a", 7_000, True)], [])
    ref = make_incident(store, resource="old", detected_at=minute(300))
    with store.write() as session:
        incidents.transition_incident(
            session=session, ref=ref, target="resolved", actor="t", at=minute(400)
        )
    with store.write() as session:
        refresh_downtime(session=session)
    before = _figures(store)
    with store.write() as session:
        (_e, states) = prune_logs(session=session, settings=store.settings, now=NOW)
    assert states.rows > 0
    with store.read() as session:
        left = session.execute(select(ResourceStateChange.resource, ResourceStateChange.at)).all()
    kept = {(r, at) for r, at in left}
    assert ("across", minute(8_000)) in kept and ("open", minute(7_000)) in kept
    assert not any(r == "old" for r, _ in kept)  # nothing of it is needed any more
    assert _figures(store) == before  # reports read the stored intervals

    # Later changes rebuild from where the history is complete: a new failure after the cut,
    # an edit to an incident detected before it (stored availability before the cut stays).
    _record(store, "open", [("a", 9_950, False)], [])
    _record(store, "across", [("a", 9_960, True)], [])
    with store.write() as session:
        incidents.update_incident(
            session=session,
            settings=store.settings,
            ref=ref,
            data=IncidentUpdate(title="renamed"),
            actor="t",
        )
        refresh_downtime(session=session)
    with store.read() as session:
        got = {
            r.resource: r
            for r in availability_by_resource(
                session=session, start=minute(0), end=NOW, exclude_maintenance=False
            )
        }
    assert got["open"].downtime_seconds == (9_950 - 7_000) * 60
    assert got["across"].downtime_seconds == ((9_000 - 8_000) + (10_000 - 9_960)) * 60
    # Rebuilt from the incident's detection, the pruned failure at 500-600 would be lost.
    assert (
        got["old"].downtime_seconds == before[(0, 10_000, hash("old"))][0] == (50 + 100 + 100) * 60
    )
    store.close()


def test_the_cli_shows_what_would_go_and_the_job_is_registered(store: Store) -> None:
    _events(store, 100)
    env = {"VIGIL_DATA_DIR": str(store.settings.data_dir), "VIGIL_EVENT_RETENTION_DAYS": "1"}
    base = ["--db", store.url, "db", "prune"]
    out = CliRunner().invoke(app, [*base, "--dry-run"], env=env)
    assert out.exit_code == 0, out.output
    header, *rows = out.stdout.splitlines()
    assert header.split()[:3] == ["Log", "Older", "than"]
    assert rows[0].split()[0] == "events" and rows[0].split()[-1] == "1"
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 1
    assert CliRunner().invoke(app, base, env=env).exit_code == 0
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0
    assert "retention.prune" in {j.name for j in all_jobs()}


def test_batches_go_on_until_everything_old_is_gone(store: Store) -> None:
    store = _settings(store)
    _events(store, 1, 2, 3)  # minutes after 2026-03-01: long past any one-day cut
    (events, _states) = prune_in_batches(store=store, batch=1)
    assert (events.log, events.rows) == ("events", 3)  # three transactions of one row
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0
    store.close()
