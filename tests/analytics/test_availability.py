"""Availability, SLA and MTBF against a minute-by-minute brute-force simulation."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import make_incident
from vigil.analytics.availability import availability_by_resource, sla_band
from vigil.analytics.downtime import pending_intervals, refresh_downtime, refresh_in_steps
from vigil.analytics.intervals import merge
from vigil.db.store import Store
from vigil.incidents import service as incidents
from vigil.incidents.schemas import IncidentUpdate
from vigil.ingest.models import ResourceStateChange

BASE = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def minute(m: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=m)


def _record(
    store: Store,
    resource: str,
    changes: list[tuple[str, int, bool]],
    incident_spans: list[tuple[int, int | None]],
) -> None:
    with store.write() as session:
        for component, m, failing in changes:
            session.add(
                ResourceStateChange(
                    state_key=f"{resource}\x1f{component}",
                    resource=resource,
                    component=component,
                    at=minute(m),
                    status="stopped" if failing else "active",
                    health="failing" if failing else "ok",
                )
            )
    for start, stop in incident_spans:
        ref = make_incident(store, resource=resource, detected_at=minute(start))
        if stop is not None:
            with store.write() as session:
                incidents.transition_incident(
                    session=session, ref=ref, target="resolved", actor="t", at=minute(stop)
                )


def _brute(
    changes: list[tuple[str, int, bool]], spans: list[tuple[int, int | None]], start: int, end: int
) -> tuple[int, int, list[tuple[int, int]]]:
    """Return (observed minutes, down minutes, down runs) by simulating every minute."""
    observed = down = 0
    runs: list[tuple[int, int]] = []
    for m in range(start, end):
        state: dict[str, bool] = {}
        for component, at, failing in sorted(changes, key=lambda c: c[1]):
            if at <= m:
                state[component] = failing
        in_incident = any(a <= m and (b is None or m < b) for a, b in spans)
        known = bool(state) or any(a <= m for a, _ in spans)
        if not known:
            continue
        observed += 1
        if any(state.values()) or in_incident:
            down += 1
            if runs and runs[-1][1] == m:
                runs[-1] = (runs[-1][0], m + 1)
            else:
                runs.append((m, m + 1))
    return observed, down, runs


changes_st = st.lists(
    st.tuples(st.sampled_from(["ffmpeg", "monitor"]), st.integers(0, 600), st.booleans()),
    max_size=12,
    unique_by=lambda c: (c[0], c[1]),
)
spans_st = st.lists(
    st.tuples(st.integers(0, 600), st.one_of(st.none(), st.integers(1, 300))).map(
        lambda s: (s[0], None if s[1] is None else s[0] + s[1])
    ),
    max_size=3,
)


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=changes_st,
    spans=spans_st,
    start=st.integers(0, 300),
    length=st.integers(1, 400),
    split=st.integers(0, 15),
)
def test_availability_matches_minute_simulation(
    store: Store,
    changes: list[tuple[str, int, bool]],
    spans: list[tuple[int, int | None]],
    start: int,
    length: int,
    split: int,
) -> None:
    """Checked twice: with the stored intervals behind (part of the history arrived after
    the last refresh, possibly out of order) and after a refresh (SQL aggregates)."""
    resource = f"res-{abs(hash((tuple(changes), tuple(spans), start, length, split)))}"
    _record(store, resource, changes[:split], spans[: split // 5])
    with store.write() as session:
        refresh_downtime(session=session)
    _record(store, resource, changes[split:], spans[split // 5 :])
    end = start + length
    observed, down, runs = _brute(changes, spans, start, end)
    first_observed = end - observed
    for refreshed in (False, True):
        if refreshed:
            with store.write() as session:
                rebuilt = refresh_downtime(session=session)
            assert rebuilt == (1 if changes[split:] or spans[split // 5 :] else 0)
        with store.read() as session:
            got = {
                r.resource: r
                for r in availability_by_resource(
                    session=session, start=minute(start), end=minute(end), resources=[resource]
                )
            }
        if observed == 0:
            assert resource not in got or got[resource].observed_seconds == 0
            continue
        r = got[resource]
        assert r.observed_seconds == observed * 60
        assert r.downtime_seconds == down * 60
        assert r.unknown_seconds == (length - observed) * 60
        assert r.availability_percent == pytest.approx(100 * (observed - down) / observed)
        # A failure starts inside the window; down from the first recorded status counts
        # when that status was recorded inside the window (first seen failing).
        first_seen = min([t for _, t, _ in changes] + [a for a, _ in spans])
        seen_failing = bool(runs) and runs[0][0] == first_observed and first_seen >= start
        assert r.failures == sum(1 for a, _ in runs if a > first_observed) + seen_failing
        gaps = [(b[0] - a[1]) * 60 for a, b in pairwise(runs)]
        assert r.mtbf_seconds == (pytest.approx(sum(gaps) / len(gaps)) if gaps else None)


def test_a_resource_first_seen_failing_did_fail(store: Store) -> None:
    _record(store, "first-down", [("ffmpeg", 10, True), ("ffmpeg", 40, False)], [])
    _record(store, "down-before", [("ffmpeg", 0, True), ("ffmpeg", 120, False)], [])
    for stored in (False, True):  # computed from the history, then from stored intervals
        if stored:
            with store.write() as session:
                refresh_downtime(session=session)
        with store.read() as session:
            (seen,) = availability_by_resource(
                session=session, start=minute(0), end=minute(100), resources=["first-down"]
            )
            (before,) = availability_by_resource(
                session=session, start=minute(60), end=minute(100), resources=["down-before"]
            )
        assert seen.failures == 1 and seen.downtime_seconds == 30 * 60  # first seen stopped
        assert before.failures == 0  # already down when the window opened


def test_named_edge_cases(store: Store) -> None:
    # incident spanning both window edges; overlapping incidents; open incident at window end
    _record(store, "edge", [("ffmpeg", 0, False)], [(50, 200), (100, 150), (280, None)])
    with store.read() as session:
        (r,) = availability_by_resource(
            session=session, start=minute(100), end=minute(300), resources=["edge"]
        )
    assert r.downtime_seconds == (100 + 20) * 60  # 100..200 (overlaps once) + 280..300 (still open)
    assert r.unknown_seconds == 0
    assert r.failures == 1  # 280 starts inside; 100 was already down when the window opened
    assert r.sla_band == "Poor"
    assert r.error_budget_seconds == pytest.approx(0.01 * 200 * 60)


def test_incident_moved_to_another_resource_moves_its_downtime(store: Store) -> None:
    ref = make_incident(store, resource="mv-a", detected_at=minute(10))
    with store.write() as session:
        incidents.transition_incident(
            session=session, ref=ref, target="resolved", actor="t", at=minute(40)
        )
        refresh_downtime(session=session)
    with store.write() as session:
        incidents.update_incident(
            session=session,
            settings=store.settings,
            ref=ref,
            data=IncidentUpdate(resource="mv-b"),
            actor="t",
        )
    for refreshed in (False, True):
        if refreshed:
            with store.write() as session:
                assert refresh_downtime(session=session) == 2
        with store.read() as session:
            got = {
                r.resource: r
                for r in availability_by_resource(
                    session=session, start=minute(0), end=minute(60), resources=["mv-a", "mv-b"]
                )
            }
        assert set(got) == {"mv-b"}
        assert got["mv-b"].downtime_seconds == 30 * 60
        assert got["mv-b"].unknown_seconds == 10 * 60


def test_out_of_order_events_and_unknown_time(store: Store) -> None:
    # changes inserted out of order (clock skew); nothing known before minute 60
    _record(
        store, "skew", [("ffmpeg", 120, False), ("ffmpeg", 60, True), ("ffmpeg", 90, False)], []
    )
    with store.read() as session:
        (r,) = availability_by_resource(
            session=session, start=minute(0), end=minute(180), resources=["skew"]
        )
    assert r.unknown_seconds == 60 * 60
    assert r.downtime_seconds == 30 * 60
    assert r.observed_seconds == 120 * 60


def test_dst_boundary_in_local_time_counts_real_hours(store: Store) -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    # 2026-03-29 has 23 hours in Berlin (clocks jump 02:00 -> 03:00)
    start = dt.datetime(2026, 3, 29, 0, 0, tzinfo=berlin)
    end = dt.datetime(2026, 3, 30, 0, 0, tzinfo=berlin)
    with store.write() as session:
        session.add(
            ResourceStateChange(
                state_key="dst\x1f",
                resource="dst",
                component="",
                at=start.astimezone(dt.UTC),
                status="active",
                health="ok",
            )
        )
    with store.read() as session:
        (r,) = availability_by_resource(session=session, start=start, end=end, resources=["dst"])
    assert r.observed_seconds == 23 * 3600
    assert r.availability_percent == 100.0


def test_sla_bands_and_merge() -> None:
    assert [sla_band(p) for p in (99.95, 99.9, 99.5, 96, 94.9, None)] == [
        "Excellent",
        "Excellent",
        "Good",
        "Fair",
        "Poor",
        "Unknown",
    ]
    assert merge([(minute(5), minute(10)), (minute(0), minute(6)), (minute(20), minute(30))]) == [
        (minute(0), minute(10)),
        (minute(20), minute(30)),
    ]


def test_refresh_in_steps_stores_every_resource_then_moves_the_watermarks(store: Store) -> None:
    names = [f"step-{i}" for i in range(5)]
    for i, name in enumerate(names):
        _record(store, name, [("ffmpeg", 0, False), ("ffmpeg", 10 + i, True)], [])
    with store.read() as session:
        before = availability_by_resource(
            session=session, start=minute(0), end=minute(60), resources=names
        )
    assert refresh_in_steps(store=store, step=2) >= 5
    assert refresh_in_steps(store=store, step=2) == 0  # nothing new past the watermarks
    with store.read() as session:
        assert pending_intervals(session=session, resources=names).since == {}
        after = availability_by_resource(
            session=session, start=minute(0), end=minute(60), resources=names
        )
    assert after == before
    assert [r.downtime_seconds for r in after] == [(50 - i) * 60 for i in range(5)]


def test_the_job_runner_refreshes(store: Store) -> None:
    import time

    from vigil.feed import follower_lag
    from vigil.jobs.runner import JobRunner

    _record(store, "bg", [("ffmpeg", 0, True)], [])
    fast = Store(
        store.settings.model_copy(
            update={"heartbeat_check_seconds": 0.02, "analytics_refresh_seconds": 0.05}
        )
    )
    runner = JobRunner(fast, tick=0.02)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with store.read() as session:
                if pending_intervals(session=session, resources=["bg"]).since == {}:
                    break
            time.sleep(0.05)
    finally:
        runner.stop()
        fast.close()
    with store.read() as session:
        assert pending_intervals(session=session, resources=["bg"]).since == {}
        lags = follower_lag(session=session)
    assert {(lag.follower, lag.log, lag.rows) for lag in lags} == {
        ("availability", "resource_state_changes", 0),
        ("availability", "timeline_entries", 0),
    }


def test_refresh_never_waits_for_busy_writers(store: Store) -> None:
    import time

    _record(store, "busy", [("ffmpeg", 0, True)], [])
    blocker = store.engine.connect()
    try:
        if store.backend == "postgresql":
            # A batch in flight holds the timeline; the refresh takes no lock to wait behind.
            blocker.exec_driver_sql("LOCK TABLE timeline_entries IN ROW EXCLUSIVE MODE")
            t = time.monotonic()
            with store.write() as session:
                refresh_downtime(session=session)
            assert time.monotonic() - t < 5
        else:
            # On SQLite an open reader never stands in the refresh's way (WAL).
            blocker.exec_driver_sql("SELECT count(*) FROM incidents").all()
    finally:
        blocker.rollback()
        blocker.close()
    with store.write() as session:
        refresh_downtime(session=session)
    with store.read() as session:
        assert pending_intervals(session=session, resources=["busy"]).since == {}


def test_planned_maintenance_is_left_out_of_the_sla_and_shown_apart(store: Store) -> None:
    from vigil.ingest import maintenance

    _record(store, "db-1", [("pg", 0, False), ("pg", 100, True), ("pg", 160, False)], [])
    _record(store, "web-1", [("nginx", 0, False), ("nginx", 100, True), ("nginx", 160, False)], [])
    with store.write() as session:
        maintenance.create_window(
            session=session, name="upgrade", resource="db-*", starts_at=minute(120),
            ends_at=minute(180), actor="t", reason="major version upgrade",
        )  # fmt: skip
    for refreshed in (False, True):
        if refreshed:
            with store.write() as session:
                refresh_downtime(session=session)
        with store.read() as session:
            rows = {
                r.resource: r
                for r in availability_by_resource(session=session, start=minute(0), end=minute(300))
            }
            raw = availability_by_resource(
                session=session, start=minute(0), end=minute(300), resources=["db-1"],
                exclude_maintenance=False,
            )[0]  # fmt: skip
        db, web = rows["db-1"], rows["web-1"]
        assert db.maintenance_seconds == 60 * 60 and db.maintenance_downtime_seconds == 40 * 60
        assert db.downtime_seconds == 60 * 60  # all of it is still reported
        assert db.availability_percent == pytest.approx(100 * 220 / 240)
        assert db.error_budget_remaining_seconds == pytest.approx(0.01 * 240 * 60 - 20 * 60)
        assert raw.availability_percent == pytest.approx(100 * 240 / 300)
        assert web.maintenance_seconds == 0 and web.availability_percent == pytest.approx(80.0)
