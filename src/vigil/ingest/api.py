"""Ingestion endpoints: native events, PagerDuty Events v2, Alertmanager, Grafana, heartbeats."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic_core import to_json

from vigil.auth import Principal, integrations
from vigil.errors import AuthError, MalformedRequestError, PermissionDeniedError, VigilError
from vigil.ingest import heartbeats, maintenance
from vigil.ingest.pipeline import IngestPipeline
from vigil.ingest.receivers import (
    PagerDutyError,
    alerts_to_signals,
    events_json_to_signals,
    pagerduty_to_signal,
)
from vigil.ingest.resources import ResourceStateRead, list_states
from vigil.ingest.schemas import (
    EventIn,
    HeartbeatCreate,
    HeartbeatRead,
    IngestResponse,
    IntegrationCreate,
    IntegrationCreated,
    IntegrationRead,
    MaintenanceCreate,
    MaintenanceRead,
    PagerDutyInvalid,
)
from vigil.ingest.signals import Outcome, Signal
from vigil.jsonbody import parse_json
from vigil.validation import MAX_ID
from vigil.web import (
    ReadSession,
    StoreDep,
    VigilRoute,
    error_body,
    ingest_sender,
    integration_identity,
    integration_sender,
    requires,
    sender_of,
)

router = APIRouter(tags=["ingestion"], route_class=VigilRoute)
Admin = Annotated[Principal, Depends(requires("admin"))]
Writer = Annotated[Principal, Depends(requires("write"))]
Reader = Annotated[Principal, Depends(requires("read"))]


AlertmanagerSender = Annotated[str, Depends(sender_of("alertmanager"))]
GrafanaSender = Annotated[str, Depends(sender_of("grafana"))]
HeartbeatSender = Annotated[str, Depends(sender_of("heartbeat"))]


async def _json(request: Request) -> Any:
    return parse_json(await request.body())


async def _commit(request: Request, signals: list[Signal]) -> list[Outcome]:
    pipeline: IngestPipeline = request.app.state.pipeline
    return await asyncio.wrap_future(pipeline.submit(signals))


def _response(outcomes: list[Outcome]) -> Response:
    """Build the 202 body (the shape of IngestResponse) without a validation pass."""
    touched = list(dict.fromkeys(o.incident_id for o in outcomes if o.incident_id))
    body = {
        "status": "accepted",
        "events": len(outcomes),
        "incidents": touched,
        "results": [{"outcome": o.outcome, "incident_id": o.incident_id} for o in outcomes],
    }
    return Response(to_json(body), status_code=202, media_type="application/json")


_EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        EventIn.model_json_schema(),
                        {"type": "array", "items": EventIn.model_json_schema()},
                    ]
                }
            }
        },
    }
}


@router.post(
    "/api/v1/events", status_code=202, response_model=IngestResponse, openapi_extra=_EVENT_BODY
)
async def post_events(request: Request) -> Response:
    """Ingest one event or a JSON array of events; all or nothing, answered after commit.

    Authorization: an integration key or an API token with write scope, as a Bearer token.
    """
    try:
        # The header is read here rather than through a dependency: this is the hottest route.
        sender = await ingest_sender(request, request.headers.get("authorization"), "events")
        body = await request.body()
        signals = events_json_to_signals(request.app.state.settings, body, sender=sender)
    except VigilError:
        await _slow_down(request, "events")
        raise
    return _response(await _commit(request, signals))


def _count_refusal(request: Request, receiver: str) -> None:
    request.app.state.metrics.rejected.labels(receiver=receiver).inc()


async def _slow_down(request: Request, receiver: str) -> None:
    """Count a refusal, then delay it: a sender that keeps failing then sends less, and the
    CPU it would have taken stays with the senders that work (the delay waits, it does not
    compute)."""
    _count_refusal(request, receiver)
    delay = request.app.state.settings.ingest_refusal_delay_seconds
    if delay:
        await asyncio.sleep(delay)


@router.post(
    "/v2/enqueue",
    status_code=202,
    tags=["pagerduty"],
    responses={400: {"model": PagerDutyInvalid, "description": "PagerDuty's invalid-event answer"}},
)
async def pagerduty_enqueue(request: Request) -> JSONResponse:
    """PagerDuty Events API v2: routing_key is a Vigil integration key."""
    try:
        body = parse_json(await request.body())
    except MalformedRequestError as exc:
        return _pd_invalid(request, [exc.message])
    key = body.get("routing_key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key:
        return _pd_invalid(request, ["'routing_key' is missing or blank"])
    try:
        identity = request.app.state.credentials.peek("i:" + key) or await run_in_threadpool(
            integration_identity, request, key
        )
    except AuthError:
        return _pd_invalid(request, ["Invalid routing key"])
    try:
        sender = integration_sender(identity, "pagerduty")
    except PermissionDeniedError as exc:
        _count_refusal(request, "pagerduty")
        return JSONResponse(error_body(exc.code, exc.message), status_code=403)
    try:
        signal, dedup_key = pagerduty_to_signal(body, sender=sender)
    except PagerDutyError as exc:
        return _pd_invalid(request, exc.errors)
    await _commit(request, [signal])
    return JSONResponse(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, status_code=202
    )


def _pd_invalid(request: Request, errors: list[str]) -> JSONResponse:
    _count_refusal(request, "pagerduty")
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return JSONResponse(body, status_code=400)


@router.post("/api/v1/integrations/alertmanager", status_code=202, response_model=IngestResponse)
async def alertmanager(request: Request, sender: AlertmanagerSender) -> Response:
    """Prometheus Alertmanager webhook (payload version 4)."""
    return await _alert_webhook(request, "alertmanager", sender)


@router.post("/api/v1/integrations/grafana", status_code=202, response_model=IngestResponse)
async def grafana(request: Request, sender: GrafanaSender) -> Response:
    """Grafana alerting webhook contact point."""
    return await _alert_webhook(request, "grafana", sender)


async def _alert_webhook(request: Request, source: str, sender: str) -> Response:
    try:
        signals = alerts_to_signals(await _json(request), source=source, sender=sender)
    except VigilError:
        await _slow_down(request, source)
        raise
    return _response(await _commit(request, signals))


@router.get("/api/v1/integrations", response_model=list[IntegrationRead])
def list_integrations(session: ReadSession, _who: Admin) -> list[IntegrationRead]:
    """List integrations (never their keys)."""
    return [
        IntegrationRead.model_validate(i) for i in integrations.list_integrations(session=session)
    ]


@router.post("/api/v1/integrations", status_code=201, response_model=IntegrationCreated)
def create_integration(data: IntegrationCreate, store: StoreDep, _who: Admin) -> IntegrationCreated:
    """Create an integration; its key is in this response only."""
    with store.write() as session:
        item, key = integrations.create_integration(session=session, name=data.name, kind=data.kind)
        return IntegrationCreated(**IntegrationRead.model_validate(item).model_dump(), key=key)


@router.post("/api/v1/integrations/{name}/rotate", response_model=IntegrationCreated)
def rotate_integration(
    name: str, request: Request, store: StoreDep, _who: Admin
) -> IntegrationCreated:
    """Replace an integration's key."""
    with store.write() as session:
        item, key = integrations.rotate_integration(session=session, name=name)
        created = IntegrationCreated(**IntegrationRead.model_validate(item).model_dump(), key=key)
    request.app.state.credentials.clear()
    return created


@router.delete("/api/v1/integrations/{name}", status_code=204)
def remove_integration(name: str, request: Request, store: StoreDep, _who: Admin) -> None:
    """Remove an integration; its key stops working."""
    with store.write() as session:
        integrations.remove_integration(session=session, name=name)
    request.app.state.credentials.clear()


@router.get("/api/v1/heartbeats", response_model=list[HeartbeatRead])
def list_heartbeats(session: ReadSession, _who: Reader) -> list[HeartbeatRead]:
    """List heartbeats and whether each is missing."""
    return [HeartbeatRead.model_validate(h) for h in heartbeats.list_heartbeats(session=session)]


@router.post("/api/v1/heartbeats", status_code=201, response_model=HeartbeatRead)
def create_heartbeat(data: HeartbeatCreate, store: StoreDep, _who: Writer) -> HeartbeatRead:
    """Register a heartbeat."""
    with store.write() as session:
        hb = heartbeats.create_heartbeat(session=session, **data.model_dump())
        return HeartbeatRead.model_validate(hb)


@router.delete("/api/v1/heartbeats/{name}", status_code=204)
def remove_heartbeat(name: str, store: StoreDep, _who: Writer) -> None:
    """Stop expecting a heartbeat."""
    with store.write() as session:
        heartbeats.remove_heartbeat(session=session, name=name)


@router.post("/api/v1/heartbeats/{name}/beat", status_code=202)
def beat(name: str, store: StoreDep, sender: HeartbeatSender) -> dict[str, Any]:
    """Check in (integration key or write token)."""
    with store.write() as session:
        outcome = heartbeats.beat(
            session=session, settings=store.settings, name=name, sender=sender
        )
    return {"status": "accepted", "outcome": outcome.outcome, "incident_id": outcome.incident_id}


@router.get("/api/v1/resources", response_model=list[ResourceStateRead])
def list_resources(
    session: ReadSession, _who: Reader, failing: bool = False
) -> list[ResourceStateRead]:
    """Current status of every resource/component (failing first)."""
    return list_states(session=session, failing_only=failing)


@router.get("/api/v1/maintenance", response_model=list[MaintenanceRead])
def list_windows(
    session: ReadSession, _who: Reader, include_past: bool = False
) -> list[MaintenanceRead]:
    """List maintenance windows that have not ended (or all)."""
    rows = maintenance.list_windows(session=session, include_past=include_past)
    return [MaintenanceRead.model_validate(w) for w in rows]


@router.post("/api/v1/maintenance", status_code=201, response_model=MaintenanceRead)
def create_window(data: MaintenanceCreate, store: StoreDep, who: Writer) -> MaintenanceRead:
    """Create a maintenance window."""
    with store.write() as session:
        window = maintenance.create_window(session=session, actor=who.name, **data.model_dump())
        return MaintenanceRead.model_validate(window)


@router.delete("/api/v1/maintenance/{window_id}", status_code=204)
def delete_window(
    window_id: Annotated[int, Path(ge=1, le=MAX_ID)], store: StoreDep, _who: Writer
) -> None:
    """Delete a maintenance window."""
    with store.write() as session:
        maintenance.delete_window(session=session, window_id=window_id)
