"""The HTTP interface's shared parts: dependencies, the error mapper, routing limits.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.web.assets import install_assets
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
    from vigil.web.pages import (
        SESSION_COOKIE,
        Admin,
        AdminViewer,
        Member,
        Responder,
        ResponderViewer,
        Viewer,
        field_errors,
        form_values,
        redirect,
        render,
        render_fragment,
    )
    from vigil.web.routing import BodyLimitMiddleware, VigilRoute

__all__ = [
    "ERROR_RESPONSES",
    "SESSION_COOKIE",
    "Admin",
    "AdminViewer",
    "BodyLimitMiddleware",
    "CredentialCache",
    "ErrorResponse",
    "Member",
    "ReadSession",
    "Responder",
    "ResponderViewer",
    "StoreDep",
    "Viewer",
    "VigilRoute",
    "bearer",
    "calendar_reader",
    "error_body",
    "field_errors",
    "form_values",
    "get_store",
    "ingest_sender",
    "install_assets",
    "install_error_handlers",
    "integration_identity",
    "integration_sender",
    "media_responses",
    "redirect",
    "render",
    "render_fragment",
    "requires",
    "respond_with_error",
    "sender_of",
    "token_principal",
]

_EXPORTS = {
    "field_errors": "pages",
    "form_values": "pages",
    "SESSION_COOKIE": "pages",
    "Admin": "pages",
    "AdminViewer": "pages",
    "Member": "pages",
    "Responder": "pages",
    "ResponderViewer": "pages",
    "Viewer": "pages",
    "redirect": "pages",
    "render": "pages",
    "render_fragment": "pages",
    "install_assets": "assets",
    "BodyLimitMiddleware": "routing",
    "CredentialCache": "dependencies",
    "ERROR_RESPONSES": "errors",
    "ErrorResponse": "errors",
    "ReadSession": "dependencies",
    "StoreDep": "dependencies",
    "VigilRoute": "routing",
    "bearer": "dependencies",
    "calendar_reader": "dependencies",
    "error_body": "errors",
    "get_store": "dependencies",
    "ingest_sender": "dependencies",
    "install_error_handlers": "errors",
    "integration_identity": "dependencies",
    "integration_sender": "dependencies",
    "media_responses": "errors",
    "requires": "dependencies",
    "respond_with_error": "errors",
    "sender_of": "dependencies",
    "token_principal": "dependencies",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
