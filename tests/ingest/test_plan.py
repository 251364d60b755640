"""Planning a batch needs no database: what each signal does, decided from states and incidents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vigil.config import Settings
from vigil.incidents.changes import IncidentChange
from vigil.ingest.plan import PlannedOpen, plan_batch
from vigil.ingest.signals import Signal

T0 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


class _NoWindows:
    def covering(self, sig: Signal) -> Any | None:
        return None


def _sig(status: str, health: str, minute: int, severity: str | None = "medium") -> Signal:
    return Signal(
        resource="cam-1",
        component="ffmpeg",
        status=status,
        health=health,  # type: ignore[arg-type]
        occurred_at=T0 + dt.timedelta(minutes=minute),
        source="events",
        sender="monitor",
        dedup_key="events:monitor:cam-1/ffmpeg",
        severity=severity,
    )


def test_open_repeat_escalate_resolve_and_reopen_in_one_batch() -> None:
    states: dict[str, Any] = {}
    active: dict[str, Any] = {}
    signals = [
        _sig("stuck", "failing", 0),
        _sig("stuck", "failing", 1),
        _sig("stopped", "failing", 2, severity="critical"),
        _sig("active", "ok", 3),
        _sig("stuck", "failing", 4),
        _sig("stuck", "failing", 2),  # late: older than the newest sighting
    ]
    plan = plan_batch(signals, states, active, settings=Settings(), windows=_NoWindows(), now=T0)
    assert [o.outcome for o in plan.outcomes] == [
        "opened", "updated", "updated", "resolved", "opened", "late",
    ]  # fmt: skip
    steps = plan.incident_steps
    assert isinstance(steps[0], PlannedOpen) and steps[0].handle == -1
    assert isinstance(steps[1], IncidentChange) and steps[1].fields == {
        "severity": ("medium", "critical")
    }
    resolve = steps[2]
    assert isinstance(resolve, IncidentChange) and resolve.incident_id == -1
    assert resolve.fields["status"] == ("open", "resolved")
    assert isinstance(steps[3], PlannedOpen) and steps[3].handle == -2
    assert {h: s.count for h, s in plan.sightings.items()} == {-1: 2}
    assert [c.status for c in plan.state_changes] == ["stuck", "stopped", "active", "stuck"]
    assert [e.incident for e in plan.events] == [-1, -1, -1, -1, -2, None]
    # What a cache keeps for the next batch: the state and the incident as written.
    assert states["cam-1\x1fffmpeg"].status == "stuck"
    assert active["events:monitor:cam-1/ffmpeg"].id == -2
