"""Schedules as the algebra sees them, loaded from the database in three queries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session

from vigil.errors import NotFoundError
from vigil.oncall import final
from vigil.oncall.hours import restrictions_of
from vigil.oncall.icalendar_layers import imported_layer
from vigil.oncall.models import Override, Person, Schedule, ScheduleLayer
from vigil.oncall.rotation import Layer, Rotation
from vigil.oncall.wallclock import zone

__all__ = ["load_shapes", "people_index"]


def people_index(session: Session) -> dict[str, str]:
    """Every way an imported calendar may name a person → their handle."""
    index: dict[str, str] = {}
    for handle, name in session.execute(select(Person.handle, Person.name)):
        index[handle.lower()] = handle
        index[name.lower()] = handle
    return index


def _rotation(row: Any, schedule_zone: str) -> Rotation:
    """The algebra's rotation for a layer row (cached on everything it is built from)."""
    key = (row.id, row.time_zone or schedule_zone, _raw(row.participants), row.handoff,
           row.length_minutes, _raw(row.restrictions))  # fmt: skip
    found = _ROTATIONS.get(key)
    if found is None:
        if len(_ROTATIONS) > 50_000:
            _ROTATIONS.clear()
        participants = (
            row.participants if isinstance(row.participants, list) else json.loads(row.participants)
        )
        restrictions = (
            row.restrictions if isinstance(row.restrictions, list) else json.loads(row.restrictions)
        )
        found = _ROTATIONS[key] = Rotation(
            row.name,
            zone(key[1]),
            tuple(participants),
            dt.datetime.fromisoformat(row.handoff),
            dt.timedelta(minutes=row.length_minutes),
            restrictions_of(restrictions),
        )
    return found


def _raw(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


_ROTATIONS: dict[tuple[Any, ...], Rotation] = {}
_L = ScheduleLayer.__table__.c
_O = Override.__table__.c


def load_shapes(
    *, session: Session, start: dt.datetime, end: dt.datetime, names: Sequence[str] | None = None
) -> dict[str, final.ScheduleShape]:
    """Schedules (all, or ``names``) as the algebra sees them for [start, end]: three queries
    of plain rows (JSON left undecoded where a cached rotation already stands for it)."""
    stmt = select(Schedule.id, Schedule.name, Schedule.time_zone)
    if names is not None:
        stmt = stmt.where(Schedule.name.in_(names))
    schedules = {s.id: s for s in session.execute(stmt)}
    if names is not None and len(schedules) < len(set(names)):
        missing = sorted(set(names) - {s.name for s in schedules.values()})
        raise NotFoundError(f"schedule {missing[0]!r} does not exist", field="schedule")
    wanted = list(schedules) if names is not None else None
    layer_stmt = select(
        _L.id, _L.schedule_id, _L.name, _L.kind, _L.time_zone, _L.handoff, _L.length_minutes,
        type_coerce(_L.participants, Text).label("participants"),
        type_coerce(_L.restrictions, Text).label("restrictions"),
    ).order_by(_L.schedule_id, _L.position)  # fmt: skip
    override_stmt = select(
        _O.id, _O.schedule_id, _O.kind, _O.start, _O.end, _O.person, _O.replaces
    ).where(_O.end > start, _O.start <= end)
    if wanted is not None:
        layer_stmt = layer_stmt.where(_L.schedule_id.in_(wanted))
        override_stmt = override_stmt.where(_O.schedule_id.in_(wanted))
    layers: dict[int, list[Any]] = {i: [] for i in schedules}  # layers, and ical rows to load
    ical: list[Any] = []
    for row in session.execute(layer_stmt):
        owner = schedules.get(row.schedule_id)
        if owner is None:
            continue
        if row.kind in ("ical", "away"):
            ical.append(row)
            layers[row.schedule_id].append(row)  # replaced below, keeping its position
        else:
            layers[row.schedule_id].append(_rotation(row, owner.time_zone))
    full: dict[int, ScheduleLayer] = {}
    people: dict[str, str] = {}
    if ical:
        people = people_index(session)
        full = {
            r.id: r
            for r in session.execute(
                select(ScheduleLayer).where(ScheduleLayer.id.in_([r.id for r in ical]))
            ).scalars()
        }
    overrides: dict[int, list[final.Override]] = {i: [] for i in schedules}
    if ical:
        for sid, items in layers.items():
            kept: list[Layer] = []
            for x in items:
                if isinstance(x, Layer):
                    kept.append(x)
                    continue
                zone_name = x.time_zone or schedules[sid].time_zone
                imported = imported_layer(full[x.id], people, start=start, zone_name=zone_name)
                if x.kind == "ical":
                    kept.append(imported)
                    continue
                # An away calendar (holidays): each event takes its person off call.
                overrides[sid].extend(
                    final.Override(0, "remove", p.start, p.end, p.person, label=f"{x.name} (away)")
                    for p in imported.pieces
                    if p.end > start and p.start <= end
                )
            layers[sid] = kept
    for o in session.execute(override_stmt.order_by(_O.id)):
        if o.schedule_id in overrides:
            overrides[o.schedule_id].append(
                final.Override(o.id, o.kind, o.start, o.end, o.person, o.replaces)
            )
    return {
        s.name: final.ScheduleShape(s.name, tuple(layers[s.id]), tuple(overrides[s.id]))
        for s in schedules.values()
    }
