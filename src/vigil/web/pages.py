"""What every web page shares: templates, the signed-in person, CSRF, security headers.

Each domain's ``pages.py`` renders its own templates (``<domain>/templates``, addressed as
``"<domain>/name.html"``) through :func:`render`. A page handler depends on
:data:`Viewer` (anyone signed in) or :data:`Responder`/:data:`Admin` for a write; a write
dependency also checks the form's (or htmx's header) CSRF token against the session's.
Templates autoescape everything; values are never marked safe except the search
highlights, which :func:`vigil.incidents.search.marked_html` builds from escaped text.
"""

from __future__ import annotations

import datetime as dt
import hmac
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, PrefixLoader, StrictUndefined
from markupsafe import Markup
from pydantic import ValidationError as PydanticValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.auth import SignedIn, signed_in
from vigil.db import Store
from vigil.errors import AuthError, PermissionDeniedError, VigilError
from vigil.formats import duration

__all__ = [
    "SESSION_COOKIE",
    "Admin",
    "AdminViewer",
    "Member",
    "Responder",
    "ResponderViewer",
    "Viewer",
    "field_errors",
    "form_values",
    "redirect",
    "render",
    "render_fragment",
    "signed_in_person",
]

SESSION_COOKIE = "vigil_session"
_DOMAINS = ("web", "incidents", "analytics", "postmortems", "oncall", "notify", "ingest", "auth")
_ENV = Environment(
    loader=PrefixLoader({d: PackageLoader(f"vigil.{d}", "templates") for d in _DOMAINS}),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_RANKS = {"viewer": 0, "responder": 1, "admin": 2}
SEVERITY_SHAPES = {"critical": "◆", "high": "▲", "medium": "●", "low": "○"}


def _when(value: dt.datetime | None) -> str:
    return "—" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else duration(seconds)


def _severity(value: str) -> Markup:
    shape = SEVERITY_SHAPES.get(value, "■")
    return Markup(
        '<span class="sev sev-{0}"><span aria-hidden="true">{1}</span> {0}</span>'
    ).format(value, shape)


def _query(params: Mapping[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "", [])}
    return urllib.parse.urlencode(merged, doseq=True)


_ENV.filters.update(when=_when, duration=_duration, severity=_severity)
_ENV.globals.update(query=_query, shapes=SEVERITY_SHAPES)

#: Nothing is loaded from anywhere but this server; no inline script or style runs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or fragment) template with the signed-in person and CSRF token."""
    person: SignedIn | None = getattr(request.state, "person", None)
    html = _ENV.get_template(name).render(
        person=person,
        csrf_token=person.csrf_token if person else "",
        path=request.url.path,
        can_write=bool(person and _RANKS[person.role] >= 1),
        is_admin=bool(person and person.role == "admin"),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def render_fragment(name: str, context: Mapping[str, Any]) -> str:
    """Render a template to text (an error page, a fragment inside another response)."""
    return _ENV.get_template(name).render(**context)


def _login_redirect(request: Request) -> StarletteHTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login?" + urllib.parse.urlencode({"next": target})
    return StarletteHTTPException(
        303, "log in first", {"Location": location, "HX-Redirect": location}
    )


def signed_in_person(request: Request) -> SignedIn:
    """Return the person signed in with the session cookie, or redirect to the login page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise _login_redirect(request)
    store: Store = request.app.state.store
    cache = request.app.state.credentials

    def load() -> SignedIn:
        with store.read() as session:
            return signed_in(session=session, cookie=cookie)

    try:
        person: SignedIn = cache.get("s:" + cookie, load)
    except AuthError:
        raise _login_redirect(request) from None
    request.state.person = person
    return person


async def _csrf_token_of(request: Request) -> str:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    form = await request.form()
    value = form.get("csrf_token")
    return value if isinstance(value, str) else ""


def _writer(role: str) -> Callable[..., Any]:
    async def person_who_may_write(
        request: Request, person: Annotated[SignedIn, Depends(signed_in_person)]
    ) -> SignedIn:
        if _RANKS[person.role] < _RANKS[role]:
            raise PermissionDeniedError(
                f"{person.handle} is a {person.role}; this needs the {role} role"
            )
        given = (await _csrf_token_of(request)).encode()
        if not hmac.compare_digest(given, person.csrf_token.encode()):
            raise PermissionDeniedError(
                "the form's CSRF token is missing or stale; reload the page and try again",
                field="csrf_token",
            )
        return person

    return person_who_may_write


def _reader(role: str) -> Callable[..., SignedIn]:
    def person_who_may_read(person: Annotated[SignedIn, Depends(signed_in_person)]) -> SignedIn:
        if _RANKS[person.role] < _RANKS[role]:
            raise PermissionDeniedError(
                f"{person.handle} is a {person.role}; this page needs the {role} role"
            )
        return person

    return person_who_may_read


Viewer = Annotated[SignedIn, Depends(signed_in_person)]
ResponderViewer = Annotated[SignedIn, Depends(_reader("responder"))]
AdminViewer = Annotated[SignedIn, Depends(_reader("admin"))]
#: Anyone signed in, posting a form with its CSRF token (logging out, their own settings).
Member = Annotated[SignedIn, Depends(_writer("viewer"))]
Responder = Annotated[SignedIn, Depends(_writer("responder"))]
Admin = Annotated[SignedIn, Depends(_writer("admin"))]


def field_errors(exc: Exception) -> dict[str, str]:
    """Map a refused form to a message per field (``form`` for one that names no field)."""
    if isinstance(exc, PydanticValidationError):
        out: dict[str, str] = {}
        for err in exc.errors():
            name = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "form"
            out.setdefault(name, str(err.get("msg", "invalid")).removeprefix("Value error, "))
        return out
    if isinstance(exc, VigilError):
        return {str(exc.context.get("field") or "form"): exc.message}
    raise exc


async def form_values(request: Request) -> dict[str, str]:
    """The posted form's text fields (files and the CSRF token left out)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def redirect(location: str) -> Response:
    """See-other to ``location`` after a form post (htmx follows it as a full page)."""
    return Response(status_code=303, headers={"Location": location, **PAGE_HEADERS})
