"""Web pages for postmortems: the editor (every section, five whys, action items, saved as
you type, Markdown preview, draft → in review → published, downloads) and the action board."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from vigil.db import utcnow
from vigil.errors import NotFoundError, VigilError
from vigil.postmortems import actions, form, render, service
from vigil.postmortems.schemas import ActionItemCreate, PostmortemUpdate
from vigil.web import (
    Responder,
    StoreDep,
    Viewer,
    field_errors,
    form_values,
    redirect,
)
from vigil.web import render as render_page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_FIX_TYPES = ("", "CODE", "CONFIG", "DATABASE", "INFRASTRUCTURE")
_DATA_STATES = ("", "INTACT", "INCONSISTENT", "CORRUPTED")
_NEXT_STATUS = {
    "draft": ("in_review",),
    "in_review": ("draft", "published"),
    "published": ("in_review",),
}
_STATUS_LABELS = {"draft": "Back to draft", "in_review": "Send for review", "published": "Publish"}


def _editor(
    request: Request,
    store: StoreDep,
    ref: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with store.read() as session:
        try:
            incident, pm = service.get_postmortem(session=session, ref=ref)
        except NotFoundError:
            from vigil.incidents import IncidentRead
            from vigil.incidents import service as incidents

            incident = incidents.get_incident(session=session, ref=ref)
            return render_page(
                request, "postmortems/start.html",
                {"title": f"Postmortem of {incident.human_id}", "incident": IncidentRead.from_incident(incident)},
            )  # fmt: skip
        return render_page(
            request,
            "postmortems/editor.html",
            {
                "title": pm.title, "incident": incident, "pm": pm,
                "values": values or form.form_from_sections(pm), "errors": errors or {},
                "formats": form.LINE_FORMATS, "checklist": form.CHECKLIST,
                "fix_types": _FIX_TYPES, "data_states": _DATA_STATES,
                "next_statuses": _NEXT_STATUS.get(pm.status, ()), "status_labels": _STATUS_LABELS,
                "actions": actions.list_actions(session=session, incident_ref=incident.human_id),
                "action_types": actions.ACTION_TYPES, "priorities": actions.PRIORITIES,
                "preview": _preview(session, incident.human_id),
            },
            status=status,
        )  # fmt: skip


def _preview(session: Any, ref: str) -> Markup:
    """The report as it will be published (Markdown rendered with raw HTML disabled)."""
    markdown = render.render_postmortem(session=session, ref=ref, fmt="markdown")
    return Markup(render.markdown_to_html(markdown))


@router.get("/incidents/{ref}/postmortem", response_class=HTMLResponse)
def editor(ref: str, request: Request, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """The postmortem editor (read-only for viewers)."""
    return _editor(request, store, ref)


@router.post("/incidents/{ref}/postmortem/start", response_model=None)
def start(
    ref: str,
    store: StoreDep,
    person: Responder,
    kind: Annotated[str, Form(max_length=10)] = "full",
) -> Response:
    """Start the postmortem from what the incident knows."""
    with store.write() as session:
        service.create_postmortem(session=session, ref=ref, actor=person.handle, kind=kind)
    return redirect(f"/incidents/{ref}/postmortem")


@router.post("/incidents/{ref}/postmortem", response_model=None)
async def save(ref: str, request: Request, store: StoreDep, person: Responder) -> Response:
    """Save the editor's fields; from htmx (as you type) answer with the save state only."""
    values = await form_values(request)
    partial = request.headers.get("hx-request") == "true"
    try:
        data = PostmortemUpdate(
            **form.header_from_form(values), sections=form.sections_from_form(values)
        )
        with store.write() as session:
            service.update_postmortem(session=session, ref=ref, data=data, actor=person.handle)
    except (VigilError, ValueError) as exc:
        errors = field_errors(exc)
        if partial:
            return render_page(request, "postmortems/_saved.html", {"errors": errors, "at": None},
                               status=422)  # fmt: skip
        return _editor(request, store, ref, errors=errors, values=values, status=422)
    if partial:
        return render_page(
            request, "postmortems/_saved.html", {"errors": {}, "at": utcnow()},
            headers={"HX-Trigger": "postmortem-saved"},
        )  # fmt: skip
    return redirect(f"/incidents/{ref}/postmortem?saved=1")


@router.get("/incidents/{ref}/postmortem/preview", response_class=HTMLResponse)
def preview(ref: str, store: StoreDep, _person: Viewer) -> HTMLResponse:
    """The rendered report (refreshed after each save)."""
    with store.read() as session:
        return HTMLResponse(_preview(session, ref))


@router.post("/incidents/{ref}/postmortem/status", response_model=None)
def change_status(
    ref: str,
    request: Request,
    store: StoreDep,
    person: Responder,
    status: Annotated[str, Form(max_length=20)],
) -> Response:
    """Move the postmortem between draft, in review and published."""
    try:
        with store.write() as session:
            service.update_postmortem(session=session, ref=ref, data=PostmortemUpdate(status=status),
                                      actor=person.handle)  # fmt: skip
    except VigilError as exc:
        return _editor(request, store, ref, errors=field_errors(exc), status=exc.http_status)
    return redirect(f"/incidents/{ref}/postmortem")


@router.post("/incidents/{ref}/postmortem/whys", response_model=None)
async def whys(ref: str, request: Request, store: StoreDep, person: Responder) -> Response:
    """Start the five whys, add a why, or mark the root cause they led to (by ``step``)."""
    values = await form_values(request)
    step = values.get("step", "")
    try:
        with store.write() as session:
            if step == "start":
                service.start_five_whys(session=session, ref=ref, problem=values.get("problem", ""),
                                        facilitator=values.get("facilitator") or person.handle)  # fmt: skip
            elif step == "root_cause":
                service.set_root_cause(session=session, ref=ref, text=values.get("root_cause_text", ""),
                                       category=values.get("category") or None)  # fmt: skip
            else:
                service.add_why(session=session, ref=ref, question=values.get("question", ""),
                                answer=values.get("answer", ""),
                                answered_by=values.get("answered_by") or person.handle)  # fmt: skip
    except VigilError as exc:
        return _editor(request, store, ref, errors=field_errors(exc), status=exc.http_status)
    return redirect(f"/incidents/{ref}/postmortem#whys")


@router.post("/incidents/{ref}/postmortem/actions", response_model=None)
async def add_action(ref: str, request: Request, store: StoreDep, _person: Responder) -> Response:
    """Add an action item to the incident."""
    values = await form_values(request)
    data = {
        k: v.strip() for k, v in values.items() if k in ActionItemCreate.model_fields and v.strip()
    }
    try:
        with store.write() as session:
            actions.create_action(session=session, ref=ref, data=ActionItemCreate(**data))
    except (VigilError, ValueError) as exc:
        errors = {f"action_{k}": v for k, v in field_errors(exc).items()}
        return _editor(request, store, ref, errors=errors, status=422)
    return redirect(f"/incidents/{ref}/postmortem#actions")


@router.get("/incidents/{ref}/postmortem.{fmt}")
def download(ref: str, fmt: str, store: StoreDep, _person: Viewer) -> Response:
    """Download the report as Markdown (``.md``) or a standalone HTML page (``.html``)."""
    kinds = {"md": ("markdown", "text/markdown"), "html": ("html", "text/html")}
    if fmt not in kinds:
        raise NotFoundError(f"no postmortem download as .{fmt}; use .md or .html", field="format")
    name, media = kinds[fmt]
    with store.read() as session:
        body = render.render_postmortem(session=session, ref=ref, fmt=name)
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="postmortem-{ref}.{fmt}"',
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


@router.get("/actions", response_class=HTMLResponse)
def action_board(
    request: Request,
    store: StoreDep,
    _person: Viewer,
    by: Annotated[str, Query(pattern="^(owner|status)$")] = "owner",
) -> HTMLResponse:
    """Every action item, grouped by owner or status, overdue ones marked."""
    with store.read() as session:
        items = actions.list_actions(session=session)
    groups: dict[str, list[Any]] = {}
    for item in items:
        key = (item.owner or "(no owner)") if by == "owner" else item.status
        groups.setdefault(key, []).append(item)
    overdue = [i for i in items if i.overdue]
    return render_page(
        request, "postmortems/actions.html",
        {"title": "Action items", "groups": groups, "by": by, "overdue": overdue,
         "today": dt.date.today()},
    )  # fmt: skip
