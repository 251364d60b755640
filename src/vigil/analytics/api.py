"""REST endpoints for summaries and recurrence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from vigil.analytics import service
from vigil.analytics.availability import availability_by_resource
from vigil.analytics.panels import (
    Panels,
    dashboard_panels,
    recurring_incidents,
    reliability_ranking,
)
from vigil.analytics.reports import parse_window, render, weekly_report, window_bounds
from vigil.analytics.response import response_metrics
from vigil.analytics.schemas import IncidentSummary, Recurrence
from vigil.auth import Principal
from vigil.validation import Instant
from vigil.web import ReadSession, StoreDep, VigilRoute, media_responses, requires

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], route_class=VigilRoute)
Reader = Annotated[Principal, Depends(requires("read"))]


@router.get("/summary", response_model=IncidentSummary)
def summary(
    session: ReadSession,
    _who: Reader,
    start: Instant | None = None,
    end: Instant | None = None,
    project_id: str | None = None,
) -> IncidentSummary:
    """Count incidents in [start, end) by category and severity."""
    return service.incidents_summary(session=session, start=start, end=end, project_id=project_id)


@router.get("/recurrence", response_model=Recurrence)
def recurrence(
    session: ReadSession,
    store: StoreDep,
    _who: Reader,
    category: str,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    project_id: str | None = None,
    resource: str | None = None,
) -> Recurrence:
    """Rate per day and trend of a category over the last ``days``."""
    return service.recurrence_rate(
        session=session,
        settings=store.settings,
        category=category,
        days=days,
        project_id=project_id,
        resource=resource,
    )


def _as(rows: Sequence[BaseModel], fmt: str) -> Response:
    if fmt == "csv":
        return Response(render(rows, "csv"), media_type="text/csv")
    if fmt == "markdown":
        return Response(render(rows, "markdown"), media_type="text/markdown")
    return Response(render(rows, "json"), media_type="application/json")


TABULAR = media_responses("text/csv", "text/markdown")
Fmt = Annotated[Literal["json", "csv", "markdown"], Query(alias="format")]
WindowQ = Annotated[
    str, Query(description="24h, 7d, 30d… back from now; ignored when start is given.")
]


@router.get("/availability", responses=TABULAR)
def availability(
    session: ReadSession,
    _who: Reader,
    window: WindowQ = "7d",
    start: Instant | None = None,
    end: Instant | None = None,
    target: float = 99.0,
    resource: Annotated[list[str] | None, Query()] = None,
    count_maintenance: Annotated[
        bool,
        Query(
            description="Count planned maintenance in the SLA (by default it is left out and "
            "reported apart as maintenance_seconds)."
        ),
    ] = False,
    fmt: Fmt = "json",
) -> Response:
    """Availability, downtime, SLA band, error budget and MTBF per resource."""
    lo, hi = window_bounds(window, start, end)
    return _as(
        availability_by_resource(
            session=session,
            start=lo,
            end=hi,
            target_percent=target,
            resources=resource,
            exclude_maintenance=not count_maintenance,
        ),
        fmt,
    )


@router.get("/response", responses=TABULAR)
def response(
    session: ReadSession,
    _who: Reader,
    window: WindowQ = "7d",
    start: Instant | None = None,
    end: Instant | None = None,
    group_by: str = "all",
    service: str | None = None,
    project_id: str | None = None,
    assignee: Annotated[str | None, Query(max_length=50)] = None,
    fmt: Fmt = "json",
) -> Response:
    """MTTA, MTTR and time to close per group (``assignee``: only incidents assigned to them)."""
    lo, hi = window_bounds(window, start, end)
    return _as(
        response_metrics(
            session=session,
            start=lo,
            end=hi,
            group_by=group_by,
            service=service,
            project_id=project_id,
            assignee=assignee,
        ),
        fmt,
    )


@router.get("/reliability", responses=TABULAR)
def reliability(
    session: ReadSession,
    _who: Reader,
    window: WindowQ = "30d",
    start: Instant | None = None,
    end: Instant | None = None,
    fmt: Fmt = "json",
) -> Response:
    """Resources from most to least reliable."""
    lo, hi = window_bounds(window, start, end)
    return _as(reliability_ranking(session=session, start=lo, end=hi), fmt)


@router.get("/recurring", responses=TABULAR)
def recurring(
    session: ReadSession,
    _who: Reader,
    window: WindowQ = "90d",
    start: Instant | None = None,
    end: Instant | None = None,
    minimum: int = 2,
    fmt: Fmt = "json",
) -> Response:
    """Incidents recurring by fingerprint, with similar root causes clustered."""
    lo, hi = window_bounds(window, start, end)
    return _as(recurring_incidents(session=session, start=lo, end=hi, minimum=minimum), fmt)


@router.get("/dashboard", response_model=Panels)
def dashboard(session: ReadSession, _who: Reader, window: WindowQ = "24h") -> Panels:
    """The four dashboard panels: active now, availability, summary stats, recent history."""
    return dashboard_panels(session=session, window=parse_window(window))


@router.get("/weekly", response_class=PlainTextResponse)
def weekly(session: ReadSession, _who: Reader, target: float = 99.0) -> str:
    """The weekly Markdown report."""
    return weekly_report(session=session, target_percent=target)
