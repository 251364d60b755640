"""Shared pieces of the HTTP interface: dependencies, the error mapper, the body limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.auth.service import Principal, authenticate, require_scope
from vigil.db.store import Store
from vigil.errors import AuthError, PayloadTooLargeError, VigilError

__all__ = [
    "BodyLimitMiddleware",
    "CredentialCache",
    "ReadSession",
    "StoreDep",
    "bearer",
    "error_body",
    "install_error_handlers",
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
    return JSONResponse(error_body(code, str(exc.detail or "")), status_code=exc.status_code)


def _db_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("database error")
    body = error_body("database_error", f"the database could not complete the request: {exc}")
    return JSONResponse(body, status_code=503)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    body = error_body("internal_error", "an unexpected error occurred; see the server log")
    return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the one JSON shape."""
    app.add_exception_handler(VigilError, _vigil_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _db_error)
    app.add_exception_handler(Exception, _unexpected)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body is larger than the {self.limit} byte limit (max_body_bytes)"
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                response = JSONResponse(error_body("payload_too_large", message), status_code=413)
                await response(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise PayloadTooLargeError(message)
            return msg

        await self.app(scope, limited, send)
