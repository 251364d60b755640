"""Web pages for incidents: the list (filters, sort, pages, CSV), declaring, search."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.errors import VigilError
from vigil.incidents import listing, search
from vigil.incidents import service as incidents
from vigil.incidents.lifecycle import SEVERITIES, STATUSES
from vigil.incidents.schemas import IncidentCreate, IncidentFilter
from vigil.validation import parse_instant
from vigil.web import (
    Responder,
    ResponderViewer,
    StoreDep,
    Viewer,
    field_errors,
    form_values,
    redirect,
    render,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_TEXT_FILTERS = ("service", "resource", "assignee", "q")
_CSV_COLUMNS = (
    "id", "title", "severity", "status", "category", "service", "resource", "component",
    "assignee", "detected_at", "acknowledged_at", "resolved_at", "occurrence_count",
)  # fmt: skip
DECLARE_FIELDS = ("title", "description", "severity", "category", "service", "resource",
                  "component", "host")  # fmt: skip


def _filters_from(params: dict[str, Any]) -> IncidentFilter:
    data: dict[str, Any] = {k: params[k] for k in ("status", "severity", "category") if params[k]}
    data.update({k: params[k] for k in _TEXT_FILTERS if params[k]})
    for name in ("since", "until"):
        if params[name]:
            data[name] = parse_instant(params[name], field=name)
    return IncidentFilter(**data)


_Multi = Annotated[list[str] | None, Query(max_length=20)]
_Text = Annotated[str | None, Query(max_length=200)]


def _list_query(
    status: _Multi = None,
    severity: _Multi = None,
    category: _Multi = None,
    service: _Text = None,
    resource: _Text = None,
    assignee: _Text = None,
    since: _Text = None,
    until: _Text = None,
    q: _Text = None,
    sort: Annotated[str, Query(max_length=20)] = "newest",
) -> dict[str, Any]:
    """The list's view as the URL gives it (shared by the page and its CSV export)."""
    return {
        "status": status or [], "severity": severity or [], "category": category or [],
        "service": service or "", "resource": resource or "", "assignee": assignee or "",
        "since": since or "", "until": until or "", "q": q or "", "sort": sort,
    }  # fmt: skip


ListQuery = Annotated[dict[str, Any], Depends(_list_query)]


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(
    request: Request,
    store: StoreDep,
    _person: Viewer,
    params: ListQuery,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> HTMLResponse:
    """List incidents; every filter, the order and the page are in the URL to share it."""
    errors: dict[str, str] = {}
    result = None
    with store.read() as session:
        try:
            result = listing.browse_incidents(
                session=session, settings=store.settings, filters=_filters_from(params),
                sort=params["sort"], page=page, per_page=per_page,
            )  # fmt: skip
        except (VigilError, ValueError) as exc:
            errors = field_errors(exc)
        return render(
            request,
            "incidents/list.html",
            {
                "title": "Incidents", "params": params, "result": result, "errors": errors,
                "statuses": STATUSES, "severities": SEVERITIES,
                "categories": store.settings.categories, "sorts": list(listing.SORTS),
                "per_page": per_page,
            },
            status=422 if errors else 200,
        )  # fmt: skip


@router.get("/incidents.csv")
def incident_csv(store: StoreDep, _person: Viewer, params: ListQuery) -> Response:
    """The list's incidents (up to 10,000) as CSV; cells a spreadsheet would run are quoted."""
    from vigil.analytics import csv_safe

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    with store.read() as session:
        rows = listing.export_incidents(
            session=session, settings=store.settings, filters=_filters_from(params),
            sort=params["sort"],
        )  # fmt: skip
        for i in rows:
            row = [i.human_id if c == "id" else getattr(i, c) for c in _CSV_COLUMNS]
            writer.writerow([csv_safe("" if v is None else str(v)) for v in row])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incidents.csv"'},
    )


def _declare_page(
    request: Request, store: StoreDep, values: dict[str, str], errors: dict[str, str], status: int
) -> HTMLResponse:
    return render(
        request,
        "incidents/declare.html",
        {"title": "Declare an incident", "values": values, "errors": errors,
         "severities": SEVERITIES, "categories": store.settings.categories},
        status=status,
    )  # fmt: skip


@router.get("/incidents/new", response_class=HTMLResponse)
def declare_form(request: Request, store: StoreDep, _person: ResponderViewer) -> HTMLResponse:
    """The form to declare an incident."""
    return _declare_page(request, store, {"severity": "high", "category": "OTHER"}, {}, 200)


@router.post("/incidents", response_model=None)
async def declare(request: Request, store: StoreDep, person: Responder) -> Response:
    """Declare an incident; a refused field is shown next to it with what was typed."""
    values = await form_values(request)
    data = {k: v.strip() for k, v in values.items() if k in DECLARE_FIELDS and v.strip()}
    try:
        with store.write() as session:
            human_id = incidents.create_incident(
                session=session, settings=store.settings, data=IncidentCreate(**data),
                actor=person.handle, source="web",
            )  # fmt: skip
    except (VigilError, ValueError) as exc:
        return _declare_page(request, store, values, field_errors(exc), 422)
    return redirect(f"/incidents/{human_id}")


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    store: StoreDep,
    _person: Viewer,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """Full-text search over incidents, notes and postmortems, best match first."""
    per_page = 20
    with store.read() as session:
        hits = search.search_incidents(
            session=session, query=q, limit=per_page + 1, offset=(page - 1) * per_page
        )
        found = {
            i.id: i
            for i in incidents.incidents_by_id(session=session, ids=[h.incident_id for h in hits])
        }
        rows = [
            {"incident": found[h.incident_id], "title": search.marked_html(h.title),
             "snippet": search.marked_html(h.snippet)}
            for h in hits[:per_page] if h.incident_id in found
        ]  # fmt: skip
        return render(
            request,
            "incidents/search.html",
            {"title": "Search", "search_query": q, "rows": rows, "page": page,
             "more": len(hits) > per_page},
        )  # fmt: skip
