"""What a batch of signals does, decided without a database.

:func:`plan_batch` reads the current state of each resource and the active incident of each
dedup key (as loaded, or cached, by :mod:`vigil.ingest.service`) and decides in order what
every signal does: a state change, a sighting, an incident opened, escalated, acknowledged or
resolved, or nothing (late, suppressed, recorded). The result, a :class:`BatchPlan`, is
written by :func:`vigil.ingest.service.write_plan`; incident changes go to the one writer
(:mod:`vigil.incidents.changes`). Incidents a batch opens have no row id yet: the plan names
them by negative handles (-1, -2, …) that the writing step replaces with their ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from vigil.config import Settings
from vigil.incidents import (
    SEVERITIES,
    IncidentChange,
    NewIncident,
    Sightings,
    escalation,
    normalize_category,
    severity_rank,
    transition,
)
from vigil.ingest.signals import Signal

__all__ = [
    "ActiveIncident",
    "BatchPlan",
    "EventRow",
    "PlannedOpen",
    "ResourceStateRow",
    "StateChangeRow",
    "WindowLookup",
    "fill_resources",
    "is_late",
    "plan_batch",
]

_RANK = {name: severity_rank(name) for name in SEVERITIES}


@dataclass(slots=True)
class ResourceStateRow:
    """The current state of one (resource, component), as stored in ``resource_states``."""

    state_key: str
    resource: str
    component: str
    host: str | None
    service: str | None
    status: str
    health: str
    since: dt.datetime
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    labels: dict[str, str]


@dataclass(slots=True)
class ActiveIncident:
    """What ingestion needs of an active incident (an :class:`IncidentView`)."""

    id: int  # negative: opened by the batch being planned, not written yet
    human_id: str
    severity: str
    status: str
    detected_at: dt.datetime
    dedup_key: str
    resource: str | None
    component: str | None
    acknowledged_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    resolution: str | None = None
    root_cause: str | None = None


class StateChangeRow(NamedTuple):
    """One row of ``resource_state_changes``."""

    state_key: str
    resource: str
    component: str
    at: dt.datetime
    status: str
    health: str
    previous_status: str | None


class EventRow(NamedTuple):
    """One row of ``events``; ``incident`` is a row id or a handle of a planned opening."""

    received_at: dt.datetime
    occurred_at: dt.datetime
    source: str
    sender: str
    resource: str
    component: str
    host: str | None
    status: str
    severity: str | None
    summary: str
    dedup_key: str
    labels: dict[str, str]
    details: dict[str, Any]
    incident: int | None
    outcome: str


@dataclass(slots=True)
class PlannedOpen:
    """An incident the batch opens; ``handle`` names it until it has a row id."""

    handle: int
    incident: NewIncident
    active: ActiveIncident


@dataclass(slots=True)
class PlannedOutcome:
    """What one signal did, and to which incident (whose id is real once written)."""

    outcome: str
    incident: ActiveIncident | None = None


@dataclass(slots=True)
class BatchPlan:
    """Everything one batch writes, in the order it must be written."""

    outcomes: list[PlannedOutcome] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    #: Openings and incident changes in signal order (a resolution frees its dedup key
    #: before a later opening reuses it).
    incident_steps: list[PlannedOpen | IncidentChange] = field(default_factory=list)
    sightings: dict[int, Sightings] = field(default_factory=dict)
    new_states: dict[str, ResourceStateRow] = field(default_factory=dict)
    changed_states: dict[str, ResourceStateRow] = field(default_factory=dict)
    #: States only seen again: their ``last_seen_at`` moves, nothing else.
    seen_states: dict[str, ResourceStateRow] = field(default_factory=dict)
    state_changes: list[StateChangeRow] = field(default_factory=list)
    opened: int = 0  # incidents opened so far; the next handle is -1 - opened


class WindowLookup(Protocol):
    """Maintenance windows in force."""

    def covering(self, sig: Signal) -> Any | None:
        """The window that suppresses ``sig``'s incident, if any."""


def is_late(sig: Signal, state: ResourceStateRow | None) -> bool:
    """True for a native event observed before the newest sighting of its resource.

    Only native events carry observation times. Alert webhooks (Alertmanager, Grafana,
    PagerDuty) and heartbeats report their current view when delivered: Alertmanager
    repeats a firing alert with its original ``startsAt``, which is not a late sighting.
    """
    return (
        sig.source == "events"
        and state is not None
        and bool(sig.resource)
        and sig.occurred_at < state.last_seen_at
    )


def _title(sig: Signal) -> str:
    where = (
        f"{sig.component} {sig.status} on {sig.resource}"
        if sig.component
        else f"{sig.resource} {sig.status}"
    )
    return (sig.summary or where)[:300]


def _event(now: dt.datetime, sig: Signal, incident: int | None, outcome: str) -> EventRow:
    return EventRow(
        now,
        sig.occurred_at,
        sig.source,
        sig.sender,
        sig.resource,
        sig.component,
        sig.host,
        sig.status,
        sig.severity,
        sig.summary,
        sig.dedup_key,
        sig.labels,
        sig.details,
        incident,
        outcome,
    )


def fill_resources(signals: list[Signal], active: dict[str, ActiveIncident]) -> None:
    """Give signals that name only a dedup key (PagerDuty acknowledge/resolve) the resource
    and component of the incident they concern."""
    for sig in signals:
        if not sig.resource and sig.dedup_key in active:
            known = active[sig.dedup_key]
            sig.resource, sig.component = known.resource or "", known.component or ""


def plan_batch(
    signals: list[Signal],
    states: dict[str, ResourceStateRow],
    active: dict[str, ActiveIncident],
    *,
    settings: Settings,
    windows: WindowLookup,
    now: dt.datetime,
) -> BatchPlan:
    """Decide what each of ``signals`` does, in order.

    ``states`` (by state key) and ``active`` (by dedup key) are updated to what they will be
    once the plan is written, so a cache can keep them for the next batch.
    """
    plan = BatchPlan()
    for sig in signals:
        # Acknowledge/resolve by dedup key alone (PagerDuty) concern the incident's resource.
        if not sig.resource and sig.dedup_key in active:
            incident = active[sig.dedup_key]
            sig.resource, sig.component = incident.resource or "", incident.component or ""
    for sig in signals:
        key = sig.state_key
        state = states.get(key)
        if is_late(sig, state):
            # Older than what is already known of the resource: it cannot say what the
            # resource is doing now, so it is logged and changes nothing.
            plan.outcomes.append(PlannedOutcome("late"))
            plan.events.append(_event(now, sig, None, "late"))
            continue
        if sig.resource and sig.action != "acknowledge":
            _observe(plan, states, sig, key, state)
        outcome = _incident_step(plan, settings, sig, active, windows)
        plan.outcomes.append(outcome)
        pk = outcome.incident.id if outcome.incident is not None else None
        plan.events.append(_event(now, sig, pk, outcome.outcome))
    return plan


def _observe(
    plan: BatchPlan,
    states: dict[str, ResourceStateRow],
    sig: Signal,
    key: str,
    state: ResourceStateRow | None,
) -> None:
    if state is not None and state.status == sig.status:
        if sig.occurred_at > state.last_seen_at:
            state.last_seen_at = sig.occurred_at
        if key not in plan.new_states and key not in plan.changed_states:
            plan.seen_states[key] = state
        return
    plan.state_changes.append(
        StateChangeRow(
            key,
            sig.resource,
            sig.component,
            sig.occurred_at,
            sig.status,
            sig.health,
            state.status if state else None,
        )
    )
    if state is None:
        state = ResourceStateRow(
            key,
            sig.resource,
            sig.component,
            sig.host,
            sig.service,
            sig.status,
            sig.health,
            sig.occurred_at,
            sig.occurred_at,
            sig.occurred_at,
            sig.labels,
        )
        plan.new_states[key] = states[key] = state
        return
    state.status, state.health, state.since = sig.status, sig.health, sig.occurred_at
    state.last_seen_at = max(state.last_seen_at, sig.occurred_at)
    state.host = sig.host or state.host
    if key not in plan.new_states:
        plan.changed_states[key] = state
        plan.seen_states.pop(key, None)


def _incident_step(
    plan: BatchPlan,
    settings: Settings,
    sig: Signal,
    active: dict[str, ActiveIncident],
    windows: WindowLookup,
) -> PlannedOutcome:
    known = active.get(sig.dedup_key)
    if sig.action == "acknowledge":
        if known is None:
            return PlannedOutcome("recorded")
        if known.status == "open":
            change = transition(known, "acknowledged", actor=sig.sender, at=sig.occurred_at)
            plan.incident_steps.append(change)
            known.status, known.acknowledged_at = "acknowledged", sig.occurred_at
        return PlannedOutcome("acknowledged", known)
    if sig.health == "failing":
        severity = sig.severity or "high"
        if known is not None:
            seen = plan.sightings.get(known.id)
            if seen is None:
                plan.sightings[known.id] = Sightings(1, sig.occurred_at)
            else:
                seen.add(1, sig.occurred_at)
            if _RANK[severity] < _RANK[known.severity]:
                reason = f"{sig.component or sig.resource} {sig.status}"
                plan.incident_steps.append(
                    escalation(known, severity, actor=sig.sender, at=sig.occurred_at, reason=reason)
                )
                known.severity = severity
            return PlannedOutcome("updated", known)
        if windows.covering(sig) is not None:
            return PlannedOutcome("suppressed")
        return PlannedOutcome("opened", _open(plan, settings, sig, severity, active))
    if known is None:
        return PlannedOutcome("recorded")
    what = sig.component or sig.resource
    text = (
        f"Auto-resolved: {what} recovered" if sig.action == "auto" else f"Resolved by {sig.source}"
    )
    at = max(sig.occurred_at, known.detected_at)
    plan.incident_steps.append(
        transition(known, "resolved", actor=sig.sender, at=at, note=text, default_resolution=text)
    )
    del active[sig.dedup_key]
    return PlannedOutcome("resolved", known)


def _open(
    plan: BatchPlan,
    settings: Settings,
    sig: Signal,
    severity: str,
    active: dict[str, ActiveIncident],
) -> ActiveIncident:
    plan.opened += 1
    handle = -plan.opened
    new = NewIncident(
        human_id="",  # numbered when written, in detection order with other writers
        title=_title(sig),
        description=sig.summary,
        category=normalize_category(sig.category or settings.ingest_category, settings.categories),
        severity=severity,
        service=sig.service,
        resource=sig.resource,
        component=sig.component or None,
        host=sig.host,
        labels=sig.labels,
        detected_at=sig.occurred_at,
        dedup_key=sig.dedup_key,
        reported_by=sig.sender,
        actor=sig.sender,
        source=sig.source,
    )
    row = ActiveIncident(
        handle,
        "",
        severity,
        "open",
        sig.occurred_at,
        sig.dedup_key,
        sig.resource,
        sig.component,
    )
    plan.incident_steps.append(PlannedOpen(handle, new, row))
    active[sig.dedup_key] = row
    return row
