"""Shared pieces of the HTTP interface: dependencies, the error mapper, the body limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.auth.service import Principal, authenticate, require_scope
from vigil.db.failures import DRIVER_ERRORS, translate_db_error
from vigil.db.store import Store
from vigil.errors import AuthError, PayloadTooLargeError, VigilError
from vigil.jsonbody import parse_json

__all__ = [
    "ERROR_RESPONSES",
    "BodyLimitMiddleware",
    "CredentialCache",
    "ErrorResponse",
    "ReadSession",
    "StoreDep",
    "VigilRoute",
    "bearer",
    "error_body",
    "install_error_handlers",
    "media_responses",
    "requires",
    "token_principal",
]

log = logging.getLogger("vigil.api")


def get_store(request: Request) -> Store:
    """Return the app's store."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def _read_session(store: StoreDep) -> Iterator[Session]:
    with store.read() as session:
        yield session


ReadSession = Annotated[Session, Depends(_read_session)]


class CredentialCache:
    """Remember verified credentials for a few seconds so each request skips a query."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget everything (after a revocation or rotation made here)."""
        with self._lock:
            self._entries.clear()

    def peek(self, key: str) -> Any | None:
        """Return the cached value of ``key`` if still fresh, else None."""
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        """Return the cached value of ``key`` or load (and cache) it; errors are not cached."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl, value)
        return value


def bearer(authorization: str | None) -> str:
    """Return the token of an ``Authorization: Bearer`` header or raise AuthError."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError("send the credential as 'Authorization: Bearer <token>'")
    return authorization[7:].strip()


def token_principal(request: Request, secret: str) -> Principal:
    """Authenticate an API token through the app's credential cache."""
    store: Store = request.app.state.store
    cache: CredentialCache = request.app.state.credentials

    def load() -> Principal:
        with store.read() as session:
            return authenticate(session=session, secret=secret)

    principal: Principal = cache.get("t:" + secret, load)
    return principal


def requires(scope: str) -> Callable[..., Principal]:
    """Return a dependency that authenticates the bearer token and checks ``scope``."""

    def _principal(
        request: Request,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Principal:
        principal = token_principal(request, bearer(authorization))
        require_scope(principal, scope)
        return principal

    return _principal


class ErrorDetail(BaseModel):
    """One problem with the request."""

    field: str | None = None
    message: str
    allowed: str | list[str] | None = None


class ErrorInfo(BaseModel):
    """What went wrong, which field, and what is allowed there."""

    code: str
    message: str
    field: str | None = None
    allowed: list[str] | None = None
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Vigil's one JSON error shape."""

    error: ErrorInfo


#: Documented on every operation: any route can meet bad input, credentials or a busy store.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": ErrorResponse,
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for status, text in (
        (400, "Malformed request (bad JSON, duplicate keys, NUL bytes)"),
        (401, "Missing, unknown or revoked credentials"),
        (403, "Credentials without the needed scope or kind"),
        (404, "No such object"),
        (409, "Clashes with stored state"),
        (413, "Body over the size limit"),
        (422, "A field breaks a rule; the error names it and what is allowed"),
        (503, "The database is busy or unavailable; retry"),
    )
}


def media_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """Document that a 200 may also come as each of ``media_types`` (e.g. ?format=csv)."""
    return {200: {"content": {media: {"schema": {"type": "string"}} for media in media_types}}}


def error_body(
    code: str,
    message: str,
    *,
    field: str | None = None,
    allowed: list[str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return Vigil's one JSON error shape."""
    return {
        "error": {
            "code": code,
            "message": message,
            "field": field,
            "allowed": allowed,
            "details": details or [],
        }
    }


def _vigil_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VigilError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    body = error_body(
        exc.code, exc.message, field=exc.context.get("field"), allowed=exc.context.get("allowed")
    )
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for err in exc.errors():
        item = {"field": _loc(tuple(err.get("loc", ()))), "message": err.get("msg", "")}
        ctx = err.get("ctx") or {}
        if "expected" in ctx:
            item["allowed"] = str(ctx["expected"])
        details.append(item)
    field = str(details[0]["field"]) if details else None
    text = str(details[0]["message"]) if details else "invalid request"
    message = f"{field}: {text}" if field else text
    body = error_body("validation_error", message, field=field, details=details)
    return JSONResponse(body, status_code=422)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail or "")), status_code=exc.status_code, headers=exc.headers
    )


def _driver_error(request: Request, exc: Exception) -> JSONResponse:
    translated = translate_db_error(exc)
    if translated is None:
        return _unexpected(request, exc)
    # The driver's message names SQL and internals: the server log has it, the client not.
    log.warning("%s %s: database refused: %s", request.method, request.url.path, _short(exc))
    return _vigil_error(request, translated)


def _short(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return text if len(text) <= 300 else text[:300] + "…"


def _out_of_range(_request: Request, _exc: Exception) -> JSONResponse:
    body = error_body("validation_error", "a number or time in the request is out of range")
    return JSONResponse(body, status_code=422)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    body = error_body("internal_error", "an unexpected error occurred; see the server log")
    # The server drops the connection after an unhandled error: say so to the client.
    return JSONResponse(body, status_code=500, headers={"Connection": "close"})


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the one JSON shape."""
    app.add_exception_handler(VigilError, _vigil_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for driver_error in DRIVER_ERRORS:
        app.add_exception_handler(driver_error, _driver_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(Exception, _unexpected)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class VigilRoute(APIRoute):
    """A route whose JSON body is read by Vigil's strict parser before FastAPI sees it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler: parse a JSON body first so its errors get Vigil's 400."""
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def parse_then_handle(request: Request) -> Response:
            kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
            if kind == "application/json" or kind.endswith("+json"):
                raw = await request.body()
                if raw:
                    # Starlette's Request.json() returns this instead of parsing again.
                    request._json = parse_json(raw)
            return await handler(request)

        return parse_then_handle


def _nul_in_url(scope: Scope) -> bool:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode()
    target = bytes(raw_path) + b"?" + bytes(scope.get("query_string", b""))
    return b"\x00" in target or b"%00" in target or b"\x00" in scope.get("path", "").encode()


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes with 413 (declared or streamed) and NUL in URLs."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _nul_in_url(scope):
            text = "the URL contains a NUL character (%00), which is not allowed"
            await JSONResponse(error_body("malformed_request", text), status_code=400)(
                scope, receive, send
            )
            return
        message = f"request body is larger than the {self.limit} byte limit (max_body_bytes)"
        too_large = JSONResponse(error_body("payload_too_large", message), status_code=413)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await too_large(scope, receive, send)
                return
        seen = 0
        exceeded = False
        started = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise PayloadTooLargeError(message)
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app made of the aborted read is replaced by the 413
            started = True
            await send(msg)

        try:
            await self.app(scope, limited, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await too_large(scope, receive, send)
