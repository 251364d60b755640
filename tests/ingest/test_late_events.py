"""Late events go into the log and change nothing: state, incidents and availability stay
what the in-order history gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import store_copy
from vigil.analytics.availability import availability_by_resource
from vigil.db.store import Store
from vigil.incidents.models import Incident
from vigil.ingest.models import Event, ResourceState
from vigil.ingest.receivers import events_to_signals
from vigil.ingest.service import ingest_signals

T0 = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
STATUSES = ["active", "stuck", "stopped"]


def _send(store: Store, status: str, minute: int) -> str:
    event = {"resource": "cam", "component": "ffmpeg", "status": status,
             "timestamp": (T0 + dt.timedelta(minutes=minute)).isoformat()}  # fmt: skip
    signals = events_to_signals(store.settings, [event], sender="monitor")
    with store.write() as session:
        (outcome,) = ingest_signals(session=session, settings=store.settings, signals=signals)
    return outcome.outcome


def _summary(store: Store, until: int) -> tuple[Any, ...]:
    with store.read() as session:
        state = session.execute(
            select(ResourceState.status, ResourceState.since, ResourceState.last_seen_at)
        ).one()
        incidents = sorted(
            session.execute(select(Incident.status, Incident.detected_at, Incident.resolved_at))
        )
        availability = [
            (a.downtime_seconds, a.uptime_seconds, a.failures)
            for a in availability_by_resource(
                session=session,
                start=T0 - dt.timedelta(hours=1),
                end=T0 + dt.timedelta(minutes=until + 60),
            )
        ]
    return tuple(state), incidents, availability


histories = st.lists(
    st.tuples(st.sampled_from(STATUSES), st.integers(1, 20)), min_size=1, max_size=8
)
late_events = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(STATUSES), st.integers(1, 200)), max_size=6
)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=histories, late=late_events)
# The documented example: a failure and recovery today, then an event stamped long before.
@example(steps=[("stuck", 1), ("active", 5)], late=[(1, "stopped", 60)])
def test_late_events_change_neither_state_nor_incidents_nor_availability(
    steps: list[tuple[str, int]],
    late: list[tuple[int, str, int]],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    template = request.getfixturevalue("_sqlite_template")
    in_order = store_copy(template, tmp_path, "in_order")
    with_late = store_copy(template, tmp_path, "with_late")
    try:
        minute = 0
        for i, (status, gap) in enumerate(steps):
            minute += gap
            _send(in_order, status, minute)
            _send(with_late, status, minute)
            for after, late_status, back in late:
                if after == i:
                    assert _send(with_late, late_status, minute - back) == "late"
        assert _summary(with_late, minute) == _summary(in_order, minute)
        with with_late.read() as session:
            outcomes = session.scalars(select(Event.outcome)).all()
        assert outcomes.count("late") == sum(1 for a, _s, _b in late if a < len(steps))
    finally:
        in_order.close()
        with_late.close()


def test_far_future_timestamps_are_refused(store: Store) -> None:
    from vigil.errors import ValidationError

    event = {"resource": "cam", "status": "stuck", "timestamp": "2999-01-01T00:00:00Z"}
    with pytest.raises(ValidationError, match="in the future") as caught:
        events_to_signals(store.settings, [event], sender="monitor")
    assert caught.value.field == "[0].timestamp"
