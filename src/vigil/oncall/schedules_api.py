"""REST endpoints for schedules, overrides, swaps, who is on call, the coverage check,
iCalendar feeds, escalation policies, and incidents' climbs, assignees and roles."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from vigil.db import utcnow
from vigil.oncall import policies, roles, schedules, swaps
from vigil.oncall.api import Reader, Writer
from vigil.oncall.schemas import (
    LayerCreate,
    LayerRead,
    OverrideCreate,
    OverrideRead,
    PersonRef,
    PieceRead,
    PolicyCreate,
    PolicyRead,
    ScheduleCreate,
    SwapCreate,
    SwapRead,
)
from vigil.validation import Instant
from vigil.web import ReadSession, StoreDep, VigilRoute, calendar_reader, media_responses

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["on-call"], route_class=VigilRoute)
_FEED_KEY = Query(description="A calendar feed key (`vigil token create NAME --scope calendar`).")


class ScheduleRead(BaseModel):
    """A schedule with its layers."""

    name: str
    time_zone: str
    description: str
    layers: list[LayerRead]


class Decision(BaseModel):
    """Who is on call on one schedule, and what decided it."""

    schedule: str
    people: list[str]
    decided_by: list[str]


class FindingRead(BaseModel):
    """Something that would keep a page from reaching someone."""

    kind: str
    subject: str
    message: str
    start: dt.datetime | None
    end: dt.datetime | None


class EscalationRead(BaseModel):
    """Where an incident is on its policy."""

    policy: str
    state: str
    next_step: int
    round: int
    next_at: dt.datetime | None
    paged: list[str]
    urgency: str


class RoleRead(BaseModel):
    """A role held on an incident."""

    role: str
    person: str
    since: dt.datetime


def _schedule(session: Any, name: str) -> ScheduleRead:
    s = schedules.get_schedule(session=session, name=name)
    layers = [LayerRead.of(r) for r in schedules.list_layers(session=session, schedule=name)]
    return ScheduleRead(
        name=s.name, time_zone=s.time_zone, description=s.description, layers=layers
    )


@router.get("/schedules", response_model=list[ScheduleRead])
def list_schedules(session: ReadSession, _who: Reader) -> list[ScheduleRead]:
    """Every schedule with its layers."""
    return [_schedule(session, s.name) for s in schedules.list_schedules(session=session)]


@router.post("/schedules", status_code=201, response_model=ScheduleRead)
def add_schedule(data: ScheduleCreate, store: StoreDep, _who: Writer) -> ScheduleRead:
    """Add a schedule."""
    with store.write() as session:
        schedules.add_schedule(session=session, **data.model_dump())
        return _schedule(session, data.name)


@router.delete("/schedules/{name}", status_code=204)
def remove_schedule(name: str, store: StoreDep, _who: Writer) -> None:
    """Remove a schedule with its layers and overrides."""
    with store.write() as session:
        schedules.remove_schedule(session=session, name=name)


@router.post("/schedules/{name}/layers", status_code=201, response_model=LayerRead)
def add_layer(name: str, data: LayerCreate, store: StoreDep, _who: Writer) -> LayerRead:
    """Add a layer on top: a rotation, or an imported iCalendar."""
    spec = schedules.LayerSpec(**data.model_dump())
    with store.write() as session:
        return LayerRead.of(schedules.add_layer(session=session, schedule=name, spec=spec))


@router.delete("/schedules/{name}/layers/{layer}", status_code=204)
def remove_layer(name: str, layer: str, store: StoreDep, _who: Writer) -> None:
    """Remove a layer."""
    with store.write() as session:
        schedules.remove_layer(session=session, schedule=name, layer=layer)


@router.get("/schedules/{name}/overrides", response_model=list[OverrideRead])
def list_overrides(name: str, session: ReadSession, _who: Reader) -> list[OverrideRead]:
    """Current and future overrides."""
    return [
        OverrideRead.model_validate(o)
        for o in schedules.list_overrides(session=session, schedule=name)
    ]


@router.post("/schedules/{name}/overrides", status_code=201, response_model=OverrideRead)
def add_override(name: str, data: OverrideCreate, store: StoreDep, who: Writer) -> OverrideRead:
    """Add an override (times need an offset)."""
    with store.write() as session:
        found = schedules.add_override(
            session=session, schedule=name, actor=who.name, **data.model_dump()
        )
        return OverrideRead.model_validate(found)


@router.delete("/overrides/{override_id}", status_code=204)
def remove_override(override_id: int, store: StoreDep, _who: Writer) -> None:
    """Remove an override."""
    with store.write() as session:
        schedules.remove_override(session=session, override_id=override_id)


@router.get("/schedules/{name}/final", response_model=list[PieceRead])
def final_schedule(
    name: str,
    session: ReadSession,
    _who: Reader,
    start: Instant | None = None,
    end: Instant | None = None,
) -> list[PieceRead]:
    """The final schedule (default: the next 14 days), each piece with what decided it."""
    begin = start or utcnow()
    pieces = schedules.final_schedule(
        session=session, schedule=name, start=begin, end=end or begin + dt.timedelta(days=14)
    )
    return [
        PieceRead(start=p.start, end=p.end, people=list(p.people), decided_by=list(p.decided_by))
        for p in pieces
    ]


@router.get(
    "/schedules/{name}/calendar.ics",
    response_class=Response,
    responses=media_responses("text/calendar"),
)
def schedule_calendar(
    name: str,
    request: Request,
    session: ReadSession,
    key: Annotated[str | None, _FEED_KEY] = None,
    person: Annotated[str | None, Query(max_length=50)] = None,
    token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Response:
    """The schedule's shifts as iCalendar (a calendar feed key as ``?key=`` works too)."""
    from vigil.oncall.feeds import schedule_feed

    calendar_reader(request, token, key)
    return Response(
        schedule_feed(session=session, schedule=name, person=person), media_type="text/calendar"
    )


@router.get(
    "/people/{handle}/calendar.ics",
    response_class=Response,
    responses=media_responses("text/calendar"),
)
def person_calendar(
    handle: str,
    request: Request,
    session: ReadSession,
    key: Annotated[str | None, _FEED_KEY] = None,
    token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Response:
    """A person's shifts on every schedule as iCalendar."""
    from vigil.oncall.feeds import person_feed

    calendar_reader(request, token, key)
    return Response(person_feed(session=session, person=handle), media_type="text/calendar")


@router.get("/oncall", response_model=list[Decision])
def who_is_on_call(
    session: ReadSession,
    _who: Reader,
    at: Instant | None = None,
    schedule: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> list[Decision]:
    """Who is on call now (or ``at``) on every schedule (or those named)."""
    found = schedules.who_is_on_call(session=session, at=at, schedules=schedule)
    return [
        Decision(schedule=n, people=list(d.people), decided_by=list(d.decided_by))
        for n, d in found.items()
    ]


@router.get("/oncall/check", response_model=list[FindingRead])
def check(
    session: ReadSession, _who: Reader, days: Annotated[float, Query(gt=0, le=90)] = 7
) -> list[FindingRead]:
    """Coverage gaps, unreachable people and policies that would reach nobody, ahead."""
    from vigil.oncall import check_coverage

    return [
        FindingRead(kind=f.kind, subject=f.subject, message=f.message, start=f.start, end=f.end)
        for f in check_coverage(session=session, days=days)
    ]


@router.get("/swaps", response_model=list[SwapRead])
def list_swaps(session: ReadSession, _who: Reader) -> list[SwapRead]:
    """Swap requests, newest first."""
    return [SwapRead.model_validate(s) for s in swaps.list_swaps(session=session)]


@router.post("/schedules/{name}/swaps", status_code=201, response_model=SwapRead)
def request_swap(name: str, data: SwapCreate, store: StoreDep, _who: Writer) -> SwapRead:
    """Ask for cover."""
    with store.write() as session:
        return SwapRead.model_validate(
            swaps.request_swap(session=session, schedule=name, **data.model_dump())
        )


@router.post("/swaps/{swap_id}/accept", response_model=SwapRead)
def accept_swap(swap_id: int, data: PersonRef, store: StoreDep, _who: Writer) -> SwapRead:
    """Cover a swap request: a replace override is made."""
    with store.write() as session:
        return SwapRead.model_validate(
            swaps.accept_swap(session=session, swap_id=swap_id, by=data.person)
        )


@router.post("/swaps/{swap_id}/undo", response_model=SwapRead)
def undo_swap(swap_id: int, data: PersonRef, store: StoreDep, _who: Writer) -> SwapRead:
    """Take a swap back (the requester or whoever accepted)."""
    with store.write() as session:
        return SwapRead.model_validate(
            swaps.undo_swap(session=session, swap_id=swap_id, by=data.person)
        )


@router.get("/escalation-policies", response_model=list[PolicyRead])
def list_policies(session: ReadSession, _who: Reader) -> list[PolicyRead]:
    """Policies in match order."""
    return [PolicyRead.of(p) for p in policies.list_policies(session=session)]


@router.post("/escalation-policies", status_code=201, response_model=PolicyRead)
def add_policy(data: PolicyCreate, store: StoreDep, _who: Writer) -> PolicyRead:
    """Add an escalation policy."""
    raw = data.model_dump()
    raw["steps"] = [policies.StepSpec(**s) for s in raw["steps"]]
    with store.write() as session:
        return PolicyRead.of(policies.add_policy(session=session, spec=policies.PolicySpec(**raw)))


@router.delete("/escalation-policies/{name}", status_code=204)
def remove_policy(name: str, store: StoreDep, _who: Writer) -> None:
    """Remove a policy (climbing incidents keep their copy)."""
    with store.write() as session:
        policies.remove_policy(session=session, name=name)


@router.get("/incidents/{ref}/escalation", response_model=EscalationRead | None)
def escalation(ref: str, session: ReadSession, _who: Reader) -> EscalationRead | None:
    """Where the incident is on its policy (null when no policy took it)."""
    climb = roles.escalation_of(session=session, ref=ref)
    if climb is None:
        return None
    return EscalationRead(
        policy=climb.policy, state=climb.state, next_step=climb.step + 1, round=climb.round,
        next_at=climb.next_at, paged=list(climb.paged), urgency=climb.urgency,
    )  # fmt: skip


@router.post("/incidents/{ref}/escalate", response_model=EscalationRead)
def escalate(ref: str, store: StoreDep, who: Writer) -> EscalationRead:
    """Fire the incident's next step now."""
    with store.write() as session:
        c = roles.escalate_now(session=session, ref=ref, actor=who.name)
        return EscalationRead(
            policy=c.policy, state=c.state, next_step=c.step + 1, round=c.round,
            next_at=c.next_at, paged=list(c.paged), urgency=c.urgency,
        )  # fmt: skip


@router.post("/incidents/{ref}/assign", response_model=PersonRef)
def assign(ref: str, data: PersonRef, store: StoreDep, who: Writer) -> PersonRef:
    """Make a person the incident's assignee."""
    with store.write() as session:
        return PersonRef(
            person=roles.assign_incident(
                session=session, ref=ref, person=data.person, actor=who.name
            )
        )


@router.get("/incidents/{ref}/roles", response_model=list[RoleRead])
def list_roles(ref: str, session: ReadSession, _who: Reader) -> list[RoleRead]:
    """Roles held on the incident."""
    return [
        RoleRead(role=r.role, person=r.person, since=r.since)
        for r in roles.list_roles(session=session, ref=ref)
    ]


@router.put("/incidents/{ref}/roles/{role}", response_model=RoleRead)
def take_role(ref: str, role: str, data: PersonRef, store: StoreDep, who: Writer) -> RoleRead:
    """A person takes a role (handing it over from whoever held it)."""
    with store.write() as session:
        r = roles.take_role(session=session, ref=ref, role=role, person=data.person, actor=who.name)
        return RoleRead(role=r.role, person=r.person, since=r.since)


@router.delete("/incidents/{ref}/roles/{role}", status_code=204)
def release_role(ref: str, role: str, store: StoreDep, who: Writer) -> None:
    """Leave a role unheld."""
    with store.write() as session:
        roles.release_role(session=session, ref=ref, role=role, actor=who.name)
