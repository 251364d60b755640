"""Web page for resources: every resource's current state, heartbeats, maintenance windows."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from vigil.ingest import heartbeats, maintenance, resources
from vigil.web import StoreDep, Viewer, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/resources", response_class=HTMLResponse)
def resources_page(request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """The current state of every resource and component, failing first."""
    with store.read() as session:
        return render(
            request,
            "ingest/resources.html",
            {
                "title": "Resources",
                "states": resources.list_states(session=session),
                "heartbeats": heartbeats.list_heartbeats(session=session),
                "windows": maintenance.list_windows(session=session),
            },
        )
