"""Settings pages for access: the settings index, API tokens and integration keys.

A new token's or key's secret is shown once, in the answer to the form that made it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.auth import integrations
from vigil.auth import service as tokens
from vigil.errors import VigilError
from vigil.web import Admin, AdminViewer, StoreDep, field_errors, redirect, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/settings", response_class=HTMLResponse)
def settings_index(request: Request, _person: AdminViewer) -> HTMLResponse:
    """Where each kind of setting lives."""
    return render(request, "auth/settings.html", {"title": "Settings"})


def _access_page(
    request: Request,
    store: StoreDep,
    *,
    shown: tuple[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with store.read() as session:
        return render(
            request,
            "auth/access.html",
            {"title": "Tokens and integrations", "tokens": tokens.list_tokens(session=session),
             "integrations": integrations.list_integrations(session=session),
             "kinds": integrations.KINDS, "scopes": tokens.SCOPES, "shown": shown,
             "errors": errors or {}},
            status=status,
        )  # fmt: skip


@router.get("/settings/access", response_class=HTMLResponse)
def access(request: Request, store: StoreDep, _person: AdminViewer) -> HTMLResponse:
    """API tokens and integration keys (only their prefixes: secrets are never shown again)."""
    return _access_page(request, store)


@router.post("/settings/tokens", response_model=None)
def create_token(
    request: Request,
    store: StoreDep,
    _person: Admin,
    name: Annotated[str, Form(max_length=100)],
    scope: Annotated[str, Form(max_length=10)] = "read",
) -> Response:
    """Create an API token and show its secret once."""
    try:
        with store.write() as session:
            _token, secret = tokens.create_token(session=session, name=name, scopes=[scope])
    except VigilError as exc:
        return _access_page(request, store, errors=field_errors(exc), status=exc.http_status)
    return _access_page(request, store, shown=(f"API token {name}", secret))


@router.post("/settings/tokens/revoke", response_model=None)
def revoke_token(
    request: Request, store: StoreDep, _person: Admin, name: Annotated[str, Form(max_length=100)]
) -> Response:
    """Revoke an API token; it stops working at once."""
    try:
        with store.write() as session:
            tokens.revoke_token(session=session, name=name)
    except VigilError as exc:
        return _access_page(request, store, errors=field_errors(exc), status=exc.http_status)
    request.app.state.credentials.clear()
    return redirect("/settings/access")


@router.post("/settings/integrations", response_model=None)
def create_integration(
    request: Request,
    store: StoreDep,
    _person: Admin,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=20)] = "events",
) -> Response:
    """Create an integration and show its key once."""
    try:
        with store.write() as session:
            _made, key = integrations.create_integration(session=session, name=name, kind=kind)
    except VigilError as exc:
        errors = {f"integration_{k}": v for k, v in field_errors(exc).items()}
        return _access_page(request, store, errors=errors, status=exc.http_status)
    return _access_page(request, store, shown=(f"{kind} integration {name}", key))


@router.post("/settings/integrations/remove", response_model=None)
def remove_integration(
    request: Request, store: StoreDep, _person: Admin, name: Annotated[str, Form(max_length=100)]
) -> Response:
    """Remove an integration; its key stops working at once."""
    try:
        with store.write() as session:
            integrations.remove_integration(session=session, name=name)
    except VigilError as exc:
        return _access_page(request, store, errors=field_errors(exc), status=exc.http_status)
    request.app.state.credentials.clear()
    return redirect("/settings/access")
