"""Token shapes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["TokenCreate", "TokenCreated", "TokenRead"]


class TokenCreate(BaseModel):
    """A request for a new token."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["read"], description="read, write, admin")


class TokenRead(BaseModel):
    """A token without its secret."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class TokenCreated(TokenRead):
    """A new token; ``token`` is shown only in this response."""

    token: str
