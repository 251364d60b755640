"""Token shapes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["TokenCreate", "TokenCreated", "TokenRead"]


class TokenCreate(BaseModel):
    """A request for a new token."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Annotated[str, StringConstraints(max_length=16)]] = Field(
        default_factory=lambda: ["read"], max_length=4, description="read, write, admin or calendar"
    )


class TokenRead(BaseModel):
    """A token without its secret."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    prefix: str
    scopes: list[str]
    person: str | None = Field(default=None, description="The person it belongs to, if any.")
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class TokenCreated(TokenRead):
    """A new token; ``token`` is shown only in this response."""

    token: str
