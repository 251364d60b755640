"""Detection rules (seed 002) on real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from vigil.db.store import Store
from vigil.errors import ConflictError, ValidationError
from vigil.incidents import service as incidents
from vigil.incidents.models import Incident
from vigil.ingest import heartbeats, maintenance
from vigil.ingest.cache import IngestCache
from vigil.ingest.models import Event, ResourceStateChange
from vigil.ingest.receivers import events_to_signals
from vigil.ingest.service import ingest_signals
from vigil.ingest.signals import Outcome

T0 = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)


def send(store: Store, *events: dict[str, object]) -> list[Outcome]:
    signals = events_to_signals(store.settings, list(events), sender="monitor")
    with store.write() as session:
        return ingest_signals(session=session, settings=store.settings, signals=signals)


def ev(resource: str, status: str, minute: int, component: str = "ffmpeg") -> dict[str, object]:
    return {
        "resource": resource,
        "component": component,
        "status": status,
        "timestamp": (T0 + dt.timedelta(minutes=minute)).isoformat(),
        "host": "host-1",
    }


def test_seed_002_scenario(store: Store) -> None:
    out = send(
        store,
        ev("cam1/cap1", "active", 0),
        ev("cam1/cap1", "stuck", 1),
        ev("cam1/cap1", "stuck", 2),
        ev("cam1/cap1", "stopped", 3),
        ev("cam1/cap1", "monitor-ok", 0, "monitor")
        if False
        else ev("cam1/cap1", "active", 3, "monitor"),
        ev("cam1/cap1", "active", 5),
    )
    assert [o.outcome for o in out] == [
        "recorded",
        "opened",
        "updated",
        "updated",
        "recorded",
        "resolved",
    ]
    with store.read() as session:
        inc = incidents.get_incident(session=session, ref="INC_001")
        assert inc.severity == "critical"  # escalated by "stopped"
        assert inc.status == "resolved"
        assert inc.resolution == "Auto-resolved: ffmpeg recovered"
        assert inc.detected_at == T0 + dt.timedelta(minutes=1)
        assert inc.resolved_at == T0 + dt.timedelta(minutes=5)
        assert inc.occurrence_count == 3
        assert (inc.resource, inc.component, inc.host) == ("cam1/cap1", "ffmpeg", "host-1")
        kinds = [
            e.message.split(":")[0] for e in incidents.list_timeline(session=session, ref="INC_001")
        ]
        assert kinds == [
            "Declared high SYSTEM_ERROR incident",
            "Severity high → critical",
            "Status open → resolved",
        ]
        changes = (
            session.execute(select(ResourceStateChange.status).order_by(ResourceStateChange.id))
            .scalars()
            .all()
        )
        assert changes == [
            "active",
            "stuck",
            "stopped",
            "active",
            "active",
        ]  # ffmpeg ×4 changes + monitor's first
        assert session.execute(select(func.count()).select_from(Event)).scalar() == 6


def test_stopped_opens_critical_and_new_failure_after_recovery_opens_new_incident(
    store: Store,
) -> None:
    assert send(store, ev("cam2", "stopped", 0))[0].incident_id == "INC_001"
    send(store, ev("cam2", "active", 1))
    out = send(store, ev("cam2", "stuck", 2))
    assert out[0].outcome == "opened"
    assert out[0].incident_id == "INC_002"
    with store.read() as session:
        assert incidents.get_incident(session=session, ref="INC_001").severity == "critical"
        assert incidents.get_incident(session=session, ref="INC_002").severity == "high"


def test_repeats_only_move_last_seen(store: Store) -> None:
    send(store, *[ev("cam3", "stuck", m) for m in range(20)])
    with store.read() as session:
        assert session.execute(select(func.count()).select_from(ResourceStateChange)).scalar() == 1
        inc = incidents.get_incident(session=session, ref="INC_001")
        assert inc.occurrence_count == 20
        assert inc.last_seen_at == T0 + dt.timedelta(minutes=19)
        assert len(incidents.list_timeline(session=session, ref="INC_001")) == 1


def test_bad_event_rejects_the_whole_batch(store: Store) -> None:
    with pytest.raises(ValidationError, match=r"\[1\]\.status 'sleeping' is not one of: active"):
        send(store, ev("cam4", "stuck", 0), ev("cam4", "sleeping", 1))
    with pytest.raises(ValidationError, match=r"\[0\]\.resource"):
        send(store, {"status": "stuck"})
    with store.read() as session:
        assert session.execute(select(func.count()).select_from(Event)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Incident)).scalar() == 0


def test_one_active_incident_per_key_is_enforced_by_the_database(store: Store) -> None:
    send(store, ev("cam5", "stuck", 0))
    from vigil.incidents.schemas import IncidentCreate

    with pytest.raises(ValidationError, match="belong to ingestion"), store.write() as session:
        incidents.create_incident(
            session=session,
            settings=store.settings,
            actor="x",
            data=IncidentCreate(title="dup", dedup_key="events:monitor:cam5|ffmpeg"),
        )
    with store.write() as session:
        incidents.create_incident(
            session=session,
            settings=store.settings,
            actor="x",
            data=IncidentCreate(title="mine", dedup_key="cam5"),
        )
    with pytest.raises(ConflictError, match="INC_002"), store.write() as session:
        incidents.create_incident(
            session=session,
            settings=store.settings,
            actor="x",
            data=IncidentCreate(title="dup", dedup_key="cam5"),
        )
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.engine.begin() as conn:  # even bypassing the service
        conn.exec_driver_sql(
            "INSERT INTO incidents (human_id, uuid, title, description, category, severity, status, "
            "affected_records, labels, tags, source, occurrence_count, detected_at, last_seen_at, "
            "created_at, updated_at, dedup_key) SELECT 'X', uuid, title, description, category, "
            "severity, 'open', affected_records, labels, tags, source, 1, detected_at, last_seen_at, "
            "created_at, updated_at, dedup_key FROM incidents"
        )


def test_concurrent_writers_never_open_two_incidents(settings: object) -> None:
    stores = [Store(settings) for _ in range(4)]  # type: ignore[arg-type]
    errors: list[BaseException] = []

    def work(s: Store, offset: int) -> None:
        try:
            for i in range(10):
                send(s, ev(f"dev{i % 3}", "stuck" if (i + offset) % 4 else "active", i))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with stores[0].read() as session:
        rows = session.execute(
            select(Incident.dedup_key, func.count())
            .where(Incident.status.in_(("open", "acknowledged", "investigating")))
            .group_by(Incident.dedup_key)
        ).all()
    assert all(n == 1 for _, n in rows)
    for s in stores:
        s.close()


def test_maintenance_window_records_but_opens_nothing(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    with store.write() as session:
        maintenance.create_window(
            session=session,
            name="upgrade",
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=1),
            actor="ops",
            resource="cam-*",
        )
        with pytest.raises(ValidationError, match="after starts_at"):
            maintenance.create_window(
                session=session, name="bad", starts_at=now, ends_at=now, actor="x", resource="a"
            )
    out = send(
        store, {"resource": "cam-7", "status": "stopped"}, {"resource": "db-1", "status": "stopped"}
    )
    assert [o.outcome for o in out] == ["suppressed", "opened"]


def test_heartbeats_open_and_resolve(store: Store) -> None:
    with store.write() as session:
        heartbeats.create_heartbeat(
            session=session, name="backup-job", interval_seconds=60, grace_seconds=30
        )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    with store.write() as session:
        out = heartbeats.check_heartbeats(session=session, settings=store.settings, now=later)
    assert [o.outcome for o in out] == ["opened"]
    with store.write() as session:  # already missing: no second incident
        assert (
            heartbeats.check_heartbeats(session=session, settings=store.settings, now=later) == []
        )
    with store.write() as session:
        outcome = heartbeats.beat(
            session=session, settings=store.settings, name="backup-job", sender="cron"
        )
    assert outcome.outcome == "resolved"
    with store.read() as session:
        assert (
            incidents.get_incident(session=session, ref=out[0].incident_id or "").status
            == "resolved"
        )


def test_writer_cache_notices_every_other_writer(store: Store) -> None:
    cache = IngestCache()

    def csend(*events: dict[str, object]) -> list[str]:
        signals = events_to_signals(store.settings, list(events), sender="monitor")
        with store.write() as session:
            out = ingest_signals(
                session=session, settings=store.settings, signals=signals, cache=cache
            )
        return [o.outcome for o in out]

    assert csend(ev("wc", "stuck", 0)) == ["opened"]
    assert csend(ev("wc", "stuck", 1)) == ["updated"]
    assert "events:monitor:wc|ffmpeg" in cache.known_active  # served from the cache this time
    with store.write() as session:
        (first,) = session.scalars(select(Incident.human_id).where(Incident.resource == "wc"))
        incidents.transition_incident(session=session, ref=first, target="resolved", actor="op")
    assert csend(ev("wc", "stuck", 2)) == ["opened"]  # not an update of the resolved one
    assert send(store, ev("wc", "active", 3))[0].outcome == "resolved"  # a writer without it
    assert csend(ev("wc", "active", 4)) == ["recorded"]
    assert csend(ev("wc", "stopped", 5)) == ["opened"]
    with store.read() as session:
        statuses = sorted(
            session.scalars(select(Incident.status).where(Incident.resource == "wc")).all()
        )
        last_seen = session.scalars(
            select(func.max(ResourceStateChange.at)).where(ResourceStateChange.resource == "wc")
        ).one()
    assert statuses == ["open", "resolved", "resolved"]
    assert last_seen == T0 + dt.timedelta(minutes=5)


def test_removing_an_integration_with_a_long_name_revokes_its_key(store: Store) -> None:
    from vigil.auth import integrations
    from vigil.errors import AuthError

    name = "n" * 100
    with store.write() as session:
        _i, key = integrations.create_integration(session=session, name=name)
    with store.write() as session:
        removed = integrations.remove_integration(session=session, name=name)
        assert len(removed.name) <= 100 and removed.name.endswith(")")
    with store.read() as session, pytest.raises(AuthError):
        integrations.authenticate_integration(session=session, key=key)
    with store.write() as session:  # the name is free again
        integrations.create_integration(session=session, name=name)


def test_an_escalating_batch_keeps_the_writer_cache(store: Store) -> None:
    cache = IngestCache()
    for event in (ev("esc", "stuck", 0), ev("esc", "stopped", 1)):  # high, then critical
        signals = events_to_signals(store.settings, [event], sender="monitor")
        with store.write() as session:
            ingest_signals(session=session, settings=store.settings, signals=signals, cache=cache)
    with store.read() as session:
        (severity,) = session.scalars(select(Incident.severity).where(Incident.resource == "esc"))
        assert severity == "critical"
        cache.check(session)  # nobody else wrote: the cache must survive its own escalation
    assert "events:monitor:esc|ffmpeg" in cache.known_active


def test_one_bad_request_in_a_shared_batch_fails_alone(store: Store) -> None:
    import dataclasses

    from vigil.ingest.pipeline import IngestPipeline

    pipeline = IngestPipeline(store)
    good = [
        pipeline.submit(events_to_signals(store.settings, [ev(f"g{i}", "stuck", i)], sender="m"))
        for i in range(8)
    ]
    (signal,) = events_to_signals(store.settings, [ev("bad", "stuck", 0)], sender="m")
    # Receivers refuse unknown categories; a signal built past them fails in the writer.
    bad = pipeline.submit([dataclasses.replace(signal, category="NOPE")])
    more = pipeline.submit(events_to_signals(store.settings, [ev("g9", "stuck", 9)], sender="m"))
    pipeline.start()  # everything queued so far shares the first batch
    try:
        assert [f.result(timeout=10)[0].outcome for f in [*good, more]] == ["opened"] * 9
        with pytest.raises(ValidationError, match="category"):
            bad.result(timeout=10)
    finally:
        pipeline.stop()
    assert pipeline.batches <= 6  # halving, not one transaction per request


def test_unknown_category_is_refused_before_anything_is_written(store: Store) -> None:
    events = [ev("c1", "stuck", 0), {**ev("c2", "stuck", 0), "category": "NOPE"}]
    with pytest.raises(ValidationError) as caught:
        events_to_signals(store.settings, events, sender="m")
    assert caught.value.field == "[1].category"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_reopen_racing_ingestion_on_the_same_key_never_clashes(store: Store) -> None:
    import time

    assert send(store, ev("race", "stuck", 0))[0].outcome == "opened"
    with store.write() as session:
        incidents.transition_incident(session=session, ref="INC_001", target="resolved", actor="op")
    result: list[str] = []

    def ingest() -> None:
        result.append(send(store, ev("race", "stuck", 5))[0].outcome)

    with store.write() as session:
        incidents.transition_incident(session=session, ref="INC_001", target="open", actor="op")
        worker = threading.Thread(target=ingest)
        worker.start()
        time.sleep(0.5)  # ingestion waits for the key's lock instead of opening a second one
    worker.join(timeout=10)
    assert result == ["updated"]
