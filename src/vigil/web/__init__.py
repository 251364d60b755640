"""The HTTP interface's shared parts: dependencies, the error mapper, routing limits."""

from vigil.web.dependencies import (
    CredentialCache,
    ReadSession,
    StoreDep,
    bearer,
    calendar_reader,
    get_store,
    ingest_sender,
    integration_identity,
    integration_sender,
    requires,
    sender_of,
    token_principal,
)
from vigil.web.errors import (
    ERROR_RESPONSES,
    ErrorResponse,
    error_body,
    install_error_handlers,
    media_responses,
    respond_with_error,
)
from vigil.web.routing import BodyLimitMiddleware, VigilRoute

__all__ = [
    "ERROR_RESPONSES",
    "BodyLimitMiddleware",
    "CredentialCache",
    "ErrorResponse",
    "ReadSession",
    "StoreDep",
    "VigilRoute",
    "bearer",
    "calendar_reader",
    "error_body",
    "get_store",
    "ingest_sender",
    "install_error_handlers",
    "integration_identity",
    "integration_sender",
    "media_responses",
    "requires",
    "respond_with_error",
    "sender_of",
    "token_principal",
]
