"""The login and logout pages."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.auth import logins
from vigil.errors import TooManyAttemptsError
from vigil.web import SESSION_COOKIE, Member, StoreDep, redirect, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_LOGIN_CSRF = "vigil_login_csrf"


def _safe_next(target: str) -> str:
    """Only a path on this server: never another host (``//evil``, ``https://``)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(
    request: Request, *, next_: str, handle: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(_LOGIN_CSRF) or secrets.token_urlsafe(24)
    page = render(
        request,
        "auth/login.html",
        {"title": "Log in", "login_csrf": token, "next": _safe_next(next_), "handle": handle,
         "error": error},
        status=status,
    )  # fmt: skip
    page.set_cookie(
        _LOGIN_CSRF, token, httponly=True, samesite="strict", secure=_tls(request), max_age=3600
    )
    return page


def _tls(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """Show the login form."""
    return _login_page(request, next_=next)


@router.post("/login")
def login(
    request: Request,
    store: StoreDep,
    handle: Annotated[str, Form(max_length=50)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success start a session and go where the person was going."""
    expected = request.cookies.get(_LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(
            request, next_=next, handle=handle, status=403,
            error="The form expired or came from another site; log in again.",
        )  # fmt: skip
    address = request.client.host if request.client else "unknown"
    settings = store.settings
    try:
        with store.write() as session:
            person_id = logins.check_login(
                session=session, handle=handle, password=password, address=address,
                limit=settings.login_attempts,
            )  # fmt: skip
            cookie = (
                logins.start_session(
                    session=session, person_id=person_id, hours=settings.session_hours
                )
                if person_id is not None
                else None
            )
    except TooManyAttemptsError as exc:
        return _login_page(request, next_=next, handle=handle, error=exc.message, status=429)
    if cookie is None:
        return _login_page(
            request, next_=next, handle=handle, error="Wrong handle or password.", status=401
        )
    response = redirect(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=_tls(request),
        max_age=int(settings.session_hours * 3600),
        path="/",
    )
    response.delete_cookie(_LOGIN_CSRF)
    return response


@router.post("/logout")
def logout(request: Request, store: StoreDep, _person: Member) -> Response:
    """End the session (the form carries the CSRF token)."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with store.write() as session:
        logins.end_session(session=session, cookie=cookie)
    request.app.state.credentials.clear()
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
