"""The incident page: every field, the timeline, notifications, roles, and the buttons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.errors import VigilError
from vigil.incidents import listing
from vigil.incidents import service as incidents
from vigil.incidents.lifecycle import SEVERITIES, TRANSITIONS
from vigil.incidents.models import Incident
from vigil.incidents.schemas import IncidentUpdate
from vigil.web import Responder, StoreDep, Viewer, field_errors, form_values, redirect, render

__all__ = ["refused_page", "router"]

router = APIRouter(include_in_schema=False)
#: The button for each target status.
ACTION_LABELS = {
    "acknowledged": "Acknowledge", "investigating": "Investigate", "resolved": "Resolve",
    "closed": "Close", "open": "Reopen",
}  # fmt: skip
EDITABLE = ("title", "description", "severity", "category", "service", "resource", "component",
            "host", "root_cause", "resolution")  # fmt: skip
_DONE = {
    "acknowledged": "Acknowledged.", "investigating": "Investigating.", "resolved": "Resolved.",
    "closed": "Closed.", "open": "Reopened.", "note": "Note added.", "edit": "Saved.",
    "role": "Role taken.", "escalate": "Escalated.", "assign": "Assigned.",
}  # fmt: skip


#: Errors of these fields are shown next to them; any other one at the top of the page.
_SHOWN_BY_FIELD = frozenset({*EDITABLE, "text", "role", "person"})


def _live(session: Session, incident: Incident) -> dict[str, Any]:
    """What changes while someone watches: status, timeline, notifications, roles, paging."""
    from vigil.notify import service as notify
    from vigil.oncall import roles

    notifications = notify.notification_reads(
        session=session,
        rows=notify.list_notifications(session=session, incident=incident.human_id, limit=50),
    )
    escalation = roles.escalation_of(session=session, ref=incident.human_id)
    return {
        "incident": incident,
        "timeline": incidents.list_timeline(session=session, ref=incident.human_id),
        "notifications": notifications,
        "roles": roles.list_roles(session=session, ref=incident.human_id),
        "escalation": escalation,
        "next_statuses": TRANSITIONS[incident.status],
        "labels": ACTION_LABELS,
    }


def _detail(
    request: Request,
    session: Session,
    settings: Settings,
    ref: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    from vigil.analytics import fingerprint_recurrence
    from vigil.oncall import roles

    incident = incidents.get_incident(session=session, ref=ref)
    done = request.query_params.get("done", "")
    return render(
        request,
        "incidents/detail.html",
        {
            **_live(session, incident),
            "title": f"{incident.human_id} {incident.title}",
            "recurrence": fingerprint_recurrence(session=session, incident=incident),
            "related": listing.related_incidents(session=session, incident=incident),
            "errors": errors or {},
            "other_errors": [m for k, m in (errors or {}).items() if k not in _SHOWN_BY_FIELD],
            "values": values or {k: getattr(incident, k) or "" for k in EDITABLE},
            "done": _DONE.get(done, ""),
            "severities": SEVERITIES,
            "categories": settings.categories,
            "role_names": roles.ROLES,
        },
        status=status,
    )


@router.get("/incidents/{ref}", response_class=HTMLResponse)
def incident_page(ref: str, request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """The incident commander's page."""
    with store.read() as session:
        return _detail(request, session, store.settings, ref)


@router.get("/incidents/{ref}/live", response_class=HTMLResponse)
def incident_live(ref: str, request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """The parts of the page that change, polled so others' actions show up by themselves."""
    with store.read() as session:
        incident = incidents.get_incident(session=session, ref=ref)
        return render(request, "incidents/_live.html", _live(session, incident))


def refused_page(
    request: Request, store: StoreDep, ref: str, exc: Exception, values: Any = None
) -> HTMLResponse:
    """The incident page again, with the refusal shown next to the form that caused it."""
    errors = field_errors(exc)
    status = exc.http_status if isinstance(exc, VigilError) else 422
    with store.read() as session:
        return _detail(request, session, store.settings, ref, errors=errors, values=values,
                       status=status)  # fmt: skip


@router.post("/incidents/{ref}/transition", response_model=None)
def transition(
    ref: str,
    request: Request,
    store: StoreDep,
    person: Responder,
    target: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=100_000)] = "",
    resolution: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """Acknowledge, investigate, resolve, close or reopen, in the person's name."""
    try:
        with store.write() as session:
            incidents.transition_incident(
                session=session, ref=ref, target=target, actor=person.handle,
                note=note.strip() or None,
                resolution=(resolution.strip() or None) if target == "resolved" else None,
            )  # fmt: skip
    except VigilError as exc:
        return refused_page(request, store, ref, exc)
    return redirect(f"/incidents/{ref}?done={target}")


@router.post("/incidents/{ref}/notes", response_model=None)
def add_note(
    ref: str,
    request: Request,
    store: StoreDep,
    person: Responder,
    text: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """Add a note to the timeline."""
    try:
        with store.write() as session:
            incidents.add_note(session=session, ref=ref, text=text, actor=person.handle)
    except VigilError as exc:
        return refused_page(request, store, ref, exc)
    return redirect(f"/incidents/{ref}?done=note#timeline")


@router.post("/incidents/{ref}/edit", response_model=None)
async def edit(ref: str, request: Request, store: StoreDep, person: Responder) -> Response:
    """Save edited fields; each change lands on the timeline with its old and new value."""
    values = await form_values(request)
    try:
        with store.write() as session:
            current = incidents.get_incident(session=session, ref=ref)
            changed = {
                k: v.strip() or (None if k in IncidentUpdate.clearable else "")
                for k, v in values.items()
                if k in EDITABLE and (v.strip() or None) != (getattr(current, k) or None)
            }
            if changed:
                incidents.update_incident(
                    session=session, settings=store.settings, ref=ref,
                    data=IncidentUpdate(**changed), actor=person.handle,
                )  # fmt: skip
    except (VigilError, ValueError) as exc:
        return refused_page(request, store, ref, exc, values)
    return redirect(f"/incidents/{ref}?done=edit")
