"""Action items: AI-001 numbering per incident, lists, overdue, completion rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.errors import NotFoundError, ValidationError
from vigil.incidents import Incident
from vigil.incidents import service as incidents
from vigil.postmortems.models import ActionItem
from vigil.postmortems.schemas import ActionItemCreate, ActionItemRead, ActionItemUpdate
from vigil.validation import require_one_of

__all__ = [
    "ACTION_STATUSES",
    "ACTION_TYPES",
    "PRIORITIES",
    "completion_rates",
    "create_action",
    "get_action",
    "list_actions",
    "read_action",
    "update_action",
]

ACTION_TYPES = (
    "automation",
    "monitoring",
    "documentation",
    "database",
    "testing",
    "code",
    "process",
    "infrastructure",
    "other",
)
ACTION_STATUSES = ("open", "in_progress", "completed", "cancelled")
PRIORITIES = ("critical", "high", "medium", "low")
_STATUS_ALIASES = {
    "in-progress": "in_progress",
    "done": "completed",
    "complete": "completed",
    "canceled": "cancelled",
}


def _pick(value: str, allowed: tuple[str, ...], field: str) -> str:
    canonical = value.strip().lower().replace(" ", "_")
    canonical = _STATUS_ALIASES.get(canonical, canonical)
    return require_one_of(canonical, allowed, field=field, given=value)


def read_action(
    item: ActionItem, incident: Incident, today: dt.date | None = None
) -> ActionItemRead:
    """Return the API shape of an action item."""
    today = today or utcnow().date()
    short = f"AI-{item.number:03d}"
    return ActionItemRead(
        ref=f"{incident.human_id}/{short}",
        id=short,
        incident_id=incident.human_id,
        title=item.title,
        description=item.description,
        type=item.type,
        priority=item.priority,
        owner=item.owner,
        team=item.team,
        due_date=item.due_date,
        status=item.status,
        completed_at=item.completed_at,
        github_url=item.github_url,
        overdue=bool(
            item.due_date and item.due_date < today and item.status in ("open", "in_progress")
        ),
    )


def create_action(*, session: Session, ref: str, data: ActionItemCreate) -> ActionItem:
    """Add an action item to an incident with the next AI-NNN number."""
    incident = incidents.get_incident(session=session, ref=ref)
    number = (
        session.execute(
            select(func.max(ActionItem.number)).where(ActionItem.incident_id == incident.id)
        ).scalar()
        or 0
    ) + 1
    status = _pick(data.status, ACTION_STATUSES, "status")
    item = ActionItem(
        incident_id=incident.id,
        number=number,
        title=data.title,
        description=data.description,
        type=_pick(data.type, ACTION_TYPES, "type"),
        priority=_pick(data.priority, PRIORITIES, "priority"),
        owner=data.owner,
        team=data.team,
        due_date=data.due_date,
        status=status,
        completed_at=utcnow() if status == "completed" else None,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(item)
    session.flush()
    return item


def get_action(
    *, session: Session, ref: str, incident_ref: str | None = None
) -> tuple[ActionItem, Incident]:
    """Find ``INC…/AI-001`` (or ``AI-001`` with ``incident_ref``)."""
    inc_ref, _, short = ref.rpartition("/")
    inc_ref = inc_ref or (incident_ref or "")
    if not inc_ref:
        raise ValidationError(
            f"action item {ref!r} needs its incident: use INC_001/AI-001 or --incident", field="ref"
        )
    incident = incidents.get_incident(session=session, ref=inc_ref)
    try:
        number = int(short.upper().removeprefix("AI-"))
    except ValueError as exc:
        raise ValidationError(
            f"{short!r} is not an action item ID like AI-001", field="ref"
        ) from exc
    item = session.execute(
        select(ActionItem).where(ActionItem.incident_id == incident.id, ActionItem.number == number)
    ).scalar_one_or_none()
    if item is None:
        raise NotFoundError(f"incident {incident.human_id} has no action item {short}")
    return item, incident


def update_action(
    *, session: Session, ref: str, data: ActionItemUpdate, incident_ref: str | None = None
) -> tuple[ActionItem, Incident]:
    """Change an action item; completing it stamps ``completed_at``."""
    item, incident = get_action(session=session, ref=ref, incident_ref=incident_ref)
    for name in data.model_fields_set:
        value: Any = getattr(data, name)
        if name == "type" and value is not None:
            value = _pick(value, ACTION_TYPES, "type")
        elif name == "priority" and value is not None:
            value = _pick(value, PRIORITIES, "priority")
        elif name == "status" and value is not None:
            value = _pick(value, ACTION_STATUSES, "status")
            item.completed_at = (item.completed_at or utcnow()) if value == "completed" else None
        setattr(item, name, value)
    item.updated_at = utcnow()
    session.flush()
    return item, incident


def list_actions(
    *,
    session: Session,
    status: Sequence[str] | None = None,
    owner: str | None = None,
    incident_ref: str | None = None,
    overdue: bool = False,
    today: dt.date | None = None,
) -> list[ActionItemRead]:
    """Return action items across incidents, soonest due first."""
    today = today or utcnow().date()
    stmt = select(ActionItem, Incident).join(Incident, Incident.id == ActionItem.incident_id)
    if status:
        stmt = stmt.where(
            ActionItem.status.in_([_pick(s, ACTION_STATUSES, "status") for s in status])
        )
    if owner:
        stmt = stmt.where(ActionItem.owner == owner)
    if incident_ref:
        stmt = stmt.where(
            ActionItem.incident_id == incidents.get_incident(session=session, ref=incident_ref).id
        )
    if overdue:
        stmt = stmt.where(
            ActionItem.due_date < today, ActionItem.status.in_(("open", "in_progress"))
        )
    stmt = stmt.order_by(
        ActionItem.due_date.is_(None), ActionItem.due_date, Incident.id, ActionItem.number
    )
    return [read_action(item, inc, today) for item, inc in session.execute(stmt).all()]


def completion_rates(*, session: Session, by: str = "owner") -> list[dict[str, Any]]:
    """Return per owner (or team): total, completed, cancelled, open, overdue and completion %."""
    require_one_of(by, ("owner", "team"), field="by")
    out: dict[str, dict[str, Any]] = {}
    for item in list_actions(session=session):
        key = (item.owner if by == "owner" else item.team) or "(unassigned)"
        row = out.setdefault(
            key, {by: key, "total": 0, "completed": 0, "cancelled": 0, "open": 0, "overdue": 0}
        )
        row["total"] += 1
        row[
            "completed"
            if item.status == "completed"
            else "cancelled"
            if item.status == "cancelled"
            else "open"
        ] += 1
        row["overdue"] += int(item.overdue)
    for row in out.values():
        counted = row["total"] - row["cancelled"]
        row["completion_rate"] = round(100 * row["completed"] / counted, 1) if counted else None
    return sorted(out.values(), key=lambda r: str(r[by]))
