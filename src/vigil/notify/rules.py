"""What happened (an event name for each timeline entry) and which routes want it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Protocol

from vigil.incidents import ACTIVE_STATUSES, SEVERITIES, severity_rank

__all__ = [
    "DEFAULT_EVENTS",
    "DEFAULT_SEVERITIES",
    "EVENTS",
    "IncidentFacts",
    "event_of",
    "route_matches",
]

#: Everything a route can ask for.
EVENTS: tuple[str, ...] = (
    "opened",
    "severity_raised",
    "acknowledged",
    "status_changed",
    "resolved",
    "closed",
    "reopened",
    "note_added",
    "postmortem_published",
    "action_due_soon",
    "action_overdue",
)
#: What a channel added with ``--default`` gets.
DEFAULT_EVENTS: tuple[str, ...] = ("opened", "severity_raised", "resolved", "reopened")
DEFAULT_SEVERITIES = "high"  # and anything more severe


def event_of(kind: str, changes: Mapping[str, Any]) -> str | None:
    """The event a timeline entry reports (None for entries no route can ask for)."""
    if kind == "created":
        return "opened"
    if kind == "note":
        return "note_added"
    if kind == "postmortem_published":
        return "postmortem_published"
    if kind == "status_changed" and "status" in changes:
        old, new = changes["status"]["from"], changes["status"]["to"]
        if new in ACTIVE_STATUSES and old not in ACTIVE_STATUSES:
            return "reopened"
        if new in ("acknowledged", "resolved", "closed"):
            return str(new)
        return "status_changed"
    if kind == "updated" and "severity" in changes:
        old, new = changes["severity"]["from"], changes["severity"]["to"]
        if old in SEVERITIES and new in SEVERITIES and severity_rank(new) < severity_rank(old):
            return "severity_raised"
    return None


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What routes filter on."""

    severity: str
    service: str | None
    category: str
    resource: str | None
    source: str
    labels: Mapping[str, str]


class RouteLike(Protocol):
    """The fields of a route (the ORM row satisfies it)."""

    events: list[str]
    min_severity: str | None
    services: list[str]
    categories: list[str]
    resources: list[str]
    sources: list[str]
    labels: dict[str, str]


def route_matches(route: RouteLike, event: str, facts: IncidentFacts) -> bool:
    """True when ``route`` asks for ``event`` on an incident with these ``facts``."""
    if event not in route.events:
        return False
    if (
        route.min_severity
        and facts.severity in SEVERITIES
        and severity_rank(facts.severity) > severity_rank(route.min_severity)
    ):
        return False
    if route.services and facts.service not in route.services:
        return False
    if route.categories and facts.category not in route.categories:
        return False
    if route.sources and facts.source not in route.sources:
        return False
    if route.resources and not any(
        fnmatchcase(facts.resource or "", pattern) for pattern in route.resources
    ):
        return False
    return all(facts.labels.get(k) == v for k, v in route.labels.items())
