"""Summaries and recurrence against brute-force recomputation."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import at, make_incident
from vigil.analytics.service import incidents_summary, recurrence_rate
from vigil.analytics.trend import mann_kendall
from vigil.db.store import Store
from vigil.errors import ValidationError

CATS = ("WORKER_FAILURE", "MIGRATION_ERROR", "OTHER")
SEVS = ("critical", "high", "medium", "low")


def test_mann_kendall_known_series() -> None:
    assert mann_kendall([1, 2, 3, 4, 5, 6, 7, 8]).trend == "increasing"
    assert mann_kendall([9, 7, 7, 5, 4, 2, 1, 0]).trend == "decreasing"
    assert mann_kendall([3, 3, 3, 3, 3, 3]).trend == "stable"
    # One spike in a flat series is not a trend, though the halves differ.
    assert mann_kendall([0, 0, 0, 0, 0, 0, 0, 9]).trend == "stable"
    # Textbook value: S for [1, 3, 2, 4] is 4 (five pairs up, one down).
    assert mann_kendall([1, 3, 2, 4]).s == 4
    assert mann_kendall([1, 2]).trend == "stable"


def test_summary_counts_window_and_recent_high(store: Store) -> None:
    make_incident(
        store, detected_at=at(1), category="WORKER_FAILURE", severity="high", project_id="a"
    )
    make_incident(
        store, detected_at=at(2), category="WORKER_FAILURE", severity="low", project_id="a"
    )
    make_incident(store, detected_at=at(3), category="OTHER", severity="critical", project_id="b")
    make_incident(store, detected_at=at(10), category="OTHER", severity="high", project_id="a")
    with store.read() as session:
        s = incidents_summary(session=session, start=at(1), end=at(10))
        assert s.total == 3
        assert s.by_category == {"WORKER_FAILURE": 2, "OTHER": 1}
        assert s.by_severity == {"critical": 1, "high": 1, "low": 1}
        assert [i.detected_at for i in s.recent_high] == [at(3), at(1)]
        assert incidents_summary(session=session, project_id="a").total == 3
        with pytest.raises(ValidationError, match="after start"):
            incidents_summary(session=session, start=at(5), end=at(4))


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 40 * 24), st.sampled_from(CATS), st.sampled_from(SEVS)),
        max_size=25,
    ),
    start_h=st.integers(0, 40 * 24),
    span_h=st.integers(1, 40 * 24),
)
def test_summary_matches_brute_force(
    store: Store, rows: list[tuple[int, str, str]], start_h: int, span_h: int
) -> None:
    project = uuid.uuid4().hex
    base = at(1)
    for hour, cat, sev in rows:
        make_incident(
            store,
            detected_at=base + dt.timedelta(hours=hour),
            category=cat,
            severity=sev,
            project_id=project,
        )
    start, end = base + dt.timedelta(hours=start_h), base + dt.timedelta(hours=start_h + span_h)
    inside = [(c, s) for h, c, s in rows if start <= base + dt.timedelta(hours=h) < end]
    with store.read() as session:
        got = incidents_summary(session=session, start=start, end=end, project_id=project)
    assert got.total == len(inside)
    assert got.by_category == dict(Counter(c for c, _ in inside))
    assert got.by_severity == dict(Counter(s for _, s in inside))
    assert len(got.recent_high) == min(10, sum(1 for _, s in inside if s in ("critical", "high")))


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(-5 * 86400, 70 * 86400), max_size=30),
    days=st.sampled_from([1, 7, 30, 90]),
)
def test_recurrence_buckets_match_brute_force(store: Store, offsets: list[int], days: int) -> None:
    project = uuid.uuid4().hex
    now = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
    for off in offsets:
        make_incident(
            store,
            detected_at=now - dt.timedelta(seconds=off),
            category="WORKER_FAILURE",
            project_id=project,
        )
    with store.read() as session:
        got = recurrence_rate(
            session=session,
            settings=store.settings,
            category="worker_failure",
            days=days,
            project_id=project,
            now=now,
        )
    start = now - dt.timedelta(days=days)
    n = min(days, 60)
    width = days * 86400 / n
    expected = [0] * n
    for off in offsets:
        t = now - dt.timedelta(seconds=off)
        if start <= t < now:
            expected[min(int((t - start).total_seconds() // width), n - 1)] += 1
    assert got.buckets == expected
    assert got.total_incidents == sum(expected)
    assert got.recurrence_rate == round(sum(expected) / days, 4)
    assert got.trend == mann_kendall(expected).trend


def test_recurrence_detects_a_rising_category(store: Store) -> None:
    now = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    for day in range(30):
        for _ in range(day // 5):
            make_incident(
                store,
                detected_at=now - dt.timedelta(days=30 - day, hours=-1),
                category="WORKER_FAILURE",
            )
    with store.read() as session:
        got = recurrence_rate(
            session=session, settings=store.settings, category="WORKER_FAILURE", days=30, now=now
        )
        assert got.trend == "increasing" and got.p_value < 0.05
        with pytest.raises(ValidationError, match="days"):
            recurrence_rate(session=session, settings=store.settings, category="OTHER", days=0)


def test_fingerprint_recurrence_surfaces_on_the_incident(store: Store) -> None:
    from vigil.analytics.service import fingerprint_recurrence
    from vigil.incidents import service as incidents

    for day in (1, 10, 20):
        make_incident(
            store, detected_at=at(day), resource="cam1", component="ffmpeg", category="OTHER"
        )
    make_incident(store, detected_at=at(21), resource="cam2", component="ffmpeg", category="OTHER")
    with store.read() as session:
        third = incidents.get_incident(session=session, ref="INC_003")
        got = fingerprint_recurrence(session=session, incident=third)
        assert got["count"] == 3
        assert got["text"] == "3rd time in 90 days"
        assert fingerprint_recurrence(session=session, incident=third, days=15)["count"] == 2
        other = incidents.get_incident(session=session, ref="INC_004")
        assert (
            fingerprint_recurrence(session=session, incident=other)["text"] == "1st time in 90 days"
        )
        only_cam1 = recurrence_rate(
            session=session,
            settings=store.settings,
            category="OTHER",
            days=60,
            resource="cam2",
            now=at(30),
        )
        assert only_cam1.total_incidents == 1
