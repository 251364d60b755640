"""The worked example of docs/oncall.md, run as written against local receivers."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.cli_fork_server import fork_server
from tests.notify.receivers import smtp_receiver, text_of, webhook_receiver
from vigil.app import create_app
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.notify.scheduled import deliverer_for
from vigil.oncall import paging_stats
from vigil.oncall.paging import follow_incident_changes
from vigil.oncall.steps import fire_due_steps

DOC = Path(__file__).parents[2] / "docs" / "oncall.md"
MIN = dt.timedelta(minutes=1)


def _blocks() -> list[str]:
    text = DOC.read_text().split("## Worked example", 1)[1]
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def _env(settings: Settings, key: str, smtp: str, chat: str, bin_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
        "VIGIL_SECRET_KEY": key,
        "VIGIL_SMTP_URL": smtp,
        "CHAT": chat,
    }


def _sh(script: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _pages(hook: object, who: str) -> list[dict]:
    return [
        r.json()
        for r in hook.received
        if r.path == f"/hook/{who}" and r.json().get("event") == "page"
    ]  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the flow, not the backend
def test_worked_example_pages_chat_then_email_then_the_next_step_until_acknowledged(
    settings: Settings,
) -> None:
    key = new_key()
    setup, rules = _blocks()
    with smtp_receiver() as mailbox, webhook_receiver() as hook, fork_server() as bin_dir:
        smtp = mailbox.url.replace("&to=oncall@example.com", "")
        env = _env(settings, key, smtp, hook.url, bin_dir)
        _sh(setup, env)
        for who in ("ann", "bob", "cy"):
            chat = next(r.json() for r in hook.received if r.path == f"/hook/{who}")
            _sh(f"vigil people confirm {who} chat {chat['code']}", env)
            mail = next(text_of(m) for m in mailbox.messages if m["To"] == f"{who}@example.com")
            code = re.search(r"code for contact method email is (\d{6})", mail)
            assert code, mail
            _sh(f"vigil people confirm {who} email {code.group(1)}", env)
        out = _sh(rules, env)
        assert "payments:" in out and "NOBODY" not in out.split("\n")[0]
        on_call = json.loads(_sh("vigil oncall now payments --json", env))["payments"]["people"]
        assert len(on_call) == 1
        first = on_call[0]
        opened = _sh("vigil event send payments-db down --severity high --json", env)
        ref = json.loads(opened)["incident_id"]

        store = Store(
            settings.model_copy(update={"secret_key": SecretStr(key), "smtp_url": SecretStr(smtp)})
        )
        try:
            deliverer = deliverer_for(store)
            t0 = dt.datetime.now(dt.UTC)
            with store.write() as session:
                follow_incident_changes(session=session, now=t0)
                assert fire_due_steps(session=session, now=t0) == 1
            deliverer.deliver_once(now=t0 + dt.timedelta(seconds=1))
            assert [p["incident"]["id"] for p in _pages(hook, first)] == [ref]
            mails_before = len(mailbox.messages)
            deliverer.deliver_once(now=t0 + 1 * MIN)
            assert len(mailbox.messages) == mails_before, "email waits for the rule's 2 minutes"
            deliverer.deliver_once(now=t0 + 2 * MIN + dt.timedelta(seconds=1))
            assert any(
                m["To"] == f"{first}@example.com" and ref in text_of(m)
                for m in mailbox.messages[mails_before:]
            )

            with store.write() as session:
                assert fire_due_steps(session=session, now=t0 + 4 * MIN) == 0, (
                    "step 1 waits 5 minutes"
                )
                assert (
                    fire_due_steps(session=session, now=t0 + 5 * MIN + dt.timedelta(seconds=1)) == 1
                )
            deliverer.deliver_once(now=t0 + 5 * MIN + dt.timedelta(seconds=2))
            step2 = [p for p in _pages(hook, "bob") if "step 2 of 2" in p["change"]["what"]]
            assert len(step2) == 1

            link = urlsplit(step2[0]["actions"]["acknowledge"])
            token = parse_qs(link.query)["token"][0]
            with TestClient(create_app(store.settings)) as client:
                assert client.post("/act", data={"token": token}).status_code == 200
            with store.write() as session:
                follow_incident_changes(session=session)
            seen = len(hook.received), len(mailbox.messages)
            deliverer.deliver_once(now=t0 + 30 * MIN)
            with store.write() as session:
                assert fire_due_steps(session=session, now=t0 + 60 * MIN) == 0
            deliverer.deliver_once(now=t0 + 60 * MIN)
            assert (len(hook.received), len(mailbox.messages)) == seen, "acknowledging stopped it"
            with store.read() as session:  # the test's clock ran 60 minutes ahead
                paging = paging_stats(session=session, start=t0 - MIN, end=t0 + 61 * MIN)
        finally:
            store.close()
        shown = _sh(f"vigil show {ref}", env)
        status = json.loads(_sh(f"vigil escalation status {ref} --json", env))
        listed = json.loads(_sh("vigil list --assignee bob --json", env))
        by_assignee = json.loads(_sh("vigil report response --group-by assignee -f json", env))
        assert json.loads(_sh("vigil report paging --json", env))  # pages so far (clock: now)
        learning = json.loads(_sh("vigil report learning --json", env))
    assert status["state"] == "acknowledged"
    assert "On call" in shown and "policy payments" in shown and "acknowledged" in shown
    assert [i["id"] for i in listed["items"]] == [ref]
    assert [(g["group"], g["mtta"]["count"]) for g in by_assignee] == [("bob", 1)]
    assert first in {p["person"] for p in learning["paging"]}
    stats = {p.person: p for p in paging}
    assert stats["bob"].pages >= 1 and stats["bob"].acknowledged == 1
    assert stats[first].pages >= 1
    for words in (
        "step 1 of 2",
        "step 2 of 2",
        f"paged {first}",
        "Page to bob via chat",
        "Assigned to bob",
    ):
        assert words in shown, words
