"""REST endpoints for summaries and recurrence."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from vigil.analytics import service
from vigil.analytics.schemas import IncidentSummary, Recurrence
from vigil.api_support import ReadSession, StoreDep, requires
from vigil.auth.service import Principal

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
Reader = Annotated[Principal, Depends(requires("read"))]


@router.get("/summary", response_model=IncidentSummary)
def summary(
    session: ReadSession,
    _who: Reader,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
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
) -> Recurrence:
    """Rate per day and trend of a category over the last ``days``."""
    return service.recurrence_rate(
        session=session,
        settings=store.settings,
        category=category,
        days=days,
        project_id=project_id,
    )
