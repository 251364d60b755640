"""Settings page for monitoring: maintenance windows and heartbeats."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.errors import VigilError
from vigil.ingest import heartbeats, maintenance
from vigil.validation import parse_instant
from vigil.web import Admin, AdminViewer, StoreDep, field_errors, redirect, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _monitoring_page(
    request: Request, store: StoreDep, *, errors: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    with store.read() as session:
        return render(
            request,
            "ingest/monitoring.html",
            {"title": "Maintenance and heartbeats",
             "windows": maintenance.list_windows(session=session),
             "heartbeats": heartbeats.list_heartbeats(session=session), "errors": errors or {}},
            status=status,
        )  # fmt: skip


@router.get("/settings/monitoring", response_class=HTMLResponse)
def monitoring(request: Request, store: StoreDep, _person: AdminViewer) -> HTMLResponse:
    """Maintenance windows and heartbeats."""
    return _monitoring_page(request, store)


@router.post("/settings/maintenance", response_model=None)
def add_window(
    request: Request,
    store: StoreDep,
    person: Admin,
    name: Annotated[str, Form(max_length=200)],
    resource: Annotated[str, Form(max_length=200)],
    starts_at: Annotated[str, Form(max_length=60)],
    ends_at: Annotated[str, Form(max_length=60)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Schedule a window that silences notifications for the resources it covers."""
    try:
        with store.write() as session:
            maintenance.create_window(
                session=session, name=name, resource=resource.strip() or None, reason=reason,
                starts_at=parse_instant(starts_at, field="starts_at"),
                ends_at=parse_instant(ends_at, field="ends_at"), actor=person.handle,
            )  # fmt: skip
    except VigilError as exc:
        return _monitoring_page(request, store, errors=field_errors(exc), status=exc.http_status)
    return redirect("/settings/monitoring")


@router.post("/settings/maintenance/remove", response_model=None)
def remove_window(
    request: Request, store: StoreDep, _person: Admin, window_id: Annotated[int, Form(ge=1)]
) -> Response:
    """Delete a maintenance window."""
    try:
        with store.write() as session:
            maintenance.delete_window(session=session, window_id=window_id)
    except VigilError as exc:
        return _monitoring_page(request, store, errors=field_errors(exc), status=exc.http_status)
    return redirect("/settings/monitoring")


@router.post("/settings/heartbeats", response_model=None)
def add_heartbeat(
    request: Request,
    store: StoreDep,
    _person: Admin,
    name: Annotated[str, Form(max_length=200)],
    interval_seconds: Annotated[int, Form(ge=1, le=31 * 86400)],
    grace_seconds: Annotated[int, Form(ge=0, le=31 * 86400)] = 0,
) -> Response:
    """Register a heartbeat that must check in every interval."""
    try:
        with store.write() as session:
            heartbeats.create_heartbeat(session=session, name=name, interval_seconds=interval_seconds,
                                        grace_seconds=grace_seconds)  # fmt: skip
    except VigilError as exc:
        return _monitoring_page(request, store, errors=field_errors(exc), status=exc.http_status)
    return redirect("/settings/monitoring")
