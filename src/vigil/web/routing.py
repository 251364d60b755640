"""Routing pieces: the strict JSON body reader and the size and URL limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from vigil.errors import PayloadTooLargeError
from vigil.jsonbody import parse_json
from vigil.web.errors import error_body

__all__ = ["BodyLimitMiddleware", "VigilRoute"]


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
