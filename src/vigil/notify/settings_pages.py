"""Settings page for channels: list, add (URL encrypted at rest), test, remove.

A channel's URL holds its credentials, so the page shows only its redacted display form;
a webhook channel's signing secret is shown once, in the answer to the form that made it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.errors import VigilError
from vigil.notify import service
from vigil.web import Admin, AdminViewer, StoreDep, field_errors, redirect, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _channels_page(
    request: Request,
    store: StoreDep,
    *,
    shown: tuple[str, str] | None = None,
    errors: dict[str, str] | None = None,
    answer: str = "",
    status: int = 200,
) -> HTMLResponse:
    with store.read() as session:
        return render(
            request,
            "notify/channels.html",
            {"title": "Channels", "channels": service.list_channels(session=session),
             "routes": service.list_routes(session=session), "shown": shown,
             "errors": errors or {}, "answer": answer,
             "has_key": store.settings.secret_key is not None},
            status=status,
        )  # fmt: skip


@router.get("/settings/channels", response_class=HTMLResponse)
def channels(request: Request, store: StoreDep, _person: AdminViewer) -> HTMLResponse:
    """Channels and their routes."""
    return _channels_page(request, store)


@router.post("/settings/channels", response_model=None)
def add_channel(
    request: Request,
    store: StoreDep,
    _person: Admin,
    name: Annotated[str, Form(max_length=100)],
    url: Annotated[str, Form(max_length=2000)],
    kind: Annotated[str, Form(max_length=16)] = "apprise",
    default: Annotated[bool, Form()] = False,
) -> Response:
    """Add a channel; with ``default`` it gets open/resolve of high and critical incidents."""
    try:
        with store.write() as session:
            made = service.add_channel(session=session, settings=store.settings, name=name,
                                       url=url, kind=kind, default_route=default)  # fmt: skip
    except VigilError as exc:
        return _channels_page(request, store, errors=field_errors(exc), status=exc.http_status)
    shown = (f"Webhook channel {name}", made.signing_secret) if made.signing_secret else None
    return _channels_page(request, store, shown=shown)


@router.post("/settings/channels/test", response_model=None)
def send_test_message(
    request: Request, store: StoreDep, _person: Admin, name: Annotated[str, Form(max_length=100)]
) -> Response:
    """Send a real test message and show what the destination answered."""
    from vigil.notify.deliverer import send_test

    try:
        answer = send_test(store, name)
    except VigilError as exc:
        return _channels_page(request, store, errors=field_errors(exc), status=exc.http_status)
    verdict = "delivered" if answer.ok else "not delivered"
    return _channels_page(request, store, answer=f"{name}: {verdict}: {answer.detail}")


@router.post("/settings/channels/remove", response_model=None)
def remove_channel(
    request: Request, store: StoreDep, _person: Admin, name: Annotated[str, Form(max_length=100)]
) -> Response:
    """Remove a channel and its routes."""
    try:
        with store.write() as session:
            service.remove_channel(session=session, name=name)
    except VigilError as exc:
        return _channels_page(request, store, errors=field_errors(exc), status=exc.http_status)
    return redirect("/settings/channels")
