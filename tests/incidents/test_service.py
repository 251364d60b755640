"""Incident rules on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import at, make_incident
from vigil.config import Settings
from vigil.db.store import Store
from vigil.errors import InvalidTransitionError, NotFoundError, ValidationError
from vigil.incidents import service
from vigil.incidents.lifecycle import STATUSES, TRANSITIONS
from vigil.incidents.schemas import IncidentCreate, IncidentFilter, IncidentRead, IncidentUpdate


def test_ids_follow_seed_000_format_and_increase(store: Store) -> None:
    ids = [make_incident(store) for _ in range(3)]
    assert ids == ["INC_001", "INC_002", "INC_003"]


def test_dated_template_matches_seed_004_and_restarts_per_day(settings: Settings) -> None:
    store = Store(settings.model_copy(update={"id_template": "INC-{date:%Y%m%d}-{seq:03d}"}))
    try:
        a = make_incident(store, detected_at=at(26, 14, 30))
        b = make_incident(store, detected_at=at(26, 15))
        c = make_incident(store, detected_at=at(27))
        assert (a, b, c) == ("INC-20260126-001", "INC-20260126-002", "INC-20260127-001")
    finally:
        store.close()


def test_template_without_seq_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\{seq\}"):
        Settings(id_template="INC-{date:%Y}")


def test_ids_are_unique_under_concurrent_writers(settings: Settings) -> None:
    stores = [Store(settings) for _ in range(4)]
    results: list[str] = []
    errors: list[BaseException] = []

    def work(s: Store) -> None:
        try:
            for _ in range(15):
                results.append(make_incident(s))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert not errors
    assert len(results) == 60
    assert sorted(results) == [f"INC_{n:03d}" for n in range(1, 61)]


def test_severity_and_category_are_case_insensitive(store: Store) -> None:
    ref = make_incident(store, severity="HIGH", category="worker_failure")
    with store.read() as session:
        incident = service.get_incident(session=session, ref=ref)
        assert (incident.severity, incident.category) == ("high", "WORKER_FAILURE")


def test_bad_severity_names_field_and_allowed_values(store: Store) -> None:
    with pytest.raises(ValidationError) as info:
        make_incident(store, severity="apocalyptic")
    assert info.value.field == "severity"
    assert "critical, high, medium, low" in str(info.value)
    with store.read() as session:
        rows, _ = service.list_incidents(session=session, settings=store.settings)
        assert rows == []


def test_extra_categories_extend_the_taxonomy(settings: Settings) -> None:
    store = Store(settings.model_copy(update={"extra_categories": ["FFMPEG_FAILURE"]}))
    try:
        make_incident(store, category="ffmpeg_failure")
        with pytest.raises(ValidationError, match="MIGRATION_ERROR"):
            make_incident(store, category="NOPE")
    finally:
        store.close()


def test_full_lifecycle_sets_timestamps_and_durations(store: Store) -> None:
    ref = make_incident(store)
    with store.write() as session:
        service.transition_incident(session=session, ref=ref, target="ACK", actor="alice")
    with store.write() as session:
        service.transition_incident(
            session=session, ref=ref, target="resolved", actor="bob", resolution="restarted"
        )
    with store.write() as session:
        incident = service.transition_incident(
            session=session, ref=ref, target="closed", actor="bob"
        )
        read = IncidentRead.from_incident(incident)
    assert read.status == "closed"
    assert read.resolution == "restarted"
    assert read.detected_at <= read.acknowledged_at <= read.resolved_at <= read.closed_at  # type: ignore[operator]
    assert read.total_duration_seconds is not None and read.total_duration_seconds >= 0
    assert read.detected_at.tzinfo is not None


def test_seed_aliases_in_progress_and_investigating(store: Store) -> None:
    ref = make_incident(store)
    with store.write() as session:
        incident = service.transition_incident(
            session=session, ref=ref, target="in_progress", actor="a"
        )
        assert incident.status == "investigating"
        assert incident.acknowledged_at is not None


def test_illegal_transition_is_refused_and_changes_nothing(store: Store) -> None:
    ref = make_incident(store)
    with (
        pytest.raises(
            InvalidTransitionError, match="can go to: acknowledged, investigating, resolved"
        ),
        store.write() as session,
    ):
        service.transition_incident(session=session, ref=ref, target="closed", actor="a")
    with store.read() as session:
        assert service.get_incident(session=session, ref=ref).status == "open"
        assert len(service.list_timeline(session=session, ref=ref)) == 1


def test_reopen_clears_resolution_times_but_timeline_keeps_them(store: Store) -> None:
    ref = make_incident(store)
    for target in ("resolved", "open"):
        with store.write() as session:
            service.transition_incident(session=session, ref=ref, target=target, actor="a")
    with store.read() as session:
        incident = service.get_incident(session=session, ref=ref)
        assert incident.resolved_at is None
        entries = service.list_timeline(session=session, ref=ref)
    assert [e.kind for e in entries] == ["created", "status_changed", "status_changed"]
    assert entries[1].changes["resolved_at"]["to"] is not None
    assert entries[2].changes["resolved_at"]["to"] is None


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=st.lists(st.sampled_from(STATUSES), max_size=8))
def test_lifecycle_follows_the_state_machine(store: Store, moves: list[str]) -> None:
    ref = make_incident(store)
    expected = "open"
    for target in moves:
        allowed = target in TRANSITIONS[expected]
        try:
            with store.write() as session:
                service.transition_incident(session=session, ref=ref, target=target, actor="h")
        except InvalidTransitionError:
            assert not allowed
        else:
            assert allowed
            expected = target
        with store.read() as session:
            incident = service.get_incident(session=session, ref=ref)
            assert incident.status == expected
            assert (incident.resolved_at is not None) == (expected in ("resolved", "closed"))


def test_update_records_old_and_new_values(store: Store) -> None:
    ref = make_incident(store, severity="low")
    with store.write() as session:
        service.update_incident(
            session=session,
            settings=store.settings,
            ref=ref,
            actor="carol",
            data=IncidentUpdate(severity="CRITICAL", root_cause="lock timeout"),
        )
    with store.write() as session:  # no-op edit writes nothing
        service.update_incident(
            session=session,
            settings=store.settings,
            ref=ref,
            actor="carol",
            data=IncidentUpdate(severity="critical"),
        )
    with store.read() as session:
        entries = service.list_timeline(session=session, ref=ref)
    assert len(entries) == 2
    assert entries[1].actor == "carol"
    assert entries[1].changes == {
        "root_cause": {"from": None, "to": "lock timeout"},
        "severity": {"from": "low", "to": "critical"},
    }


def test_notes_and_unknown_incident(store: Store) -> None:
    ref = make_incident(store)
    with store.write() as session:
        service.add_note(session=session, ref=ref, text="paged DBA", actor="dave")
    with store.read() as session:
        assert service.list_timeline(session=session, ref=ref)[-1].message == "paged DBA"
        with pytest.raises(NotFoundError, match="INC_999"):
            service.get_incident(session=session, ref="INC_999")


def test_lookup_by_uuid(store: Store) -> None:
    ref = make_incident(store)
    with store.read() as session:
        incident = service.get_incident(session=session, ref=ref)
        assert service.get_incident(session=session, ref=str(incident.uuid)).human_id == ref


def test_list_filters_and_cursor_pagination(store: Store) -> None:
    for day in range(1, 8):
        make_incident(
            store,
            detected_at=at(day),
            severity="high" if day % 2 else "low",
            project_id="p1" if day < 5 else "p2",
            title=f"day {day} outage",
        )
    with store.read() as session:
        seen: list[str] = []
        cursor = None
        while True:
            rows, cursor = service.list_incidents(
                session=session, settings=store.settings, limit=3, cursor=cursor
            )
            seen += [r.title for r in rows]
            if cursor is None:
                break
        assert seen == [f"day {d} outage" for d in range(7, 0, -1)]
        rows, _ = service.list_incidents(
            session=session,
            settings=store.settings,
            filters=IncidentFilter(severity=["HIGH"], project_id="p1", since=at(2), until=at(5)),
        )
        assert [r.title for r in rows] == ["day 3 outage"]
        rows, _ = service.list_incidents(
            session=session, settings=store.settings, filters=IncidentFilter(q="DAY 6")
        )
        assert [r.title for r in rows] == ["day 6 outage"]


def test_naive_detected_at_is_taken_as_utc(store: Store) -> None:
    ref = make_incident(store, detected_at=dt.datetime(2026, 3, 1, 12, 0))
    with store.read() as session:
        got = service.get_incident(session=session, ref=ref).detected_at
    assert got == dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_incident_needs_title_or_description(store: Store) -> None:
    with pytest.raises(ValidationError, match="title or a description"):
        make_incident(store, title=None, description="  ")


def test_create_payload_rejects_unknown_fields() -> None:
    with pytest.raises(Exception, match="colour"):
        IncidentCreate(title="x", colour="red")  # type: ignore[call-arg]
