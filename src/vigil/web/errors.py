"""The error mapper of the HTTP interface: Vigil's one JSON shape for ``/api/*`` (and every
machine client), a plain HTML page for a browser asking for any other path."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.db import DRIVER_ERRORS, translate_db_error
from vigil.errors import VigilError

__all__ = [
    "ERROR_RESPONSES",
    "ErrorResponse",
    "error_body",
    "install_error_handlers",
    "media_responses",
    "respond_with_error",
]

log = logging.getLogger("vigil.api")


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


def _wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a machine client)."""
    path = request.url.path
    return not path.startswith(("/api/", "/v2/", "/metrics", "/healthz")) and (
        "text/html" in request.headers.get("accept", "")
    )


def respond_with_error(
    request: Request,
    status: int,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render an error body as JSON, or as an HTML page for a browser outside ``/api``."""
    if not _wants_page(request):
        return JSONResponse(body, status_code=status, headers=headers)
    from vigil.web.pages import render

    info = body["error"]
    heading = _HEADINGS.get(status, f"Error {status}")
    return render(
        request,
        "web/error.html",
        {"title": heading, "heading": heading, "message": info["message"], "field": info["field"]},
        status=status,
        headers=headers,
    )


_HEADINGS = {
    400: "Bad request", 401: "Log in first", 403: "Not allowed", 404: "Not found",
    405: "Not allowed here", 409: "Conflict", 413: "Too large", 422: "Check the form",
    429: "Too many attempts", 500: "Something went wrong", 503: "Busy, try again",
}  # fmt: skip


def _vigil_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VigilError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    body = error_body(
        exc.code, exc.message, field=exc.context.get("field"), allowed=exc.context.get("allowed")
    )
    return respond_with_error(request, exc.http_status, body, headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            # FastAPI's own JSON reader puts a character offset where a field would be.
            where = err.get("loc", ())[-1:]
            text = f"the body is not valid JSON: {err.get('ctx', {}).get('error', 'invalid')}"
            offset = f" at character {where[0]}" if where and isinstance(where[0], int) else ""
            body = error_body("malformed_request", text + offset)
            return respond_with_error(request, 400, body)
        item = {"field": _loc(tuple(err.get("loc", ()))), "message": err.get("msg", "")}
        ctx = err.get("ctx") or {}
        if "expected" in ctx:
            item["allowed"] = str(ctx["expected"])
        details.append(item)
    field = str(details[0]["field"]) if details else None
    text = str(details[0]["message"]) if details else "invalid request"
    message = f"{field}: {text}" if field else text
    body = error_body("validation_error", message, field=field, details=details)
    return respond_with_error(request, 422, body)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    body = error_body(code, str(exc.detail or ""))
    return respond_with_error(request, exc.status_code, body, exc.headers)


def _driver_error(request: Request, exc: Exception) -> Response:
    translated = translate_db_error(exc)
    if translated is None:
        return _unexpected(request, exc)
    # The driver's message names SQL and internals: the server log has it, the client not.
    log.warning("%s %s: database refused: %s", request.method, request.url.path, _short(exc))
    return _vigil_error(request, translated)


def _short(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return text if len(text) <= 300 else text[:300] + "…"


def _out_of_range(request: Request, _exc: Exception) -> Response:
    body = error_body("validation_error", "a number or time in the request is out of range")
    return respond_with_error(request, 422, body)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    body = error_body("internal_error", "an unexpected error occurred; see the server log")
    # The server drops the connection after an unhandled error: say so to the client.
    return respond_with_error(request, 500, body, {"Connection": "close"})


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the one JSON shape."""
    app.add_exception_handler(VigilError, _vigil_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for driver_error in DRIVER_ERRORS:
        app.add_exception_handler(driver_error, _driver_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(Exception, _unexpected)
