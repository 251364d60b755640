"""Firing due escalation steps (see :mod:`vigil.oncall.paging` for the whole mechanism)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, Text, bindparam, select, type_coerce, update
from sqlalchemy.orm import Session

from vigil.db import PreparedStatement, utcnow
from vigil.incidents import Incident, IncidentChange, apply_changes
from vigil.notify import Channel, outbox_row, write_rows
from vigil.oncall.final import ScheduleShape, on_call_at
from vigil.oncall.hours import next_inside
from vigil.oncall.models import IncidentEscalation
from vigil.oncall.paging import ACTOR, Reach, load_reach
from vigil.oncall.shapes import load_shapes
from vigil.oncall.wallclock import zone

__all__ = ["fire_due_steps", "page_person"]

_TABLE = cast(Table, IncidentEscalation.__table__)
#: Where each fired climb goes next, for a whole tick in one executemany.
_ADVANCE = PreparedStatement(
    update(_TABLE)
    .where(_TABLE.c.incident_id == bindparam("pk"))
    .values(
        step=bindparam("new_step"),
        round=bindparam("new_round"),
        state=bindparam("new_state"),
        next_at=bindparam("new_next_at"),
        paged=bindparam("new_paged"),
        fired_at=bindparam("new_fired_at"),
    )
)

_MAX_REPEATS = 12


def _steps(raw: Any) -> list[dict[str, Any]]:
    """A frozen policy's steps: climbs of one policy share the JSON text, decoded once."""
    return _decoded(raw) if isinstance(raw, str) else list(raw)


@lru_cache(maxsize=1024)
def _decoded(raw: str) -> list[dict[str, Any]]:
    return list(json.loads(raw))


def _minutes(seconds: float) -> str:
    return "now" if seconds <= 0 else f"after {seconds / 60:g} min"


def page_person(
    reach: Reach,
    handle: str,
    *,
    urgency: str,
    key: str,
    incident_id: int,
    payload: dict[str, Any],
    now: dt.datetime,
    until: dt.datetime | None,
) -> tuple[list[dict[str, Any]], str]:
    """The outbox rows that page ``handle`` by their rules for ``urgency`` (repeats due before
    ``until``, when the next step fires; after the last step the tick writes them as they
    come due), and how the timeline describes them."""
    person = reach.people.get(handle)
    rules = [r for r in reach.rules.get(handle, []) if r[0].urgency == urgency]
    if person is None or not rules:
        return [], f"{handle} has no verified contact method for {urgency} urgency"
    tz = zone(person.time_zone)
    rows: list[dict[str, Any]] = []
    how = []
    mine = {**payload, "person": handle}  # one dict for all of them: serialized once
    for rule, contact, channel in rules:
        first = now + dt.timedelta(seconds=rule.delay_seconds)
        if urgency == "low":  # high urgency ignores working and quiet hours
            first = next_inside(person.working_hours, first, tz, quiet=person.quiet_hours)
        times = [first]
        if rule.repeat_seconds:
            step = dt.timedelta(seconds=rule.repeat_seconds)
            while len(times) <= _MAX_REPEATS and until is not None and times[-1] + step < until:
                times.append(times[-1] + step)
        for n, at in enumerate(times):
            row = outbox_row(
                key=f"{key}:{rule.id}:{n}", channel=channel, incident_id=incident_id,
                entry_id=None, payload=mine,
                now=now,
            )  # fmt: skip
            row["next_attempt_at"] = at
            rows.append(row)
        extra = f", every {rule.repeat_seconds / 60:g} min" if rule.repeat_seconds else ""
        how.append(f"{contact.label} {_minutes((first - now).total_seconds())}{extra}")
    return rows, f"paged {handle}: " + "; ".join(how)


def _repeating_rules(reach: Reach, handle: str, urgency: str) -> list[tuple[Any, Any, Any]]:
    return [
        r for r in reach.rules.get(handle, []) if r[0].urgency == urgency and r[0].repeat_seconds
    ]


def _next_repeat(
    reach: Reach, paged: list[str], urgency: str, fired: dt.datetime
) -> dt.datetime | None:
    """When the first repeat of the last step's pages is due (None: nothing repeats)."""
    times = [
        fired + dt.timedelta(seconds=rule.delay_seconds + rule.repeat_seconds)
        for handle in paged
        for rule, _c, _ch in _repeating_rules(reach, handle, urgency)
    ]
    return min(times) if times else None


def _repeats(
    reach: Reach, climb: Any, incident: Any, steps: list[dict[str, Any]], now: dt.datetime
) -> tuple[list[dict[str, Any]], dt.datetime | None]:
    """The repeats of the last step's pages due by ``now``, and when the next is due."""
    step, rnd = len(steps) - 1, climb.repeat
    fired = climb.fired_at or now
    payload = _payload(incident, climb.policy, step + 1, len(steps), climb.urgency, fired)
    rows: list[dict[str, Any]] = []
    upcoming: list[dt.datetime] = []
    for handle in climb.paged:
        mine = {**payload, "person": handle}
        for rule, _contact, channel in _repeating_rules(reach, handle, climb.urgency):
            first = fired + dt.timedelta(seconds=rule.delay_seconds)
            every = dt.timedelta(seconds=rule.repeat_seconds)
            due = min(_MAX_REPEATS, int((now - first) / every))
            for n in range(1, due + 1):
                row = outbox_row(
                    key=f"p:{incident.id}:{rnd}:{step}:{handle}:{rule.id}:{n}", channel=channel,
                    incident_id=incident.id, entry_id=None, payload=mine, now=now,
                )  # fmt: skip
                row["next_attempt_at"] = first + n * every
                rows.append(row)
            if due < _MAX_REPEATS:
                upcoming.append(first + (due + 1) * every)
    return rows, (min(upcoming) if upcoming else None)


def _resolve(
    targets: Sequence[dict[str, str]], shapes: dict[str, ScheduleShape], now: dt.datetime
) -> tuple[list[str], list[str], list[str]]:
    """(people, channel names, notes) a step's targets stand for now."""
    people: list[str] = []
    channels: list[str] = []
    notes: list[str] = []
    for t in targets:
        if "person" in t:
            people.append(t["person"])
        elif "schedule" in t:
            shape = shapes.get(t["schedule"])
            found = on_call_at(shape, now).people if shape else ()
            if not found:
                notes.append(f"schedule {t['schedule']} has nobody on call")
            else:
                notes.append(f"schedule {t['schedule']} → {', '.join(found)}")
            people.extend(found)
        else:
            channels.append(t["channel"])
    return list(dict.fromkeys(people)), channels, notes


def _payload(
    incident: Any, policy: str, step: int, steps: int, urgency: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "event": "page", "incident": incident.human_id, "title": incident.title,
        "severity": incident.severity, "status": incident.status,
        "what": f"You are paged: escalation policy {policy}, step {step} of {steps}",
        "by": ACTOR, "at": now.isoformat(), "service": incident.service,
        "resource": incident.resource, "policy": policy, "step": step, "urgency": urgency,
    }  # fmt: skip


def fire_due_steps(*, session: Session, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Fire every step that is due; return how many were fired (skipped ones included)."""
    now = now or utcnow()
    c = _TABLE.c
    due_stmt = (
        select(
            c.incident_id,
            c.policy,
            type_coerce(c.steps, Text).label("steps"),
            c.repeat,
            c.urgency,
            c.step,
            c.round,
            c.paged,
            c.state,
            c.fired_at,
        )
        .where(c.state.in_(("climbing", "repeating")), c.next_at <= now)
        .order_by(c.next_at)
        .limit(limit)
    )
    if session.connection().dialect.name == "postgresql":
        due_stmt = due_stmt.with_for_update(skip_locked=True)
    due = list(session.execute(due_stmt))
    if not due:
        return 0
    incidents = {
        r.id: r
        for r in session.execute(
            select(Incident.id, Incident.human_id, Incident.title, Incident.severity,
                   Incident.status, Incident.service, Incident.resource)
            .where(Incident.id.in_([d.incident_id for d in due]))
        )
    }  # fmt: skip
    names = {
        t["schedule"] for d in due for s in _steps(d.steps) for t in s["targets"] if "schedule" in t
    }
    shapes = load_shapes(session=session, start=now, end=now, names=None) if names else {}
    reach = load_reach(session)
    rows: list[dict[str, Any]] = []
    changes: list[IncidentChange] = []
    updates: list[dict[str, Any]] = []
    fired = 0
    for climb in due:
        incident = incidents.get(climb.incident_id)
        if incident is None:
            continue
        steps = _steps(climb.steps)
        if climb.state == "repeating":
            made, again = _repeats(reach, climb, incident, steps, now)
            rows.extend(made)
            updates.append({
                "pk": climb.incident_id, "new_step": climb.step, "new_round": climb.round,
                "new_state": "repeating" if again else "done", "new_next_at": again,
                "new_paged": list(climb.paged), "new_fired_at": climb.fired_at,
            })  # fmt: skip
            continue
        step, rnd, paged = climb.step, climb.round, list(climb.paged)
        next_at: dt.datetime | None = None
        state = "climbing"
        fired_at = climb.fired_at
        for _ in range(len(steps) * (climb.repeat + 1)):
            spec = steps[step]
            delay = dt.timedelta(minutes=float(spec.get("delay_minutes", 0)))
            last = step == len(steps) - 1 and rnd >= climb.repeat
            label = f"Escalation policy {climb.policy}, step {step + 1} of {len(steps)}" + (
                f" (repeat {rnd})" if rnd else ""
            )
            people, channel_names, notes = _resolve(spec["targets"], shapes, now)
            payload = _payload(incident, climb.policy, step + 1, len(steps), climb.urgency, now)
            key = f"p:{incident.id}:{rnd}:{step}"
            reached: list[str] = []
            lines: list[str] = []
            for handle in people:
                made, said = page_person(
                    reach, handle, urgency=climb.urgency, key=f"{key}:{handle}",
                    incident_id=incident.id, payload=payload, now=now,
                    until=now if last else now + delay,
                )  # fmt: skip
                rows.extend(made)
                lines.append(said)
                if made:
                    reached.append(handle)
            for name in channel_names:
                channel: Channel | None = reach.channels.get(name)
                if channel is None:
                    lines.append(f"channel {name} no longer exists")
                    continue
                rows.append(outbox_row(
                    key=f"{key}:c{channel.id}", channel=channel, incident_id=incident.id,
                    entry_id=None, payload=payload, now=now,
                ))  # fmt: skip
                lines.append(f"posted to channel {name}")
                reached.append(f"#{name}")
            fired += 1
            if not reached:
                why = "; ".join(notes + lines) or "no targets"
                changes.append(IncidentChange(
                    incident.id, ACTOR, "escalation", f"{label} reached nobody ({why}); skipped", now
                ))  # fmt: skip
            else:
                # One entry per step: what the targets stood for, how each person is paged.
                changes.append(IncidentChange(
                    incident.id, ACTOR, "escalation", f"{label}: " + "; ".join([*notes, *lines]), now,
                ))  # fmt: skip
                paged = [h for h in reached if not h.startswith("#")] or paged
            if reached:
                fired_at = now
            step += 1
            if step == len(steps):
                step, rnd = 0, rnd + 1
            if rnd > climb.repeat:
                again = _next_repeat(reach, paged, climb.urgency, now) if reached else None
                state, next_at = ("repeating", again) if again else ("done", None)
                break
            if reached:
                next_at = now + delay
                break
        else:
            state = "done"
        updates.append({
            "pk": climb.incident_id, "new_step": step, "new_round": rnd, "new_state": state,
            "new_next_at": next_at if state in ("climbing", "repeating") else None,
            "new_paged": paged, "new_fired_at": fired_at,
        })  # fmt: skip
    rows.sort(key=lambda r: (r["channel_id"], r["next_attempt_at"]))
    write_rows(session, rows)
    apply_changes(session=session, changes=changes)
    if updates:
        _ADVANCE.executemany(session.connection(), updates)
    session.flush()
    return fired
