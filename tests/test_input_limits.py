"""Every text a client can send has a length limit that fits where it is stored.

PostgreSQL refuses a value longer than its column and SQLite stores it anyway; the limit in
the input schema makes both answer the same 422 before anything is written.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase

from vigil.auth.models import ApiToken, Integration
from vigil.auth.schemas import TokenCreate
from vigil.incidents.models import Incident
from vigil.incidents.schemas import IncidentCreate, IncidentUpdate, NoteCreate, TransitionRequest
from vigil.ingest.models import Heartbeat, MaintenanceWindow
from vigil.ingest.schemas import EventIn, HeartbeatCreate, IntegrationCreate, MaintenanceCreate
from vigil.postmortems.models import ActionItem, Postmortem, PostmortemTimelineEntry
from vigil.postmortems.schemas import (
    ActionItemCreate,
    ActionItemUpdate,
    PostmortemUpdate,
    TimelineItemCreate,
    WhyCreate,
)

INPUTS: list[tuple[type[BaseModel], type[DeclarativeBase] | None]] = [
    (IncidentCreate, Incident),
    (IncidentUpdate, Incident),
    (TransitionRequest, Incident),
    (NoteCreate, None),
    (TokenCreate, ApiToken),
    (EventIn, None),
    (HeartbeatCreate, Heartbeat),
    (IntegrationCreate, Integration),
    (MaintenanceCreate, MaintenanceWindow),
    (PostmortemUpdate, Postmortem),
    (ActionItemCreate, ActionItem),
    (ActionItemUpdate, ActionItem),
    (TimelineItemCreate, PostmortemTimelineEntry),
    (WhyCreate, None),
]


def _max_length(field: Any) -> int | None:
    found = [getattr(m, "max_length", None) for m in field.metadata]
    lengths = [n for n in found if n is not None]
    return min(lengths) if lengths else None


def _is_text(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return str in typing.get_args(annotation)
    return annotation is str


@pytest.mark.parametrize(("schema", "model"), INPUTS, ids=lambda v: getattr(v, "__name__", ""))
def test_every_text_field_has_a_limit_that_fits_its_column(
    schema: type[BaseModel], model: type[DeclarativeBase] | None
) -> None:
    for name, field in schema.model_fields.items():
        if not _is_text(field.annotation):
            continue
        limit = _max_length(field)
        assert limit is not None, f"{schema.__name__}.{name} has no max_length"
        column = model.__table__.columns.get(name) if model is not None else None
        if column is not None and isinstance(column.type, String) and column.type.length:
            assert limit <= column.type.length, (
                f"{schema.__name__}.{name} allows {limit} characters; "
                f"the column holds {column.type.length}"
            )
