"""REST endpoints for postmortems, five whys, timeline, action items and the calendar feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from vigil.auth import Principal
from vigil.postmortems import actions, service
from vigil.postmortems.calendar import calendar_feed
from vigil.postmortems.render import render_postmortem
from vigil.postmortems.schemas import (
    ActionItemCreate,
    ActionItemRead,
    ActionItemUpdate,
    PostmortemRead,
    PostmortemUpdate,
    RootCauseMark,
    TimelineItemCreate,
    TimelineItemUpdate,
    WhyCreate,
    WhysStart,
)
from vigil.validation import MAX_ID
from vigil.web import (
    ReadSession,
    StoreDep,
    VigilRoute,
    calendar_reader,
    media_responses,
    requires,
)

router = APIRouter(prefix="/api/v1", tags=["postmortems"], route_class=VigilRoute)
Reader = Annotated[Principal, Depends(requires("read"))]
Writer = Annotated[Principal, Depends(requires("write"))]


@router.post("/incidents/{ref}/postmortem", status_code=201, response_model=PostmortemRead)
def create(ref: str, store: StoreDep, _who: Writer, kind: str = "full") -> PostmortemRead:
    """Scaffold the postmortem from the incident (timeline included)."""
    with store.write() as session:
        service.create_postmortem(session=session, ref=ref, actor=_who.name, kind=kind)
        return service.read_postmortem(session=session, ref=ref)


@router.get("/incidents/{ref}/postmortem", response_model=PostmortemRead)
def get(ref: str, session: ReadSession, _who: Reader) -> PostmortemRead:
    """The postmortem with its timeline, whys and action items."""
    return service.read_postmortem(session=session, ref=ref)


@router.patch("/incidents/{ref}/postmortem", response_model=PostmortemRead)
def update(ref: str, data: PostmortemUpdate, store: StoreDep, who: Writer) -> PostmortemRead:
    """Change fields; ``sections`` replaces the sections it names."""
    with store.write() as session:
        service.update_postmortem(session=session, ref=ref, data=data, actor=who.name)
        return service.read_postmortem(session=session, ref=ref)


@router.get(
    "/incidents/{ref}/postmortem/report",
    response_class=Response,
    responses=media_responses("text/markdown", "text/html"),
)
def report(
    ref: str,
    session: ReadSession,
    _who: Reader,
    fmt: Annotated[str, Query(alias="format")] = "markdown",
) -> Response:
    """The report in the review report format (``format=markdown`` or ``html``)."""
    text = render_postmortem(session=session, ref=ref, fmt=fmt)
    return Response(text, media_type="text/html" if fmt == "html" else "text/markdown")


@router.post("/incidents/{ref}/postmortem/whys/start", response_model=PostmortemRead)
def whys_start(ref: str, data: WhysStart, store: StoreDep, who: Writer) -> PostmortemRead:
    """Start the five whys with a facilitator (default: you) and the observed symptom."""
    with store.write() as session:
        service.start_five_whys(session=session, ref=ref, problem=data.problem,
                                facilitator=data.facilitator or who.name)  # fmt: skip
        return service.read_postmortem(session=session, ref=ref)


@router.post("/incidents/{ref}/postmortem/whys", status_code=201, response_model=PostmortemRead)
def whys_add(ref: str, data: WhyCreate, store: StoreDep, who: Writer) -> PostmortemRead:
    """Add a why and its answer (answered by you unless ``answered_by`` says who)."""
    with store.write() as session:
        service.add_why(
            session=session,
            ref=ref,
            question=data.question,
            answer=data.answer,
            answered_by=data.answered_by or who.name,
        )
        return service.read_postmortem(session=session, ref=ref)


@router.post("/incidents/{ref}/postmortem/root-cause", response_model=PostmortemRead)
def whys_root_cause(ref: str, data: RootCauseMark, store: StoreDep, _who: Writer) -> PostmortemRead:
    """Mark the root cause the whys led to (needs at least one why)."""
    with store.write() as session:
        service.set_root_cause(session=session, ref=ref, text=data.text, category=data.category)
        return service.read_postmortem(session=session, ref=ref)


@router.post("/incidents/{ref}/postmortem/timeline", status_code=201, response_model=PostmortemRead)
def timeline_add(
    ref: str, data: list[TimelineItemCreate], store: StoreDep, _who: Writer
) -> PostmortemRead:
    """Add manual timeline entries (duplicates are skipped)."""
    with store.write() as session:
        _incident, pm = service.get_postmortem(session=session, ref=ref)
        service.add_timeline_entries(session=session, postmortem=pm, items=data, source="manual")
        return service.read_postmortem(session=session, ref=ref)


EntryId = Annotated[int, Path(ge=1, le=MAX_ID, description="A row id from the postmortem.")]


@router.patch("/incidents/{ref}/postmortem/timeline/{entry_id}", response_model=PostmortemRead)
def timeline_edit(
    ref: str, entry_id: EntryId, data: TimelineItemUpdate, store: StoreDep, _who: Writer
) -> PostmortemRead:
    """Correct a row of the postmortem's timeline (the incident's own timeline stays)."""
    with store.write() as session:
        service.update_timeline_entry(session=session, ref=ref, entry_id=entry_id, data=data)
        return service.read_postmortem(session=session, ref=ref)


@router.delete("/incidents/{ref}/postmortem/timeline/{entry_id}", response_model=PostmortemRead)
def timeline_remove(ref: str, entry_id: EntryId, store: StoreDep, _who: Writer) -> PostmortemRead:
    """Remove a row from the postmortem's timeline."""
    with store.write() as session:
        service.remove_timeline_entry(session=session, ref=ref, entry_id=entry_id)
        return service.read_postmortem(session=session, ref=ref)


@router.post("/incidents/{ref}/actions", status_code=201, response_model=ActionItemRead)
def action_create(
    ref: str, data: ActionItemCreate, store: StoreDep, _who: Writer
) -> ActionItemRead:
    """Add an action item (numbered AI-001, AI-002, … per incident)."""
    with store.write() as session:
        item = actions.create_action(session=session, ref=ref, data=data)
        found, incident = actions.get_action(session=session, ref=f"{ref}/AI-{item.number:03d}")
        return actions.read_action(found, incident)


@router.get("/actions", response_model=list[ActionItemRead])
def action_list(
    session: ReadSession,
    _who: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    owner: str | None = None,
    incident: str | None = None,
    overdue: bool = False,
) -> list[ActionItemRead]:
    """Action items across incidents, soonest due first."""
    return actions.list_actions(
        session=session, status=status, owner=owner, incident_ref=incident, overdue=overdue
    )


@router.patch("/incidents/{ref}/actions/{item_id}", response_model=ActionItemRead)
def action_update(
    ref: str, item_id: str, data: ActionItemUpdate, store: StoreDep, _who: Writer
) -> ActionItemRead:
    """Change an action item (e.g. ``{"status": "completed"}``)."""
    with store.write() as session:
        item, incident = actions.update_action(session=session, ref=f"{ref}/{item_id}", data=data)
        return actions.read_action(item, incident)


@router.get("/actions/stats")
def action_stats(session: ReadSession, _who: Reader, by: str = "owner") -> list[dict[str, object]]:
    """Completion rate per owner or team."""
    return actions.completion_rates(session=session, by=by)


@router.get("/calendar.ics", response_class=Response, responses=media_responses("text/calendar"))
def calendar(
    request: Request,
    session: ReadSession,
    key: Annotated[
        str | None,
        Query(description="A calendar feed key (`vigil token create NAME --scope calendar`)."),
    ] = None,
    token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Response:
    """iCalendar feed of action item due dates and postmortem reviews.

    Calendar apps cannot send headers, so the feed also takes a calendar feed key as
    ``?key=``: a credential that reads this feed and nothing else. API tokens are only
    accepted in the ``Authorization`` header, never in a URL.
    """
    calendar_reader(request, token, key)
    return Response(calendar_feed(session=session), media_type="text/calendar")


@router.get("/analytics/learning")
def learning(session: ReadSession, _who: Reader, window: str = "90d") -> dict[str, object]:
    """Most frequent contributing factors and root-cause categories across postmortems."""
    from vigil.analytics import parse_window
    from vigil.db import utcnow

    end = utcnow()
    return dict(service.learning_report(session=session, start=end - parse_window(window), end=end))
