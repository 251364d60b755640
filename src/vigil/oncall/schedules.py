"""Schedules: layers (rotations and imported calendars), overrides, and the answers —
who is on call at an instant, and the final schedule over an interval."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.errors import ConflictError, NotFoundError, ValidationError
from vigil.oncall import final
from vigil.oncall.hours import parse_windows
from vigil.oncall.icalendar_layers import imported_layer
from vigil.oncall.models import Override, Person, Schedule, ScheduleLayer
from vigil.oncall.shapes import load_shapes, people_index
from vigil.oncall.wallclock import zone
from vigil.validation import as_instant, require_name

__all__ = [
    "OVERRIDE_KINDS",
    "SHIFTS",
    "LayerSpec",
    "add_layer",
    "add_override",
    "add_schedule",
    "check_people",
    "final_schedule",
    "get_schedule",
    "list_layers",
    "list_overrides",
    "list_schedules",
    "remove_layer",
    "remove_override",
    "remove_schedule",
    "who_is_on_call",
]

SHIFTS = {"hourly": 60, "daily": 1440, "weekly": 10080}
OVERRIDE_KINDS = ("add", "remove", "replace")
_LENGTH = re.compile(r"^(\d+)\s*(m|h|d|w)$")
_UNIT = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_MAX_SPAN = dt.timedelta(days=800)


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """A rotation layer as asked for: ``shift`` is hourly, daily, weekly or a length such
    as ``12h``, ``3d`` or ``90m``; ``handoff`` is wall-clock in the layer's time zone."""

    name: str
    participants: Sequence[str] = ()
    shift: str = "weekly"
    handoff: str = ""
    restrictions: str | Sequence[str] = ()
    time_zone: str | None = None
    ical_url: str | None = None
    ical_text: str | None = None
    #: ``on_call``: the calendar's events put people on call; ``away``: they take people
    #: off call (holidays), so the layers below decide.
    ical_mode: str = "on_call"


def get_schedule(*, session: Session, name: str) -> Schedule:
    """The schedule called ``name``."""
    found = session.execute(select(Schedule).where(Schedule.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"schedule {name!r} does not exist", field="schedule")
    return found


def add_schedule(
    *, session: Session, name: str, time_zone: str = "UTC", description: str = ""
) -> Schedule:
    """Add an empty schedule in ``time_zone`` (its layers' default)."""
    require_name(name)
    zone(time_zone)
    if session.execute(select(Schedule.id).where(Schedule.name == name)).first():
        raise ConflictError(f"a schedule named {name!r} already exists", field="name")
    schedule = Schedule(name=name, time_zone=time_zone, description=description[:2000])
    session.add(schedule)
    session.flush()
    return schedule


def list_schedules(*, session: Session) -> Sequence[Schedule]:
    """Every schedule, by name."""
    return session.execute(select(Schedule).order_by(Schedule.name)).scalars().all()


def remove_schedule(*, session: Session, name: str) -> None:
    """Remove a schedule with its layers and overrides."""
    session.delete(get_schedule(session=session, name=name))
    session.flush()


def check_people(session: Session, handles: Iterable[str], field: str) -> list[str]:
    """``handles`` normalized, each naming a person, or a 4xx naming the unknown ones."""
    wanted = [h.strip().lower() for h in handles]
    if any(not h for h in wanted):
        raise ValidationError(f"{field}: name a person by their handle", field=field)
    known = set(session.execute(select(Person.handle).where(Person.handle.in_(wanted))).scalars())
    unknown = [h for h in wanted if h not in known]
    if unknown:
        raise ValidationError(
            f"{field}: nobody has the handle(s) {', '.join(unknown)} (add them with "
            "`vigil people add`)",
            field=field,
        )
    return wanted


def _length_minutes(shift: str) -> int:
    shift = shift.strip().lower()
    if shift in SHIFTS:
        return SHIFTS[shift]
    m = _LENGTH.match(shift)
    minutes = int(m[1]) * _UNIT[m[2]] if m else 0
    if not 15 <= minutes <= 8 * 10080:
        raise ValidationError(
            "shift: hourly, daily, weekly, or a length from 15m to 8w such as 12h, 3d, 90m",
            field="shift",
        )
    return minutes


def add_layer(*, session: Session, schedule: str, spec: LayerSpec) -> ScheduleLayer:
    """Add a layer on top of ``schedule``'s others (a higher layer wins)."""
    target = get_schedule(session=session, name=schedule)
    require_name(spec.name, field="layer")
    if session.execute(
        select(ScheduleLayer.id).where(
            ScheduleLayer.schedule_id == target.id, ScheduleLayer.name == spec.name
        )
    ).first():
        raise ConflictError(f"schedule {schedule!r} has a layer {spec.name!r}", field="layer")
    if spec.time_zone:
        zone(spec.time_zone)
    top = session.execute(
        select(func.max(ScheduleLayer.position)).where(ScheduleLayer.schedule_id == target.id)
    ).scalar()
    layer = ScheduleLayer(
        schedule_id=target.id,
        name=spec.name,
        position=(top or 0) + 1,
        time_zone=spec.time_zone,
        restrictions=parse_windows(spec.restrictions, field="restrictions")
        if spec.restrictions
        else [],
    )
    if spec.ical_url or spec.ical_text:
        if spec.ical_mode not in ("on_call", "away"):
            raise ValidationError(
                "ical_mode: on_call or away", field="ical_mode", allowed=["on_call", "away"]
            )
        if spec.ical_url and not spec.ical_url.lower().startswith(("https://", "http://")):
            raise ValidationError("ical_url: an http:// or https:// URL", field="ical_url")
        layer.kind = "ical" if spec.ical_mode == "on_call" else "away"
        layer.ical_url = spec.ical_url
        layer.ical_text = spec.ical_text
        layer.ical_fetched_at = utcnow() if spec.ical_text else None
        if spec.ical_text:
            imported_layer(layer, people_index(session), start=utcnow())  # refuse bad files now
    else:
        layer.participants = check_people(session, spec.participants, "participants")
        if not layer.participants:
            raise ValidationError("participants: name at least one person", field="participants")
        layer.length_minutes = _length_minutes(spec.shift)
        try:
            handoff = dt.datetime.fromisoformat(spec.handoff) if spec.handoff else None
        except ValueError:
            handoff = None
            raise ValidationError(
                "handoff: a wall-clock date and time such as 2026-12-07T09:00", field="handoff"
            ) from None
        if handoff is None:
            today = utcnow().astimezone(zone(spec.time_zone or target.time_zone)).date()
            handoff = dt.datetime.combine(today, dt.time(9))
        layer.handoff = handoff.replace(tzinfo=None, second=0, microsecond=0).isoformat()
    session.add(layer)
    session.flush()
    return layer


def list_layers(*, session: Session, schedule: str) -> Sequence[ScheduleLayer]:
    """A schedule's layers, lowest first."""
    target = get_schedule(session=session, name=schedule)
    stmt = select(ScheduleLayer).where(ScheduleLayer.schedule_id == target.id)
    return session.execute(stmt.order_by(ScheduleLayer.position)).scalars().all()


def remove_layer(*, session: Session, schedule: str, layer: str) -> None:
    """Remove one layer."""
    target = get_schedule(session=session, name=schedule)
    done = session.execute(
        delete(ScheduleLayer).where(
            ScheduleLayer.schedule_id == target.id, ScheduleLayer.name == layer
        )
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"schedule {schedule!r} has no layer {layer!r}", field="layer")


def add_override(
    *,
    session: Session,
    schedule: str,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    person: str,
    replaces: str | None = None,
    note: str = "",
    actor: str = "",
) -> Override:
    """For [start, end): ``add`` person beside the layers' choice, ``remove`` person (the
    next layer down decides), or ``replace`` ``replaces`` with person."""
    target = get_schedule(session=session, name=schedule)
    if kind not in OVERRIDE_KINDS:
        raise ValidationError(
            f"kind {kind!r} is not one of: add, remove, replace",
            field="kind",
            allowed=list(OVERRIDE_KINDS),
        )
    start, end = as_instant(start, field="start"), as_instant(end, field="end")
    if not start < end or end - start > _MAX_SPAN:
        raise ValidationError("end: after start, and within 800 days of it", field="end")
    (who,) = check_people(session, [person], "person")
    gone = None
    if kind == "replace":
        if not replaces:
            raise ValidationError(
                "replaces: a replace override names who it replaces", field="replaces"
            )
        (gone,) = check_people(session, [replaces], "replaces")
        if gone == who:
            raise ValidationError("replaces: a person cannot replace themselves", field="replaces")
    override = Override(
        schedule_id=target.id, kind=kind, start=start, end=end, person=who, replaces=gone,
        note=note[:2000], created_by=actor[:200],
    )  # fmt: skip
    session.add(override)
    session.flush()
    return override


def list_overrides(
    *, session: Session, schedule: str, since: dt.datetime | None = None
) -> Sequence[Override]:
    """A schedule's overrides that end after ``since`` (default: now), by start."""
    target = get_schedule(session=session, name=schedule)
    stmt = select(Override).where(
        Override.schedule_id == target.id, Override.end > (since or utcnow())
    )
    return session.execute(stmt.order_by(Override.start, Override.id)).scalars().all()


def remove_override(*, session: Session, override_id: int) -> None:
    """Remove an override."""
    found = session.get(Override, override_id)
    if found is None:
        raise NotFoundError(f"override {override_id} does not exist", field="override_id")
    session.delete(found)
    session.flush()


def who_is_on_call(
    *, session: Session, at: dt.datetime | None = None, schedules: Sequence[str] | None = None
) -> dict[str, final.Decision]:
    """Who is on call at ``at`` (default: now) on each schedule (all, or ``schedules``)."""
    at = as_instant(at, field="at") if at else utcnow()
    shapes = load_shapes(session=session, start=at, end=at, names=schedules)
    return {name: final.on_call_at(shape, at) for name, shape in sorted(shapes.items())}


def final_schedule(
    *, session: Session, schedule: str, start: dt.datetime, end: dt.datetime
) -> list[final.Piece]:
    """``schedule``'s final schedule over [start, end), each piece naming what decided it."""
    start, end = as_instant(start, field="start"), as_instant(end, field="end")
    if not start < end or end - start > _MAX_SPAN:
        raise ValidationError("end: after start, and within 800 days of it", field="end")
    get_schedule(session=session, name=schedule)
    shape = load_shapes(session=session, start=start, end=end, names=[schedule])[schedule]
    return final.final_schedule(shape, start, end)
