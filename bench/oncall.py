"""On-call: who is on call, final schedules and their iCalendar, the escalation tick, and the
time from a failing event to the first page.

    python -m bench oncall

Cases (SQLite file; the page latency through `vigil serve` and a webhook receiver this
benchmark starts on 127.0.0.1):

* who is on call now for 1,000 schedules of 3 layers (weekly, daily restricted to business
  hours, 12-hour) with 2 overrides each: one call, from the database (target 100 ms);
* the final schedule of one such schedule over a year, and its iCalendar export (targets
  50 ms and 200 ms);
* one escalation tick with 10,000 climbing incidents, 1,000 of them due, each step paging a
  person with two rules: database and Python time, rolled back between runs (target 50 ms);
* failing event -> first page at the receiver, 100 events one at a time (p99 target 1 s);
* server CPU for the batch mix with one escalation policy paging one person vs none.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import insert
from tests.notify.receivers import webhook_receiver
from tests.oncall.builders import person, policy
from tests.server import free_port

from bench.databases import database
from bench.notify import _batches, _serve, _stop, ingest_cpu
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.incidents import NewIncident, apply_changes
from vigil.oncall import schedules
from vigil.oncall.feeds import schedule_feed
from vigil.oncall.models import IncidentEscalation, Override, Person, Schedule, ScheduleLayer
from vigil.oncall.steps import fire_due_steps

UTC = dt.UTC


class _AbortError(Exception):
    """Ends a measured transaction with a rollback."""


def _median(fn: Any, runs: int = 7) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _seed_schedules(store: Store, n: int) -> None:
    start = dt.datetime(2026, 12, 1, tzinfo=UTC)
    with store.write() as session:
        session.execute(
            insert(Person),
            [
                {
                    "handle": f"p{i}",
                    "name": f"P {i}",
                    "time_zone": "UTC",
                    "working_hours": [],
                    "test_page_days": 0,
                }
                for i in range(100)
            ],
        )
        session.execute(
            insert(Schedule),
            [{"name": f"s{i}", "time_zone": "Europe/Berlin", "description": ""} for i in range(n)],
        )
        ids = {s.name: s.id for s in session.query(Schedule)}
        layers, overrides = [], []
        for i in range(n):
            sid = ids[f"s{i}"]
            base = [f"p{(i + k) % 100}" for k in range(4)]
            layers += [
                {
                    "schedule_id": sid,
                    "name": "weekly",
                    "position": 1,
                    "kind": "rotation",
                    "participants": base,
                    "handoff": "2026-01-05T09:00",
                    "length_minutes": 10080,
                    "restrictions": [],
                },
                {
                    "schedule_id": sid,
                    "name": "business",
                    "position": 2,
                    "kind": "rotation",
                    "participants": base[:3],
                    "handoff": "2026-01-05T09:00",
                    "length_minutes": 1440,
                    "restrictions": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
                },
                {
                    "schedule_id": sid,
                    "name": "halves",
                    "position": 3,
                    "kind": "rotation",
                    "participants": base[1:],
                    "handoff": "2026-01-05T21:00",
                    "length_minutes": 720,
                    "restrictions": [{"days": [5, 6], "start": "00:00", "end": "23:59"}],
                },
            ]
            for k in range(2):
                overrides.append(
                    {
                        "schedule_id": sid,
                        "kind": "replace",
                        "start": start + dt.timedelta(days=3 * k),
                        "end": start + dt.timedelta(days=3 * k + 2),
                        "person": f"p{(i + 50) % 100}",
                        "replaces": base[0],
                        "note": "",
                        "created_by": "bench",
                    }
                )
        session.execute(insert(ScheduleLayer), layers)
        session.execute(insert(Override), overrides)


def bench_schedules() -> None:
    with database("sqlite") as settings:
        store = Store(settings)
        _seed_schedules(store, 1000)
        now = dt.datetime(2026, 12, 2, 12, tzinfo=UTC)
        with store.read() as session:
            who = _median(lambda: schedules.who_is_on_call(session=session, at=now))

            def cold() -> None:
                from vigil.oncall import shapes, wallclock

                shapes._ROTATIONS.clear()
                wallclock._instant.cache_clear()
                schedules.who_is_on_call(session=session, at=now)

            who_cold = _median(cold)
            found = schedules.who_is_on_call(session=session, at=now)
            assert len(found) == 1000 and all(d.people for d in found.values())

            def year() -> list[Any]:
                end = now + dt.timedelta(days=365)
                return schedules.final_schedule(session=session, schedule="s7", start=now, end=end)

            final_ms = _median(year)
            pieces = len(year())
            feed_ms = _median(lambda: schedule_feed(session=session, schedule="s7", now=now))
        store.close()
    print(
        f"[sqlite] who is on call now, 1,000 schedules x 3 layers + overrides: {who:.1f} ms (target 100 ms, {100 / who:.1f}x under)"
    )
    print(
        f"[sqlite] the same with cold caches (a fresh process): {who_cold:.1f} ms "
        f"({100 / who_cold:.1f}x under the target)"
    )
    print(
        f"[sqlite] final schedule, one schedule over a year ({pieces} pieces): {final_ms:.1f} ms (target 50 ms, {50 / final_ms:.1f}x under)"
    )
    print(
        f"[sqlite] its iCalendar feed (97 days of shifts): {feed_ms:.1f} ms (target 200 ms, {200 / feed_ms:.1f}x under)"
    )
    print(f"[sqlite] ratio final-year / who-is-on-call-for-1,000: {final_ms / who:.2f}")


def bench_tick(active: int = 10_000, due: int = 1000) -> None:
    with database("sqlite") as base:
        settings = base.model_copy(update={"secret_key": SecretStr(new_key())})
        store = Store(settings)
        person(store, "ann", "https://hooks.example.com/ann")
        with store.write() as session:
            from vigil.oncall import people

            people.add_contact(
                session=session,
                settings=settings,
                handle="ann",
                label="chat2",
                kind="webhook",
                address="https://hooks.example.com/ann2",
            )
        policy(store, "default", (5, ["person:ann"]), (5, ["person:ann"]))
        now = dt.datetime.now(UTC)
        with store.write() as session:
            apply_changes(session=session, changes=[
                NewIncident(human_id=f"B-{i}", title=f"load {i}", category="SYSTEM_ERROR", severity="high", detected_at=now, actor="bench", source="bench")
                for i in range(active)
            ])  # fmt: skip
            from sqlalchemy import select

            from vigil.incidents import Incident

            ids = list(session.execute(select(Incident.id)).scalars())
            steps = [
                {"delay_minutes": 5, "targets": [{"person": "ann"}]},
                {"delay_minutes": 5, "targets": [{"person": "ann"}]},
            ]
            session.execute(insert(IncidentEscalation), [
                {"incident_id": pk, "policy": "default", "steps": steps, "repeat": 0, "urgency": "high", "step": 0, "round": 0, "state": "climbing",
                 "next_at": now - dt.timedelta(seconds=1) if n < due else now + dt.timedelta(hours=1), "paged": [], "started_at": now}
                for n, pk in enumerate(ids)
            ])  # fmt: skip

        def tick() -> None:
            try:
                with store.write() as session:
                    fired = fire_due_steps(session=session, now=now)
                    assert fired == due, fired
                    raise _AbortError
            except _AbortError:
                pass

        ms = _median(tick, runs=5)
        store.close()
    print(
        f"[sqlite] escalation tick, {active:,} climbing, {due:,} due (2 pages + 1 timeline entry each): {ms:.1f} ms (target 50 ms, {50 / ms:.2f}x)"
    )


def bench_page_latency(n: int = 100) -> None:
    with database("sqlite") as base, webhook_receiver() as hook:
        settings: Settings = base.model_copy(update={"secret_key": SecretStr(new_key())})
        store = Store(settings)
        person(store, "ann", hook.url)
        policy(store, "default", (5, ["person:ann"]))
        store.close()
        port = free_port()
        proc, token = _serve(settings, port)
        lock = threading.Lock()
        try:
            waits = []
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ) as c:
                for i in range(n):
                    with lock:
                        seen = len(hook.received)
                    t = time.perf_counter()
                    r = c.post("/api/v1/events", json={"resource": f"page-{i}", "status": "down"})
                    assert r.status_code == 202, r.text
                    while len(hook.received) == seen and time.perf_counter() - t < 5:
                        time.sleep(0.0005)
                    waits.append((time.perf_counter() - t) * 1000)
        finally:
            _stop(proc)
    waits.sort()
    p50, p99 = statistics.median(waits), waits[int(len(waits) * 0.99) - 1]
    print(
        f"[sqlite] failing event -> first page at a local webhook: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {n} (target p99 1 s, {1000 / p99:.1f}x under)"
    )


def _one_policy(store: Store, url: str) -> None:
    person(store, "ann", url)
    policy(store, "default", (5, ["person:ann"]))


def bench_ingest_with_policy(rounds: int = 3, n: int = 40) -> None:
    """The same batches with and without an escalation policy: server CPU, alternating."""
    batches = _batches(n)
    plain, paging, sent = [], [], 0
    for r in range(rounds):
        for with_policy in (False, True) if r % 2 == 0 else (True, False):
            cpu, messages = ingest_cpu(batches, _one_policy if with_policy else None)
            (paging if with_policy else plain).append(cpu)
            sent = max(sent, messages)
    a, b = statistics.median(plain), statistics.median(paging)
    print(
        f"[sqlite] server CPU for {(n - 1) * 1000:,} ingested events: no policy {a:.2f} s, one "
        f"policy paging one person {b:.2f} s ({sent} messages); ingest capacity ratio {a / b:.3f}"
    )


def run() -> None:
    bench_schedules()
    bench_tick()
    bench_page_latency()
    bench_ingest_with_policy()
