"""REST endpoints for channels, routes and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from vigil.auth import Principal
from vigil.notify import service
from vigil.notify.deliverer import send_test
from vigil.notify.schemas import (
    ChannelCreate,
    ChannelCreated,
    ChannelRead,
    ChannelTestResult,
    NotificationRead,
    RouteCreate,
    RouteRead,
)
from vigil.validation import Instant
from vigil.web import ReadSession, StoreDep, VigilRoute, requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["notifications"], route_class=VigilRoute)
Admin = Annotated[Principal, Depends(requires("admin"))]
Reader = Annotated[Principal, Depends(requires("read"))]


def _route(route: object, channel: str) -> RouteRead:
    return RouteRead.model_validate({**vars(route), "channel": channel})


@router.get("/channels", response_model=list[ChannelRead])
def list_channels(session: ReadSession, _who: Admin) -> list[ChannelRead]:
    """Every channel, its URL with secrets masked."""
    return [ChannelRead.model_validate(c) for c in service.list_channels(session=session)]


@router.post("/channels", status_code=201, response_model=ChannelCreated)
def add_channel(
    data: ChannelCreate, request: Request, store: StoreDep, _who: Admin
) -> ChannelCreated:
    """Add a channel; a webhook's signing secret is in this response only."""
    with store.write() as session:
        made = service.add_channel(
            session=session,
            settings=request.app.state.settings,
            name=data.name,
            url=data.url,
            kind=data.kind,
            default_route=data.default_route,
            rate_per_minute=data.rate_per_minute,
            bundle_after=data.bundle_after,
        )
        read = ChannelRead.model_validate(made.channel).model_dump()
    return ChannelCreated(**read, signing_secret=made.signing_secret)


@router.delete("/channels/{name}", response_model=ChannelRead)
def remove_channel(name: str, store: StoreDep, _who: Admin) -> ChannelRead:
    """Remove a channel and its routes; what it was sent stays in the log."""
    with store.write() as session:
        return ChannelRead.model_validate(service.remove_channel(session=session, name=name))


@router.post("/channels/{name}/test", response_model=ChannelTestResult)
async def send_channel_test(name: str, store: StoreDep, _who: Admin) -> ChannelTestResult:
    """Send a test message now and report what the destination answered."""
    answer = await run_in_threadpool(send_test, store, name)
    return ChannelTestResult(delivered=answer.ok, answer=answer.detail)


@router.get("/channels/{name}/routes", response_model=list[RouteRead])
def list_routes(name: str, session: ReadSession, _who: Admin) -> list[RouteRead]:
    """The channel's routing rules."""
    service.get_channel(session=session, name=name)
    return [_route(r, c) for r, c in service.list_routes(session=session, channel=name)]


@router.post("/channels/{name}/routes", status_code=201, response_model=RouteRead)
def add_route(name: str, data: RouteCreate, store: StoreDep, _who: Admin) -> RouteRead:
    """Route incident changes to the channel."""
    spec = service.RouteSpec(**data.model_dump())
    with store.write() as session:
        return _route(service.add_route(session=session, channel=name, spec=spec), name)


@router.delete("/routes/{route_id}", status_code=204)
def remove_route(route_id: int, store: StoreDep, _who: Admin) -> None:
    """Remove a routing rule."""
    with store.write() as session:
        service.remove_route(session=session, route_id=route_id)


@router.get("/notifications", response_model=list[NotificationRead])
def list_notifications(
    session: ReadSession,
    _who: Reader,
    incident: Annotated[str | None, Query(max_length=64)] = None,
    channel: Annotated[str | None, Query(max_length=100)] = None,
    state: Annotated[str | None, Query(max_length=16)] = None,
    since: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationRead]:
    """Recent notifications, newest first: to which channel, when, state, the answer."""
    rows = service.list_notifications(
        session=session, incident=incident, channel=channel, state=state, since=since, limit=limit
    )
    return service.notification_reads(session=session, rows=rows)
