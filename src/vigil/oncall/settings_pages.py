"""Settings page for people: who can log in with which role, and their contact methods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.auth import ROLES, role_of, set_password
from vigil.errors import VigilError
from vigil.oncall import people
from vigil.web import Admin, AdminViewer, StoreDep, field_errors, redirect, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _people_page(
    request: Request,
    store: StoreDep,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with store.read() as session:
        rows = [
            {"person": p, "role": role_of(session=session, handle=p.handle),
             "contacts": people.list_contacts(session=session, handle=p.handle)}
            for p in people.list_people(session=session)
        ]  # fmt: skip
        return render(
            request,
            "oncall/people.html",
            {"title": "People", "rows": rows, "roles": ROLES, "errors": errors or {},
             "values": values or {}, "kinds": people.CONTACT_KINDS},
            status=status,
        )  # fmt: skip


@router.get("/settings/people", response_class=HTMLResponse)
def people_page(request: Request, store: StoreDep, _person: AdminViewer) -> HTMLResponse:
    """People, their roles and contact methods."""
    return _people_page(request, store)


@router.post("/settings/people", response_model=None)
def add_person(
    request: Request,
    store: StoreDep,
    _person: Admin,
    handle: Annotated[str, Form(max_length=50)],
    name: Annotated[str, Form(max_length=200)],
    time_zone: Annotated[str, Form(max_length=64)] = "UTC",
    role: Annotated[str, Form(max_length=16)] = "viewer",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Add a person; with a password they can log in with the role given."""
    try:
        with store.write() as session:
            added = people.add_person(
                session=session, handle=handle, name=name, time_zone=time_zone
            )
            if password:
                set_password(session=session, handle=added.handle, password=password, role=role)
    except VigilError as exc:
        values = {"handle": handle, "name": name, "time_zone": time_zone, "role": role}
        return _people_page(
            request, store, errors=field_errors(exc), values=values, status=exc.http_status
        )
    return redirect("/settings/people")


@router.post("/settings/people/{handle}/login", response_model=None)
def set_login(
    handle: str,
    request: Request,
    store: StoreDep,
    _person: Admin,
    role: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=200)],
) -> Response:
    """Set a person's password and role (their other sessions end)."""
    try:
        with store.write() as session:
            set_password(session=session, handle=handle, password=password, role=role)
    except VigilError as exc:
        errors = {f"{handle}.{k}": v for k, v in field_errors(exc).items()}
        return _people_page(request, store, errors=errors, status=exc.http_status)
    request.app.state.credentials.clear()
    return redirect("/settings/people")


@router.post("/settings/people/{handle}/contacts", response_model=None)
def add_contact(
    handle: str,
    request: Request,
    store: StoreDep,
    _person: Admin,
    label: Annotated[str, Form(max_length=50)],
    kind: Annotated[str, Form(max_length=16)],
    address: Annotated[str, Form(max_length=2000)],
) -> Response:
    """Add a contact method (it pages once verified with `vigil people verify`)."""
    try:
        with store.write() as session:
            people.add_contact(session=session, settings=store.settings, handle=handle,
                               label=label, kind=kind, address=address)  # fmt: skip
    except VigilError as exc:
        errors = {f"{handle}.contact": exc.message}
        return _people_page(request, store, errors=errors, status=exc.http_status)
    return redirect("/settings/people")
