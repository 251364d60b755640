"""Read the current state of resources."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.ingest.models import ResourceState

__all__ = ["ResourceStateRead", "list_states"]


class ResourceStateRead(BaseModel):
    """The current status of one resource/component."""

    model_config = ConfigDict(from_attributes=True)

    resource: str
    component: str
    host: str | None
    status: str
    health: str
    since: dt.datetime
    last_seen_at: dt.datetime


def list_states(*, session: Session, failing_only: bool = False) -> list[ResourceStateRead]:
    """Return resource states, failing first, then by resource."""
    stmt = select(ResourceState).order_by(
        ResourceState.health.desc(), ResourceState.resource, ResourceState.component
    )
    if failing_only:
        stmt = stmt.where(ResourceState.health == "failing")
    return [ResourceStateRead.model_validate(r) for r in session.execute(stmt).scalars()]
