"""Small builders for on-call tests: people with verified contact methods, schedules, policies."""

from __future__ import annotations

import datetime as dt

from vigil.db.store import Store
from vigil.incidents import service as incidents
from vigil.incidents.schemas import IncidentCreate
from vigil.oncall import people, policies, schedules

UTC = dt.UTC


def person(
    store: Store, handle: str, url: str, *, tz: str = "UTC", verified: bool = True, **kw: object
) -> None:
    """A person with one webhook contact method ``chat`` (verified unless told)."""
    with store.write() as session:
        people.add_person(
            session=session, handle=handle, name=f"{handle.title()} Example", time_zone=tz, **kw
        )  # type: ignore[arg-type]
        people.add_contact(
            session=session,
            settings=store.settings,
            handle=handle,
            label="chat",
            kind="webhook",
            address=url,
        )
        if verified:
            _contact, code = people.new_verification_code(
                session=session, settings=store.settings, handle=handle, label="chat"
            )
            people.confirm_contact(
                session=session, settings=store.settings, handle=handle, label="chat", code=code
            )


def rotation(
    store: Store,
    name: str,
    participants: list[str],
    *,
    handoff: str = "2026-01-05T09:00",
    shift: str = "weekly",
    tz: str = "UTC",
    restrict: tuple[str, ...] = (),
) -> None:
    """A schedule with one rotation layer."""
    with store.write() as session:
        schedules.add_schedule(session=session, name=name, time_zone=tz)
        schedules.add_layer(
            session=session, schedule=name,
            spec=schedules.LayerSpec(name="main", participants=participants, shift=shift, handoff=handoff, restrictions=restrict),
        )  # fmt: skip


def policy(store: Store, name: str, *steps: tuple[float, list[str]], repeat: int = 0) -> None:
    """A policy of ``(delay_minutes, targets)`` steps."""
    with store.write() as session:
        policies.add_policy(
            session=session,
            spec=policies.PolicySpec(
                name=name, steps=[policies.StepSpec(t, d) for d, t in steps], repeat=repeat
            ),
        )


def declare(store: Store, severity: str = "high", title: str = "Checkout down") -> str:
    """Declare an incident; return its ID."""
    with store.write() as session:
        return incidents.create_incident(
            session=session, settings=store.settings,
            data=IncidentCreate(title=title, severity=severity, category="SYSTEM_ERROR"), actor="alice",
        )  # fmt: skip
