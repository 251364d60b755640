"""Web pages for on-call: who is on call, the schedules' timelines, swaps, policies,
coverage findings; and an incident's people (roles, assignee, escalating now)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.db import utcnow
from vigil.errors import VigilError
from vigil.oncall import checks, policies, roles, schedules, swaps
from vigil.web import Responder, StoreDep, Viewer, redirect, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
TIMELINE_DAYS = 7


def _refused(request: Request, store: StoreDep, ref: str, exc: VigilError) -> Response:
    """The incident page again, with the message next to the form that was refused."""
    from vigil.incidents import detail_pages

    return detail_pages.refused_page(request, store, ref, exc)


@router.post("/incidents/{ref}/roles", response_model=None)
def take_role(
    ref: str,
    request: Request,
    store: StoreDep,
    person: Responder,
    role: Annotated[str, Form(max_length=30)],
    who: Annotated[str, Form(alias="person", max_length=50)] = "",
) -> Response:
    """Take an incident role (or give it to someone)."""
    try:
        with store.write() as session:
            roles.take_role(session=session, ref=ref, role=role, person=who.strip() or person.handle,
                            actor=person.handle)  # fmt: skip
    except VigilError as exc:
        return _refused(request, store, ref, exc)
    return redirect(f"/incidents/{ref}?done=role")


@router.post("/incidents/{ref}/assign", response_model=None)
def assign(ref: str, request: Request, store: StoreDep, person: Responder) -> Response:
    """Assign the incident to the person acting."""
    try:
        with store.write() as session:
            roles.assign_incident(
                session=session, ref=ref, person=person.handle, actor=person.handle
            )
    except VigilError as exc:
        return _refused(request, store, ref, exc)
    return redirect(f"/incidents/{ref}?done=assign")


@router.post("/incidents/{ref}/escalate", response_model=None)
def escalate(ref: str, request: Request, store: StoreDep, person: Responder) -> Response:
    """Page the next step of the incident's escalation policy now."""
    try:
        with store.write() as session:
            roles.escalate_now(session=session, ref=ref, actor=person.handle)
    except VigilError as exc:
        return _refused(request, store, ref, exc)
    return redirect(f"/incidents/{ref}?done=escalate")


def _bars(pieces: list[Any], start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    span = (end - start).total_seconds()
    out = []
    for p in pieces:
        width = 100 * (p.end - p.start).total_seconds() / span
        kind = (
            "gap"
            if not p.people
            else "override"
            if any("override" in d for d in p.decided_by)
            else "0"
        )
        out.append({"piece": p, "width": round(width, 3), "kind": kind})
    return out


@router.get("/oncall", response_class=HTMLResponse)
def oncall_page(request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """Who is on call now and next, a week of each schedule, swaps, policies, findings."""
    now = utcnow()
    end = now + dt.timedelta(days=TIMELINE_DAYS)
    with store.read() as session:
        names = [s.name for s in schedules.list_schedules(session=session)]
        now_on = schedules.who_is_on_call(session=session, at=now)
        timelines = []
        for name in names:
            pieces = schedules.final_schedule(session=session, schedule=name, start=now, end=end)
            following = next((p for p in pieces if p.start > now and p.people), None)
            timelines.append({
                "name": name, "bars": _bars(pieces, now, end), "next": following,
                "layers": schedules.list_layers(session=session, schedule=name),
                "overrides": schedules.list_overrides(session=session, schedule=name),
            })  # fmt: skip
        return render(
            request,
            "oncall/oncall.html",
            {
                "title": "On call", "now_on": now_on, "timelines": timelines,
                "swaps": swaps.list_swaps(session=session, state="open"),
                "policies": policies.list_policies(session=session),
                "findings": checks.check_coverage(session=session, days=TIMELINE_DAYS, now=now),
                "days": TIMELINE_DAYS,
            },
        )  # fmt: skip
