"""Every error Vigil raises on purpose.

The tree::

    VigilError                      base; carries a message a user can act on
    ├── ConfigurationError          settings that cannot work (bad template, bad URL)
    ├── ValidationError             input that breaks a rule; names the field and what is allowed
    │   └── InstantOutOfRangeError  a time outside 1900..9999 (also a ValueError, for pydantic)
    ├── MalformedRequestError       a body that is not acceptable JSON (duplicate keys, NUL, depth)
    ├── NotFoundError               a referenced object does not exist
    ├── ConflictError               the request clashes with stored state
    │   └── InvalidTransitionError  a lifecycle move the state machine forbids
    ├── AuthError                   missing, unknown or revoked credentials
    │   ├── PermissionDeniedError   valid credentials without the needed scope
    │   └── TooManyAttemptsError    too many failed logins; wait before trying again
    ├── PayloadTooLargeError        a request body over the configured limit
    └── DatabaseError               the store cannot do what was asked
        ├── SchemaOutOfDateError    the database needs ``vigil db upgrade``
        └── MigrationError          an upgrade, backup or restore failed or was refused

Each interface maps the tree once: the REST API to one JSON error shape,
the CLI to a one-line message and an exit code.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "DatabaseError",
    "InstantOutOfRangeError",
    "InvalidTransitionError",
    "MalformedRequestError",
    "MigrationError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "SchemaOutOfDateError",
    "TooManyAttemptsError",
    "ValidationError",
    "VigilError",
]


class VigilError(Exception):
    """Base of every error Vigil raises on purpose."""

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class ConfigurationError(VigilError):
    """Settings that cannot work."""

    code = "configuration_error"
    exit_code = 2  # like a bad command-line option: the invocation cannot work as given


class ValidationError(VigilError):
    """Input that breaks a rule."""

    code = "validation_error"
    http_status = 422
    exit_code = 2

    def __init__(
        self, message: str, *, field: str | None = None, allowed: list[str] | None = None
    ) -> None:
        super().__init__(message, field=field, allowed=allowed)
        self.field = field
        self.allowed = allowed


class InstantOutOfRangeError(ValidationError, ValueError):
    """A time outside the range Vigil stores; a ValueError too, so pydantic names the field."""


class MalformedRequestError(VigilError):
    """A request that cannot be read: invalid or duplicated JSON, NUL bytes, too deep."""

    code = "malformed_request"
    http_status = 400
    exit_code = 2


class NotFoundError(VigilError):
    """A referenced object does not exist."""

    code = "not_found"
    http_status = 404
    exit_code = 4


class ConflictError(VigilError):
    """The request clashes with stored state."""

    code = "conflict"
    http_status = 409
    exit_code = 5


class InvalidTransitionError(ConflictError):
    """A lifecycle move the state machine forbids."""

    code = "invalid_transition"


class AuthError(VigilError):
    """Missing, unknown or revoked credentials."""

    code = "unauthorized"
    http_status = 401
    exit_code = 6


class PermissionDeniedError(AuthError):
    """Valid credentials without the needed scope."""

    code = "forbidden"
    http_status = 403


class TooManyAttemptsError(AuthError):
    """Too many failed logins for an account or from an address in a short time."""

    code = "too_many_attempts"
    http_status = 429


class PayloadTooLargeError(VigilError):
    """A request body over the configured limit."""

    code = "payload_too_large"
    http_status = 413


class DatabaseError(VigilError):
    """The store cannot do what was asked."""

    code = "database_error"
    http_status = 503
    exit_code = 7


class SchemaOutOfDateError(DatabaseError):
    """The database schema is behind this version of Vigil."""

    code = "schema_out_of_date"


class MigrationError(DatabaseError):
    """An upgrade, backup or restore failed or was refused."""

    code = "migration_error"
