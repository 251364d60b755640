"""REST endpoints for incidents, their lifecycle and timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from vigil.auth import Principal
from vigil.incidents import service
from vigil.incidents.schemas import (
    IncidentCreate,
    IncidentFilter,
    IncidentPage,
    IncidentRead,
    IncidentUpdate,
    NoteCreate,
    TimelineEntryRead,
    TransitionRequest,
)
from vigil.validation import Instant
from vigil.web import ReadSession, StoreDep, VigilRoute, requires

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], route_class=VigilRoute)

Reader = Annotated[Principal, Depends(requires("read"))]
Writer = Annotated[Principal, Depends(requires("write"))]

_ACTIONS = {
    "acknowledge": "acknowledged",
    "investigate": "investigating",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "open",
}


@router.post("", status_code=201, response_model=IncidentRead)
def create(data: IncidentCreate, store: StoreDep, who: Writer) -> IncidentRead:
    """Declare an incident."""
    with store.write() as session:
        human_id = service.create_incident(
            session=session, settings=store.settings, data=data, actor=who.name, source="api"
        )
        return IncidentRead.from_incident(service.get_incident(session=session, ref=human_id))


@router.get("", response_model=IncidentPage)
def list_(
    session: ReadSession,
    store: StoreDep,
    _who: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    severity: Annotated[list[str] | None, Query()] = None,
    category: Annotated[list[str] | None, Query()] = None,
    project_id: str | None = None,
    order_id: str | None = None,
    task_id: str | None = None,
    service_name: Annotated[str | None, Query(alias="service")] = None,
    resource: str | None = None,
    assignee: Annotated[str | None, Query(max_length=50)] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> IncidentPage:
    """List incidents newest first; follow ``next_cursor`` for more."""
    filters = IncidentFilter(
        status=status,
        severity=severity,
        category=category,
        project_id=project_id,
        order_id=order_id,
        task_id=task_id,
        service=service_name,
        resource=resource,
        assignee=assignee,
        since=since,
        until=until,
        q=q,
    )
    rows, next_cursor = service.list_incidents(
        session=session, settings=store.settings, filters=filters, limit=limit, cursor=cursor
    )
    return IncidentPage(
        items=[IncidentRead.from_incident(i) for i in rows], next_cursor=next_cursor
    )


@router.get("/{ref}", response_model=IncidentRead)
def get(ref: str, session: ReadSession, _who: Reader) -> IncidentRead:
    """Fetch one incident by human ID or UUID, with how often its fingerprint recurred."""
    from vigil.analytics import fingerprint_recurrence

    incident = service.get_incident(session=session, ref=ref)
    read = IncidentRead.from_incident(incident)
    read.recurrence = fingerprint_recurrence(session=session, incident=incident)
    return read


@router.patch("/{ref}", response_model=IncidentRead)
def update(ref: str, data: IncidentUpdate, store: StoreDep, who: Writer) -> IncidentRead:
    """Edit fields; each change lands on the timeline."""
    with store.write() as session:
        incident = service.update_incident(
            session=session, settings=store.settings, ref=ref, data=data, actor=who.name
        )
        return IncidentRead.from_incident(incident)


@router.post("/{ref}/notes", status_code=201, response_model=TimelineEntryRead)
def add_note(ref: str, data: NoteCreate, store: StoreDep, who: Writer) -> TimelineEntryRead:
    """Add a note to the timeline."""
    with store.write() as session:
        entry = service.add_note(session=session, ref=ref, text=data.text, actor=who.name)
        return TimelineEntryRead.model_validate(entry)


def _transition_route(action: str) -> None:
    """Register POST /{ref}/<action>: one path per action, so other paths answer 405/404."""

    def transition(
        ref: str,
        store: StoreDep,
        who: Writer,
        data: Annotated[TransitionRequest | None, Body()] = None,
    ) -> IncidentRead:
        body = data or TransitionRequest()
        with store.write() as session:
            incident = service.transition_incident(
                session=session,
                ref=ref,
                target=_ACTIONS[action],
                actor=who.name,
                note=body.note,
                resolution=body.resolution,
                root_cause=body.root_cause,
                happened_at=body.at,
            )
            return IncidentRead.from_incident(incident)

    router.add_api_route(
        f"/{{ref}}/{action}",
        transition,
        methods=["POST"],
        response_model=IncidentRead,
        name=f"{action}_incident",
        summary=f"{action.capitalize()} an incident",
        description=f"Move an incident through its lifecycle: {action}.",
    )


for _action in ("acknowledge", "investigate", "resolve", "close", "reopen"):
    _transition_route(_action)


@router.get("/{ref}/timeline", response_model=list[TimelineEntryRead])
def timeline(ref: str, session: ReadSession, _who: Reader) -> list[TimelineEntryRead]:
    """Return the audit trail, oldest first."""
    return [
        TimelineEntryRead.model_validate(e) for e in service.list_timeline(session=session, ref=ref)
    ]
