"""The pages behind action links: a confirmation (GET changes nothing) and the action (POST).

The token is the only credential: it is in the query of the link (redacted from access
logs, and the pages send no Referer), then in the form body. Errors (altered, expired,
used) are pages from the shared error mapper, and change nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from vigil.notify.actions import LinkOffer, follow_link, read_link
from vigil.web import StoreDep

__all__ = ["router"]

router = APIRouter(tags=["notifications"], include_in_schema=True)
_ENV = Environment(
    loader=PackageLoader("vigil.notify", "templates"),
    autoescape=select_autoescape(["html"]),
)
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _page(offer: LinkOffer, *, token: str, done: bool, actor: str = "") -> HTMLResponse:
    html = _ENV.get_template("act.html").render(
        heading=f"{offer.label} {offer.incident.human_id}",
        incident=offer.incident,
        label=offer.label,
        token=token,
        done=done,
        actor=actor,
        needs_text=offer.action == "note",
        action_url="/act",
    )
    return HTMLResponse(html, headers=_HEADERS)


@router.get("/act", response_class=HTMLResponse, summary="Confirm an action from a notification")
def confirm_page(
    store: StoreDep, request: Request, token: Annotated[str, Query(max_length=2000)]
) -> HTMLResponse:
    """Show what a notification's link would do; nothing changes until the form is sent."""
    with store.read() as session:
        offer = read_link(session=session, settings=request.app.state.settings, token=token)
        return _page(offer, token=token, done=False)


@router.post("/act", response_class=HTMLResponse, summary="Do an action from a notification")
def act(
    store: StoreDep,
    request: Request,
    token: Annotated[str, Form(max_length=2000)],
    text: Annotated[str, Form(max_length=10_000)] = "",
) -> HTMLResponse:
    """Acknowledge, resolve or add a note, once per link; the timeline names the channel."""
    with store.write() as session:
        offer = follow_link(
            session=session, settings=request.app.state.settings, token=token, text=text
        )
        return _page(offer, token="", done=True, actor=f"link via channel {offer.channel}")
