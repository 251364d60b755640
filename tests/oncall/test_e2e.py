"""Paging through real `vigil serve` processes: outages, SIGKILL, two servers and a worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest
from pydantic import SecretStr

from tests.notify.receivers import WebhookReceiver, webhook_receiver
from tests.oncall.builders import person, policy, rotation
from tests.server import start, stop
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store


def _wait(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.02)


def _pages(hook: WebhookReceiver, who: str) -> list[str]:
    """Idempotency keys of pages answered 2xx at ``who``'s path."""
    return [
        r.headers["idempotency-key"]
        for r in hook.delivered()
        if r.path == f"/hook/{who}" and r.json().get("event") == "page"
    ]


def _setup(settings: Settings, hook: WebhookReceiver, key: str) -> None:
    store = Store(settings.model_copy(update={"secret_key": SecretStr(key)}))
    try:
        person(store, "ann", hook.url + "/ann")
        person(store, "bob", hook.url + "/bob")
        rotation(store, "primary", ["ann"])
        policy(store, "default", (0.05, ["schedule:primary"]), (0.05, ["person:bob"]))
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the flow, not the backend
def test_a_page_survives_a_receiver_outage_and_a_sigkill_and_arrives_once_per_step(
    settings: Settings,
) -> None:
    key = new_key()
    env = {
        "VIGIL_SECRET_KEY": key,
        "VIGIL_NOTIFY_RETRY_SECONDS": "0.2",
        "VIGIL_ESCALATION_POLL_SECONDS": "0.5",
    }
    with webhook_receiver() as hook:
        _setup(settings, hook, key)
        hook.status = 503
        server = start(settings, env_extra=env)
        r = httpx.post(
            f"{server.base}/api/v1/events",
            json={"resource": "payments-db", "status": "down", "summary": "primary unreachable"},
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=10,
        )
        assert r.status_code == 202, r.text
        _wait(lambda: any(x.path == "/hook/ann" for x in hook.received), 10)
        assert any(x.path == "/hook/ann" for x in hook.received), "the first attempt was made"
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        hook.status = 200
        server = start(settings, env_extra=env)
        try:
            _wait(lambda: _pages(hook, "ann") and _pages(hook, "bob"), 30)
            time.sleep(1.0)  # anything sent twice would arrive meanwhile
        finally:
            stop(server)
    ann, bob = Counter(_pages(hook, "ann")), Counter(_pages(hook, "bob"))
    assert len(ann) == 1 and max(ann.values()) == 1, ann
    assert len(bob) == 1 and max(bob.values()) == 1, bob
    assert next(iter(ann)).split(":")[3] == "0" and next(iter(bob)).split(":")[3] == "1"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_servers_and_a_worker_on_postgresql_page_each_person_once_per_step(
    settings: Settings,
) -> None:
    key = new_key()
    env = {"VIGIL_SECRET_KEY": key, "VIGIL_ESCALATION_POLL_SECONDS": "0.3"}
    with webhook_receiver() as hook:
        _setup(settings, hook, key)
        servers = [start(settings, env_extra=env) for _ in range(2)]
        full = {
            **os.environ,
            "VIGIL_DATABASE_URL": str(settings.database_url),
            "VIGIL_DATA_DIR": str(settings.data_dir),
            **env,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "vigil", "worker"],
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            token = next(s.token for s in servers if s.token)
            for i in range(4):
                r = httpx.post(
                    f"{servers[i % 2].base}/api/v1/events",
                    json={"resource": f"db-{i}", "status": "down"},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                assert r.status_code == 202, r.text
            _wait(lambda: len(_pages(hook, "ann")) >= 4 and len(_pages(hook, "bob")) >= 4, 30)
            time.sleep(1.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            for s in servers:
                stop(s)
    ann, bob = Counter(_pages(hook, "ann")), Counter(_pages(hook, "bob"))
    assert len(ann) == 4 and max(ann.values()) == 1, ann
    assert len(bob) == 4 and max(bob.values()) == 1, bob
