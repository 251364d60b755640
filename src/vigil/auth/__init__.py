"""API tokens and scopes.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.auth.integrations import RECEIVER_PATHS
    from vigil.auth.logins import (
        ROLE_SCOPES,
        ROLES,
        SignedIn,
        account_count,
        check_login,
        end_session,
        role_of,
        set_password,
        signed_in,
        start_session,
    )
    from vigil.auth.schemas import TokenCreate, TokenCreated, TokenRead
    from vigil.auth.service import (
        FEED_SCOPE,
        Principal,
        authenticate,
        count_active_tokens,
        create_token,
        require_scope,
    )

__all__ = [
    "FEED_SCOPE",
    "RECEIVER_PATHS",
    "ROLES",
    "ROLE_SCOPES",
    "Principal",
    "SignedIn",
    "TokenCreate",
    "TokenCreated",
    "TokenRead",
    "account_count",
    "authenticate",
    "check_login",
    "count_active_tokens",
    "create_token",
    "end_session",
    "require_scope",
    "role_of",
    "set_password",
    "signed_in",
    "start_session",
]

_EXPORTS = {
    "TokenCreate": "schemas",
    "TokenCreated": "schemas",
    "TokenRead": "schemas",
    "FEED_SCOPE": "service",
    "Principal": "service",
    "RECEIVER_PATHS": "integrations",
    "ROLE_SCOPES": "logins",
    "ROLES": "logins",
    "SignedIn": "logins",
    "account_count": "logins",
    "check_login": "logins",
    "end_session": "logins",
    "role_of": "logins",
    "set_password": "logins",
    "signed_in": "logins",
    "start_session": "logins",
    "authenticate": "service",
    "count_active_tokens": "service",
    "create_token": "service",
    "require_scope": "service",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
