"""Three `vigil serve` and two `vigil worker` processes on one PostgreSQL, under ingestion load
while notifications and escalations flow, one server and one worker SIGKILLed midway."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from tests.notify.receivers import WebhookReceiver, webhook_receiver
from tests.oncall.builders import person, policy, rotation
from tests.server import start, stop
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.incidents import Incident
from vigil.ingest import Event
from vigil.jobs.models import JobState
from vigil.notify import Notification
from vigil.notify import service as notify

OPENS = 12  # failing resources, each opening an incident: notified, then paged twice
PERIOD = 1.0  # heartbeats.check, claimed by any of five processes


def _page_keys(hook: WebhookReceiver, who: str) -> list[str]:
    """Idempotency keys of the pages ``who`` received, alone or inside a digest."""
    keys = []
    for r in hook.delivered():
        if r.path != f"/hook/{who}":
            continue
        body = r.json()
        if body.get("event") == "page":
            keys.append(r.headers["idempotency-key"])
        elif body.get("event") == "digest":
            keys += [i["key"] for i in body.get("items", []) if i.get("event") == "page"]
    return keys


def _wait(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_three_servers_two_workers_lose_nothing_and_run_each_job_once(settings: Settings) -> None:
    key = new_key()
    env = {
        "VIGIL_SECRET_KEY": key,
        "VIGIL_NOTIFY_BUNDLE_AFTER": "0",
        "VIGIL_ESCALATION_POLL_SECONDS": "0.3",
        "VIGIL_HEARTBEAT_CHECK_SECONDS": str(PERIOD),
        "VIGIL_INGEST_REFUSAL_DELAY_SECONDS": "0",
    }
    keyed = settings.model_copy(update={"secret_key": SecretStr(key)})
    with webhook_receiver() as hook:
        store = Store(keyed)
        person(store, "ann", hook.url + "/ann")
        person(store, "bob", hook.url + "/bob")
        rotation(store, "primary", ["ann"])
        policy(store, "default", (0.1, ["schedule:primary"]), (0.1, ["person:bob"]))
        with store.write() as session:
            notify.add_channel(
                session=session, settings=keyed, name="ops", url=hook.url + "/ops",
                kind="webhook", default_route=True,
            )  # fmt: skip
        store.close()
        servers = [start(settings, env_extra=env) for _ in range(3)]
        full = {
            **os.environ, "VIGIL_DATABASE_URL": str(settings.database_url),
            "VIGIL_DATA_DIR": str(settings.data_dir), **env,
        }  # fmt: skip
        workers = [
            subprocess.Popen([sys.executable, "-m", "vigil", "worker"], env=full,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]  # fmt: skip
        token = next(s.token for s in servers if s.token)
        acknowledged: list[int] = []
        unanswered: list[int] = []
        lock = threading.Lock()
        first = Store(settings)
        with first.read() as session:
            runs_before = (
                session.scalar(select(JobState.runs).where(JobState.name == "heartbeats.check"))
                or 0
            )
        first.close()
        started = time.monotonic()

        def send(sender: int) -> None:
            rnd = random.Random(sender)
            for batch in range(20):
                seqs = [sender * 100_000 + batch * 100 + i for i in range(50)]
                events = [
                    {"resource": f"load-{s % 200}", "status": "active", "summary": f"seq {s}"}
                    for s in seqs
                ]
                if batch % 2 == 0 and len(seqs):  # every other batch opens one incident
                    n = sender * (OPENS // 3) + batch // 2
                    if batch // 2 < OPENS // 3:
                        events[0] = {
                            "resource": f"db-{n}",
                            "status": "down",
                            "summary": f"seq {seqs[0]}",
                        }
                alive = [s for s in servers if s.proc.poll() is None]
                target = rnd.choice(alive)
                try:
                    r = httpx.post(f"{target.base}/api/v1/events", json=events,
                                   headers={"Authorization": f"Bearer {token}"}, timeout=20)  # fmt: skip
                    ok = r.status_code == 202
                except httpx.TransportError:
                    ok = False
                with lock:
                    (acknowledged if ok else unanswered).extend(seqs)

        senders = [threading.Thread(target=send, args=(i,)) for i in range(3)]
        try:
            for t in senders:
                t.start()
            time.sleep(2.0)
            servers[0].proc.send_signal(signal.SIGKILL)  # mid-load, holding whatever it held
            workers[0].send_signal(signal.SIGKILL)
            for t in senders:
                t.join(timeout=120)
            probe = Store(settings)
            with probe.read() as session:
                opened = (
                    session.scalar(
                        select(func.count())
                        .select_from(Incident)
                        .where(Incident.resource.like("db-%"))
                    )
                    or 0
                )
            probe.close()
            assert opened >= OPENS // 2, opened  # the killed server's share is lost unanswered

            def settled() -> bool:
                ops = {
                    r.headers["idempotency-key"] for r in hook.delivered() if r.path == "/hook/ops"
                }
                pages = [r for r in hook.delivered() if r.json().get("event") == "page"]
                return (
                    len(ops) >= opened
                    and len({p.headers["idempotency-key"] for p in pages}) >= 2 * opened
                )

            if not _wait(settled, 150):  # a busy machine runs three suites beside this
                paths = Counter(r.path for r in hook.delivered())
                events = Counter(r.json().get("event") for r in hook.delivered())
                keys = {w: len(set(_page_keys(hook, w))) for w in ("ann", "bob")}
                digests = [r.json() for r in hook.delivered() if r.json().get("event") == "digest"]
                raise AssertionError(
                    f"not all arrived: {opened} opened, {paths}, {events}, {keys}, "
                    f"{[sorted({i.get('event') for i in d['items']}) for d in digests]}"
                )
            time.sleep(1.5)  # anything sent twice would arrive meanwhile
            elapsed = time.monotonic() - started
        finally:
            for w in workers:
                if w.poll() is None:
                    w.terminate()
                    w.wait(timeout=30)
            for s in servers[1:]:
                stop(s)
    store = Store(settings)
    with store.read() as session:
        stored = Counter(
            int(summary.split()[1])
            for summary in session.scalars(select(Event.summary).where(Event.summary.like("seq %")))
        )
        states = Counter(session.scalars(select(Notification.state)).all())
        runs = session.scalar(select(JobState.runs).where(JobState.name == "heartbeats.check"))
        incidents = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.channel_name == "ops"))  # fmt: skip
    store.close()
    # Every acknowledged event stored exactly once; an unanswered request at most once.
    assert acknowledged and all(stored[s] == 1 for s in acknowledged)
    assert all(stored[s] <= 1 for s in unanswered)
    # Every notification went out; a process killed between a send and its record may send
    # that one again (at least once, as documented), nothing more.
    assert set(states) == {"sent"}, states
    ops = Counter(r.headers["idempotency-key"] for r in hook.delivered() if r.path == "/hook/ops")
    assert len(ops) == incidents == opened and sum(ops.values()) - len(ops) <= 1, ops
    for who in ("ann", "bob"):
        pages = Counter(_page_keys(hook, who))
        assert len(pages) == opened and sum(pages.values()) - len(pages) <= 1, (who, pages)
    # Five processes, one heartbeat check per period (not five), give or take the edges.
    ran = (runs or 0) - runs_before
    assert 0.5 * elapsed / PERIOD <= ran <= elapsed / PERIOD + 2, (ran, elapsed)
