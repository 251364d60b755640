"""Who works an incident: its assignee and its roles (commander, communications, scribe),
taken and handed over on the timeline; escalating by hand."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.errors import ConflictError, NotFoundError, ValidationError
from vigil.incidents import ACTIVE_STATUSES, IncidentChange, apply_changes
from vigil.incidents import service as incidents
from vigil.oncall.models import IncidentEscalation, IncidentRole
from vigil.oncall.schedules import check_people

__all__ = [
    "ROLES",
    "assign_incident",
    "escalate_now",
    "escalation_of",
    "list_roles",
    "release_role",
    "take_role",
]

ROLES = ("commander", "communications", "scribe")


def assign_incident(*, session: Session, ref: str, person: str, actor: str) -> str:
    """Make ``person`` the incident's assignee; return the handle."""
    incident = incidents.get_incident(session=session, ref=ref)
    (who,) = check_people(session, [person], "person")
    if incident.assignee != who:
        apply_changes(session=session, changes=[IncidentChange(
            incident.id, actor, "assigned", f"Assigned to {who}", utcnow(),
            {"assignee": (incident.assignee, who)},
        )])  # fmt: skip
    return who


def _role(role: str) -> str:
    role = role.strip().lower()
    if role not in ROLES:
        raise ValidationError(
            f"role {role!r} is not one of: {', '.join(ROLES)}", field="role", allowed=list(ROLES)
        )
    return role


def take_role(*, session: Session, ref: str, role: str, person: str, actor: str) -> IncidentRole:
    """``person`` takes ``role`` on the incident (handing it over from whoever held it)."""
    incident = incidents.get_incident(session=session, ref=ref)
    role = _role(role)
    (who,) = check_people(session, [person], "person")
    held = session.get(IncidentRole, (incident.id, role))
    if held is not None and held.person == who:
        return held
    message = f"{who} takes the {role} role" + (f" from {held.person}" if held else "")
    if held is None:
        held = IncidentRole(incident_id=incident.id, role=role, person=who, since=utcnow())
        session.add(held)
    else:
        held.person, held.since = who, utcnow()
    apply_changes(
        session=session, changes=[IncidentChange(incident.id, actor, "role", message, utcnow())]
    )
    session.flush()
    return held


def release_role(*, session: Session, ref: str, role: str, actor: str) -> None:
    """Leave ``role`` unheld."""
    incident = incidents.get_incident(session=session, ref=ref)
    role = _role(role)
    held = session.get(IncidentRole, (incident.id, role))
    if held is None:
        raise NotFoundError(f"nobody holds the {role} role on {incident.human_id}", field="role")
    session.delete(held)
    apply_changes(session=session, changes=[
        IncidentChange(incident.id, actor, "role", f"{held.person} leaves the {role} role", utcnow())
    ])  # fmt: skip
    session.flush()


def list_roles(*, session: Session, ref: str) -> Sequence[IncidentRole]:
    """The roles held on an incident."""
    incident = incidents.get_incident(session=session, ref=ref)
    stmt = select(IncidentRole).where(IncidentRole.incident_id == incident.id)
    return session.execute(stmt.order_by(IncidentRole.role)).scalars().all()


def escalation_of(*, session: Session, ref: str) -> IncidentEscalation | None:
    """The incident's climb, if a policy took it."""
    incident = incidents.get_incident(session=session, ref=ref)
    return session.get(IncidentEscalation, incident.id)


def escalate_now(*, session: Session, ref: str, actor: str) -> IncidentEscalation:
    """Fire the incident's next step now (also after an acknowledgement)."""
    incident = incidents.get_incident(session=session, ref=ref)
    if incident.status not in ACTIVE_STATUSES:
        raise ConflictError(
            f"{incident.human_id} is {incident.status}; reopen it to escalate", field="ref"
        )
    climb = session.get(IncidentEscalation, incident.id)
    if climb is None:
        raise ConflictError(
            f"no escalation policy took {incident.human_id} (policies match on service, "
            "category, labels and severity)",
            field="ref",
        )
    if climb.state in ("done", "repeating"):
        climb.step, climb.round = 0, climb.repeat  # one more pass over the last round
    climb.state, climb.next_at = "climbing", utcnow()
    apply_changes(session=session, changes=[IncidentChange(
        incident.id, actor, "escalation", f"Escalated by hand by {actor}: next step now", utcnow()
    )])  # fmt: skip
    session.flush()
    return climb
