"""Notifications through real `vigil serve` and `vigil worker` processes on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from tests.notify.receivers import (
    smtp_receiver,
    text_of,
    verify_signature,
    webhook_receiver,
)
from tests.server import running, start, stop
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.notify.models import Notification


def _cli(settings: Settings, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args], env=full, capture_output=True, text=True, timeout=60
    )


def _wait(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.01)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the flow, not the backend
def test_new_user_email_and_webhook_then_acknowledge_from_the_email(settings: Settings) -> None:
    env = {"VIGIL_SECRET_KEY": new_key()}
    with smtp_receiver() as mailbox, webhook_receiver() as hook:
        added = _cli(settings, env, "channel", "add", "mail", mailbox.url, "--default")
        assert added.returncode == 0, added.stderr
        added = _cli(settings, env, "channel", "add", "hook", hook.url, "--webhook", "--default")
        assert added.returncode == 0, added.stderr
        secret = added.stdout.strip().splitlines()[-1]
        with running(settings, env_extra=env) as server:
            h = {"Authorization": f"Bearer {server.token}"}
            sent = time.monotonic()
            r = httpx.post(
                f"{server.base}/api/v1/events",
                json={"resource": "db-1", "status": "down", "summary": "primary unreachable"},
                headers=h,
                timeout=10,
            )
            assert r.status_code == 202, r.text
            ref = r.json()["incidents"][0]
            _wait(lambda: mailbox.messages and hook.received, 5)
            took = time.monotonic() - sent
            assert mailbox.messages and hook.received
            assert took < 1.0, f"first notifications after {took:.2f} s"
            assert verify_signature(secret, hook.received[0])
            assert hook.received[0].json()["incident"]["id"] == ref
            body = text_of(mailbox.messages[0])
            link = re.search(r"Acknowledge: (\S+)", body)
            assert link, body
            url = urlsplit(link.group(1))
            assert f"{url.scheme}://{url.netloc}" == server.base
            page = httpx.get(link.group(1), headers={"Accept": "text/html"}, timeout=10)
            assert page.status_code == 200 and ref in page.text
            token = parse_qs(url.query)["token"][0]
            done = httpx.post(f"{server.base}/act", data={"token": token}, timeout=10)
            assert done.status_code == 200, done.text
            timeline = httpx.get(
                f"{server.base}/api/v1/incidents/{ref}/timeline", headers=h, timeout=10
            ).json()
            assert timeline[-1]["actor"] == "link via channel mail"
            assert timeline[-1]["kind"] == "status_changed"
            _wait(lambda: len(hook.received) >= 2, 5)
            log = httpx.get(
                f"{server.base}/api/v1/notifications",
                params={"incident": ref},
                headers=h,
                timeout=10,
            ).json()
        shown = _cli(settings, env, "show", ref)
    assert shown.returncode == 0 and "Notifications" in shown.stdout and "sent" in shown.stdout
    assert {(n["channel"], n["event"], n["state"]) for n in log} >= {
        ("mail", "opened", "sent"),
        ("hook", "opened", "sent"),
    }
    assert all(n["answer"] for n in log if n["state"] == "sent")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the flow, not the backend
def test_serve_refuses_to_start_with_channels_but_no_key(settings: Settings) -> None:
    env = {"VIGIL_SECRET_KEY": new_key()}
    assert _cli(settings, env, "channel", "add", "x", "json://127.0.0.1:9/").returncode == 0
    refused = _cli(settings, {"VIGIL_SECRET_KEY": ""}, "worker")
    assert refused.returncode != 0 and "VIGIL_SECRET_KEY" in refused.stderr
    assert "Traceback" not in refused.stderr
    wrong = _cli(settings, {"VIGIL_SECRET_KEY": new_key()}, "worker")
    assert wrong.returncode != 0 and "cannot be decrypted" in wrong.stderr


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the flow, not the backend
def test_sigkill_during_a_burst_loses_nothing(settings: Settings) -> None:
    env = {"VIGIL_SECRET_KEY": new_key(), "VIGIL_NOTIFY_BUNDLE_AFTER": "0"}
    with webhook_receiver() as hook:
        assert (
            _cli(
                settings, env, "channel", "add", "hook", hook.url, "--webhook", "--default"
            ).returncode
            == 0
        )
        server = start(settings, env_extra=env)
        h = {"Authorization": f"Bearer {server.token}"}
        accepted: list[str] = []
        with httpx.Client(base_url=server.base, headers=h, timeout=10) as client:
            for i in range(40):
                r = client.post("/api/v1/events", json={"resource": f"burst-{i}", "status": "down"})
                accepted += r.json()["incidents"]
                if i == 25:
                    server.proc.send_signal(signal.SIGKILL)
                    server.proc.wait()
                    break
        server = start(settings, env_extra=env)  # the same database, a new process
        try:
            _wait(
                lambda: {r.json()["incident"]["id"] for r in hook.delivered()} >= set(accepted), 20
            )
        finally:
            stop(server)
    got = {r.json()["incident"]["id"] for r in hook.delivered()}
    assert set(accepted) <= got, f"lost: {set(accepted) - got}"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_servers_and_a_worker_on_postgresql_send_each_message_once(settings: Settings) -> None:
    env = {"VIGIL_SECRET_KEY": new_key(), "VIGIL_NOTIFY_BUNDLE_AFTER": "0"}
    with webhook_receiver() as hook:
        assert (
            _cli(
                settings, env, "channel", "add", "hook", hook.url, "--webhook", "--default"
            ).returncode
            == 0
        )
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
            opened: list[str] = []
            for i in range(60):
                base = servers[i % 2].base
                r = httpx.post(
                    f"{base}/api/v1/events",
                    json={"resource": f"pg-{i}", "status": "down"},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                opened += r.json()["incidents"]
            _wait(lambda: len(hook.delivered()) >= 60, 20)
            time.sleep(1.5)  # anything sent twice would arrive meanwhile
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            for s in servers:
                stop(s)
    keys = Counter(r.headers["idempotency-key"] for r in hook.delivered())
    assert len(keys) == 60 and max(keys.values()) == 1
    store = Store(settings)
    with store.read() as session:
        states = Counter(n.state for n in session.execute(select(Notification)).scalars())
    store.close()
    assert states == {"sent": 60}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_channel_url_from_standard_input(settings: Settings) -> None:
    env = {"VIGIL_SECRET_KEY": new_key()}
    full = {
        **os.environ,
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
        **env,
    }
    url = "mmost://127.0.0.1:9/aVeryPrivateToken123"
    added = subprocess.run(
        [sys.executable, "-m", "vigil", "channel", "add", "chat", "-"],
        input=url + "\n",
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    assert "aVeryPrivateToken123" not in added.stdout + added.stderr
    listed = _cli(settings, env, "channel", "list")
    assert "chat" in listed.stdout and "aVeryPrivateToken123" not in listed.stdout
