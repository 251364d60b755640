"""Periodic on-call work and the command line: reminders in the owner's morning, test pages,
imported calendar URLs, the coverage check's exit code."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

import vigil.oncall.scheduled  # noqa: F401  (registers the owners' time zones for reminders)
from tests.notify.receivers import webhook_receiver
from tests.oncall.builders import declare, person, policy, rotation
from tests.oncall.test_oncall import ROTA
from tests.server import free_port
from vigil.cli import app
from vigil.config import Settings
from vigil.crypto import new_key
from vigil.db.store import Store
from vigil.notify import service as notify
from vigil.notify.models import Notification
from vigil.notify.reminders import queue_reminders
from vigil.oncall import schedules
from vigil.oncall.flows import refresh_calendars, send_due_test_pages
from vigil.oncall.models import ScheduleLayer

UTC = dt.UTC


@pytest.fixture
def keyed(settings: Settings) -> Iterator[Store]:
    store = Store(settings.model_copy(update={"secret_key": SecretStr(new_key())}))
    yield store
    store.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_action_reminders_come_in_the_owners_morning_and_count_their_day(keyed: Store) -> None:
    from vigil.postmortems.actions import create_action
    from vigil.postmortems.schemas import ActionItemCreate

    with webhook_receiver() as hook:
        person(keyed, "kai", hook.url, tz="Pacific/Auckland")
        with keyed.write() as session:
            notify.add_channel(
                session=session, settings=keyed.settings, name="hook", url=hook.url, kind="webhook"
            )
            notify.add_route(
                session=session, channel="hook",
                spec=notify.RouteSpec(events=["action_due_soon", "action_overdue"], min_severity=None),
            )  # fmt: skip
        ref = declare(keyed, severity="low")
        with keyed.write() as session:
            create_action(
                session=session,
                ref=ref,
                data=ActionItemCreate(
                    title="Add a check", due_date=dt.date(2026, 12, 2), owner="kai"
                ),
            )
        early = dt.datetime(2026, 12, 2, 18, tzinfo=UTC)  # 07:00 on 3 December in Auckland
        with keyed.write() as session:
            assert queue_reminders(session=session, now=early) == 0
        morning = dt.datetime(2026, 12, 2, 21, tzinfo=UTC)  # 10:00 there
        with keyed.write() as session:
            assert queue_reminders(session=session, now=morning) == 1
            assert queue_reminders(session=session, now=morning + dt.timedelta(hours=1)) == 0
            row = session.execute(
                select(Notification).where(Notification.event.like("action%"))
            ).scalar_one()
    assert row.event == "action_overdue" and row.key.endswith(":2026-12-03")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_periodic_test_pages_reach_each_verified_contact_once_per_interval(keyed: Store) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url, test_page_days=7)
        person(keyed, "bob", hook.url)
        assert send_due_test_pages(keyed) == "1 test page(s) sent to 1 person(s)"
        assert send_due_test_pages(keyed) == "0 test page(s) sent to 0 person(s)"
    pages = [r.json() for r in hook.received if r.json().get("event") == "test_page"]
    assert [p["person"] for p in pages] == ["ann"]


@contextmanager
def _calendar_server(state: dict[str, Any]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state["body"].encode()
            self.send_response(state["status"])
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_a: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/rota.ics"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_imported_calendar_url_is_fetched_and_the_last_good_copy_kept(keyed: Store) -> None:
    state: dict[str, Any] = {"status": 200, "body": ROTA}
    with webhook_receiver() as hook, _calendar_server(state) as url:
        person(keyed, "ann", hook.url)
        person(keyed, "bob", hook.url)
        with keyed.write() as session:
            schedules.add_schedule(session=session, name="rota", time_zone="Europe/Berlin")
            schedules.add_layer(
                session=session,
                schedule="rota",
                spec=schedules.LayerSpec(name="import", ical_url=url),
            )
        assert refresh_calendars(keyed) == "1 of 1 calendar(s) fetched"
        state["status"] = 500
        assert refresh_calendars(keyed) == "0 of 1 calendar(s) fetched"
    with keyed.read() as session:
        layer = session.execute(select(ScheduleLayer)).scalar_one()
        on_call = schedules.who_is_on_call(
            session=session, at=dt.datetime(2026, 12, 7, 10, tzinfo=UTC)
        )
    assert layer.ical_error == "HTTP 500" and on_call["rota"].people == ("ann",)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_cli_check_exits_1_on_a_gap_and_lists_read_well(
    keyed: Store, settings: Settings
) -> None:
    with webhook_receiver() as hook:
        person(keyed, "ann", hook.url)
        rotation(keyed, "day", ["ann"], shift="daily", restrict=("mon-fri 09:00-17:00",))
        policy(keyed, "default", (5, ["schedule:day"]))
    runner = CliRunner()
    env = {
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_SECRET_KEY": keyed.settings.secret_key.get_secret_value(),
    }  # type: ignore[union-attr]
    checked = runner.invoke(app, ["oncall", "check", "--days", "7"], env=env)
    assert checked.exit_code == 1 and "gap: schedule day has nobody on call" in checked.output
    listed = runner.invoke(app, ["people", "list"], env=env)
    assert (
        listed.exit_code == 0
        and "mon-fri 09:00-17:00" in listed.output
        and "chat (webhook)" in listed.output
    )
    bad = runner.invoke(
        app, ["schedule", "layer", "add", "day", "x", "--participants", "ghost"], env=env
    )
    assert (
        bad.exit_code == 2
        and "nobody has the handle(s) ghost" in bad.output
        and "Traceback" not in bad.output
    )
