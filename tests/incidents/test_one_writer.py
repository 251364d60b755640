"""Only vigil.incidents.changes writes incidents and their timeline, and its rules hold."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tests.factories import at, make_incident
from vigil.db.store import Store
from vigil.errors import InvalidTransitionError
from vigil.incidents import changes, service
from vigil.incidents.models import Incident, TimelineEntry
from vigil.incidents.schemas import IncidentUpdate
from vigil.ingest.heartbeats import check_heartbeats, create_heartbeat
from vigil.ingest.service import ingest_signals
from vigil.ingest.signals import Signal

SRC = Path(__file__).parents[2] / "src" / "vigil"
WRITER = SRC / "incidents" / "changes.py"

#: Every way the code base writes a row: SQL text, Core statements, ORM objects.
_WRITES = [
    re.compile(r"(?i)\bupdate\s+incidents\b"),
    re.compile(r"(?i)\binsert\s+into\s+(incidents|timeline_entries)\b"),
    re.compile(r"\bupdate\(\s*(Incident\b|_INCIDENTS|[^)]*Incident\.__table__)"),
    re.compile(r"\binsert(_all_columns)?\(\s*(Incident\b|TimelineEntry|_ENTRIES|_INCIDENTS)"),
    re.compile(r"\binsert(_all_columns)?\([^)]*(Incident|TimelineEntry)\.__table__"),
    re.compile(r"(?<!class )\b(Incident|TimelineEntry)\("),
    re.compile(r"\bdelete\(\s*(Incident|TimelineEntry)\b"),
    re.compile(r"\bincident\.(?!id\b)\w+\s*[-+]?=(?!=)"),
]


def _offenders() -> Iterator[str]:
    for path in sorted(SRC.rglob("*.py")):
        if path == WRITER or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(p.search(code) for p in _WRITES):
                yield f"{path.relative_to(SRC)}:{number}: {line.strip()}"


def test_no_other_module_writes_incidents_or_timeline_entries() -> None:
    assert list(_offenders()) == []


def test_the_scan_finds_each_kind_of_write() -> None:
    samples = [
        "session.execute(update(Incident).values(severity='low'))",
        "conn.execute(text('UPDATE incidents SET status = 1'))",
        "insert_all_columns(TimelineEntry.__table__)",
        "session.add(TimelineEntry(incident_id=1))",
        "incident.occurrence_count += 1",
        "incident.status = 'open'",
    ]
    for sample in samples:
        assert any(p.search(sample) for p in _WRITES), sample


@pytest.fixture
def orm_writes(store: Store) -> Iterator[list[str]]:
    """ORM flushes that would insert or change incidents or timeline entries."""
    seen: list[str] = []

    def check(session: Session, _ctx: Any, _instances: Any) -> None:
        for obj in [*session.new, *session.dirty]:
            if isinstance(obj, Incident | TimelineEntry) and session.is_modified(obj):
                seen.append(f"{type(obj).__name__} {obj.id}")

    event.listen(Session, "before_flush", check)
    yield seen
    event.remove(Session, "before_flush", check)


def _signal(resource: str, status: str, health: str, minute: int, **kw: Any) -> Signal:
    return Signal(
        resource=resource,
        component="",
        status=status,
        health=health,  # type: ignore[arg-type]
        occurred_at=at(26, 12) + dt.timedelta(minutes=minute),
        source="events",
        sender="test",
        dedup_key=f"events:test:{resource}",
        **kw,
    )


def test_every_path_writes_through_the_writer(store: Store, orm_writes: list[str]) -> None:
    ref = make_incident(store)
    with store.write() as session:
        service.update_incident(
            session=session,
            settings=store.settings,
            ref=ref,
            data=IncidentUpdate(title="new title", severity="critical"),
            actor="a",
        )
        service.add_note(session=session, ref=ref, text="looking", actor="a")
        service.transition_incident(session=session, ref=ref, target="acknowledged", actor="a")
        service.transition_incident(session=session, ref=ref, target="resolved", actor="a")
        service.record_occurrences(session=session, ref=ref, count=2)
    with store.write() as session:
        ingest_signals(
            session=session,
            settings=store.settings,
            signals=[
                _signal("cam", "stuck", "failing", 0, severity="medium"),
                _signal("cam", "stuck", "failing", 1, severity="medium"),
                _signal("cam", "stopped", "failing", 2, severity="critical"),
                _signal("cam", "active", "ok", 3),
                _signal("cam", "stuck", "failing", 4),
            ],
        )
        create_heartbeat(session=session, name="job", interval_seconds=60)
        check_heartbeats(
            session=session,
            settings=store.settings,
            now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )
    assert orm_writes == []
    with store.read() as session:
        kinds = session.execute(select(TimelineEntry.kind)).scalars().all()
    assert kinds.count("created") == 4  # declared, opened twice by events, the heartbeat
    assert kinds.count("status_changed") == 3 and kinds.count("note") == 1


def test_the_writer_checks_the_lifecycle_and_the_status_it_was_decided_on(store: Store) -> None:
    ref = make_incident(store)
    with store.read() as session:
        seen = service.get_incident(session=session, ref=ref)  # read as 'open'
    with store.write() as session:
        service.transition_incident(session=session, ref=ref, target="resolved", actor="a")
    stale = changes.transition(seen, "acknowledged", actor="b")  # decided on 'open'
    with pytest.raises(changes.ConcurrentChangeError), store.write() as session:
        changes.apply_changes(session=session, changes=[stale])
    forged = changes.IncidentChange(
        seen.id, "c", "status_changed", "skip", at(26), {"status": ("resolved", "investigating")}
    )
    with pytest.raises(InvalidTransitionError), store.write() as session:
        changes.apply_change(session=session, change=forged)
    with store.read() as session:
        incident = service.get_incident(session=session, ref=ref)
        assert incident.status == "resolved"
        assert [e.kind for e in service.list_timeline(session=session, ref=ref)] == [
            "created",
            "status_changed",
        ]


def test_sightings_from_two_sessions_both_count(store: Store) -> None:
    """Relative increments: two writers that read the same count do not lose either."""
    ref = make_incident(store, detected_at=at(26, 12))
    with store.read() as session:
        pk = service.get_incident(session=session, ref=ref).id
    for minute in (5, 3):
        with store.write() as session:
            sightings = {pk: changes.Sightings(2, at(26, 12, minute))}
            changes.count_sightings(session=session, sightings=sightings)
    with store.read() as session:
        incident = service.get_incident(session=session, ref=ref)
        assert incident.occurrence_count == 5
        assert incident.last_seen_at == at(26, 12, 5)
