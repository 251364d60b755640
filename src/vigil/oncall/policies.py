"""Escalation policies: ordered steps with targets and a delay, repeated; which incidents
each takes (services, categories, labels, a minimum severity; the lowest priority first)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import ConflictError, NotFoundError, ValidationError
from vigil.feed import advance, head
from vigil.incidents import normalize_severity, severity_rank
from vigil.notify import get_channel
from vigil.oncall.models import EscalationPolicy, Schedule
from vigil.oncall.schedules import check_people
from vigil.validation import require_name

__all__ = [
    "FOLLOWER",
    "TARGET_KINDS",
    "PolicySpec",
    "StepSpec",
    "add_policy",
    "get_policy",
    "list_policies",
    "parse_target",
    "policy_for",
    "remove_policy",
    "start_following",
]

TARGET_KINDS = ("person", "schedule", "channel")
#: The change-feed follower that starts and stops climbs (see :mod:`vigil.oncall.paging`).
FOLLOWER = "escalation"


@dataclass(frozen=True, slots=True)
class StepSpec:
    """Page ``targets`` (``person:ann``, ``schedule:primary``, ``channel:ops``), then wait
    ``delay_minutes`` for an acknowledgement before the next step."""

    targets: Sequence[str]
    delay_minutes: float = 5


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A policy as asked for."""

    name: str
    steps: Sequence[StepSpec]
    repeat: int = 0
    priority: int = 100
    services: Sequence[str] = ()
    categories: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    min_severity: str | None = None


def parse_target(text: str) -> dict[str, str]:
    """``person:ann`` → {"person": "ann"}, or a 4xx naming what is allowed."""
    kind, _, name = text.strip().partition(":")
    if kind not in TARGET_KINDS or not name:
        raise ValidationError(
            f"targets: {text!r} is not one of person:HANDLE, schedule:NAME, channel:NAME",
            field="targets",
        )
    return {kind: name.strip()}


def _check_targets(session: Session, targets: Sequence[str]) -> list[dict[str, str]]:
    out = []
    for text in targets:
        target = parse_target(text)
        if "person" in target:
            target["person"] = check_people(session, [target["person"]], "targets")[0]
        elif "schedule" in target:
            if not session.execute(
                select(Schedule.id).where(Schedule.name == target["schedule"])
            ).first():
                raise ValidationError(
                    f"targets: schedule {target['schedule']!r} does not exist", field="targets"
                )
        else:
            get_channel(session=session, name=target["channel"])
        out.append(target)
    if not out:
        raise ValidationError("targets: each step names at least one target", field="targets")
    return out


def start_following(*, session: Session) -> None:
    """Called before the first policy is added: begin at the feed's head (incidents from
    before there was a policy are not paged)."""
    if session.execute(select(EscalationPolicy.id).limit(1)).first() is None:
        head_now = head(session=session, log="timeline_entries")
        advance(session=session, follower=FOLLOWER, log="timeline_entries", to=head_now)


def add_policy(*, session: Session, spec: PolicySpec) -> EscalationPolicy:
    """Add an escalation policy."""
    require_name(spec.name)
    if session.execute(
        select(EscalationPolicy.id).where(EscalationPolicy.name == spec.name)
    ).first():
        raise ConflictError(f"a policy named {spec.name!r} already exists", field="name")
    if not 1 <= len(spec.steps) <= 20:
        raise ValidationError("steps: 1 to 20 steps", field="steps")
    if not 0 <= spec.repeat <= 9:
        raise ValidationError("repeat: 0 to 9 times", field="repeat")
    steps: list[dict[str, Any]] = []
    for step in spec.steps:
        if not 0 <= step.delay_minutes <= 1440:
            raise ValidationError("delay_minutes: 0 to 1440", field="delay_minutes")
        steps.append(
            {"delay_minutes": step.delay_minutes, "targets": _check_targets(session, step.targets)}
        )
    if spec.repeat and all(s["delay_minutes"] == 0 for s in steps):
        raise ValidationError("repeat: a repeated policy needs a step with a delay", field="repeat")
    start_following(session=session)
    policy = EscalationPolicy(
        name=spec.name,
        steps=steps,
        repeat=spec.repeat,
        priority=spec.priority,
        services=[s.strip() for s in spec.services if s.strip()],
        categories=[c.strip().lower() for c in spec.categories if c.strip()],
        labels=dict(spec.labels),
        min_severity=normalize_severity(spec.min_severity, field="min_severity")
        if spec.min_severity
        else None,
    )
    session.add(policy)
    session.flush()
    return policy


def get_policy(*, session: Session, name: str) -> EscalationPolicy:
    """The policy called ``name``."""
    found = session.execute(
        select(EscalationPolicy).where(EscalationPolicy.name == name)
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"escalation policy {name!r} does not exist", field="policy")
    return found


def list_policies(*, session: Session) -> Sequence[EscalationPolicy]:
    """Policies in the order incidents are matched against them."""
    stmt = select(EscalationPolicy).order_by(EscalationPolicy.priority, EscalationPolicy.name)
    return session.execute(stmt).scalars().all()


def remove_policy(*, session: Session, name: str) -> None:
    """Remove a policy (incidents already climbing it keep their frozen copy)."""
    session.delete(get_policy(session=session, name=name))
    session.flush()


def _matches(policy: EscalationPolicy, incident: Any) -> bool:
    if policy.services and incident.service not in policy.services:
        return False
    if policy.categories and incident.category not in policy.categories:
        return False
    labels = incident.labels or {}
    if any(labels.get(k) != v for k, v in (policy.labels or {}).items()):
        return False
    if policy.min_severity:
        try:
            return severity_rank(incident.severity) <= severity_rank(policy.min_severity)
        except (KeyError, ValueError):
            return False
    return True


def policy_for(policies: Sequence[EscalationPolicy], incident: Any) -> EscalationPolicy | None:
    """The first of ``policies`` (in match order) that takes ``incident``."""
    return next((p for p in policies if _matches(p, incident)), None)
