"""Knowing in advance: coverage gaps, people who cannot be reached, policies that would
reach nobody; and paging statistics per person afterwards."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.incidents import Incident
from vigil.notify import Notification
from vigil.oncall.final import final_schedule
from vigil.oncall.hours import within
from vigil.oncall.models import (
    ContactMethod,
    EscalationPolicy,
    NotificationRule,
    Person,
    ScheduleLayer,
)
from vigil.oncall.shapes import load_shapes
from vigil.oncall.wallclock import zone

__all__ = ["Finding", "PersonStats", "check_coverage", "paging_for_learning", "paging_stats"]

Span = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in advance."""

    kind: str  # gap, unreachable, no_high_urgency, reaches_nobody
    subject: str
    message: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _union(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif a < b:
            out.append((a, b))
    return out


def _holes(covered: list[Span], start: dt.datetime, end: dt.datetime) -> list[Span]:
    out, at = [], start
    for a, b in _union(covered):
        if a > at:
            out.append((at, min(a, end)))
        at = max(at, b)
    if at < end:
        out.append((at, end))
    return [(a, b) for a, b in out if a < b]


def _reachable(session: Session) -> tuple[set[str], set[str]]:
    """(people with a verified contact method, people with a high-urgency rule on one)."""
    verified = set(
        session.execute(
            select(Person.handle).join(ContactMethod, ContactMethod.person_id == Person.id)
            .where(ContactMethod.verified_at.is_not(None))
        ).scalars()
    )  # fmt: skip
    high = set(
        session.execute(
            select(Person.handle)
            .join(NotificationRule, NotificationRule.person_id == Person.id)
            .join(ContactMethod, ContactMethod.id == NotificationRule.contact_id)
            .where(ContactMethod.verified_at.is_not(None), NotificationRule.urgency == "high")
        ).scalars()
    )
    return verified, high


def check_coverage(
    *, session: Session, days: float = 7, now: dt.datetime | None = None
) -> list[Finding]:
    """Everything that would keep a page from reaching someone in the next ``days``."""
    start = now or utcnow()
    end = start + dt.timedelta(days=days)
    policies = list(
        session.execute(select(EscalationPolicy).order_by(EscalationPolicy.name)).scalars()
    )
    used = sorted(
        {t["schedule"] for p in policies for s in p.steps for t in s["targets"] if "schedule" in t}
    )
    shapes = load_shapes(session=session, start=start, end=end, names=None)
    verified, high = _reachable(session)
    findings: list[Finding] = []
    pieces = {name: final_schedule(shapes[name], start, end) for name in used if name in shapes}
    for name, plan in pieces.items():
        for p in plan:
            if not p.people:
                findings.append(
                    Finding("gap", name, f"schedule {name} has nobody on call", p.start, p.end)
                )
    on_schedules = set()
    for layer in session.execute(select(ScheduleLayer)).scalars():
        on_schedules.update(layer.participants)
    for plan in pieces.values():
        for p in plan:
            on_schedules.update(p.people)
    named = {t["person"] for p in policies for s in p.steps for t in s["targets"] if "person" in t}
    for handle in sorted(on_schedules | named):
        if handle not in verified:
            findings.append(
                Finding("unreachable", handle, f"{handle} has no verified contact method")
            )
        elif handle not in high:
            findings.append(
                Finding(
                    "no_high_urgency", handle, f"{handle} has no high-urgency notification rule"
                )
            )
    for policy in policies:
        covered: list[Span] = []
        for step in policy.steps:
            for t in step["targets"]:
                if "channel" in t or ("person" in t and t["person"] in high):
                    covered.append((start, end))
                elif "schedule" in t:
                    covered.extend(
                        (p.start, p.end)
                        for p in pieces.get(t["schedule"], [])
                        if set(p.people) & high
                    )
        for a, b in _holes(covered, start, end):
            findings.append(
                Finding(
                    "reaches_nobody", policy.name, f"policy {policy.name} would reach nobody", a, b
                )
            )
    return findings


@dataclass(slots=True)
class PersonStats:
    """How often a person was paged and how fast they answered."""

    person: str
    pages: int = 0
    off_hours_pages: int = 0
    incidents: int = 0
    acknowledged: int = 0
    median_ack_seconds: float | None = None
    _acks: list[float] = field(default_factory=list)


def paging_stats(
    *, session: Session, start: dt.datetime, end: dt.datetime, person: str | None = None
) -> list[PersonStats]:
    """Per person: pages (one per step that paged them), those outside their working hours,
    and time from first page to acknowledgement of incidents assigned to them."""
    people = {p.handle: p for p in session.execute(select(Person)).scalars()}
    n = Notification
    rows = session.execute(
        select(n.key, n.incident_id, n.created_at, n.payload).where(
            n.event == "page", n.created_at >= start, n.created_at < end
        )
    ).all()
    seen: set[tuple[str, str]] = set()
    first_page: dict[tuple[str, int], dt.datetime] = {}
    out: dict[str, PersonStats] = {}
    for key, incident_id, created, payload in rows:
        who = (payload or {}).get("person")
        if not who or (person and who != person) or incident_id is None:
            continue
        step_key = ":".join(key.split(":")[:4])
        stats = out.setdefault(who, PersonStats(who))
        k = (who, incident_id)
        if k not in first_page or created < first_page[k]:
            first_page[k] = created
        if (who, step_key) in seen:
            continue
        seen.add((who, step_key))
        stats.pages += 1
        p = people.get(who)
        if (
            p is not None
            and p.working_hours
            and not within(p.working_hours, created, zone(p.time_zone))
        ):
            stats.off_hours_pages += 1
    incidents = {
        i.id: i
        for i in session.execute(
            select(Incident.id, Incident.assignee, Incident.acknowledged_at)
            .where(Incident.id.in_({i for _w, i in first_page}))
        )
    }  # fmt: skip
    for (who, incident_id), paged_at in first_page.items():
        stats = out[who]
        stats.incidents += 1
        inc = incidents.get(incident_id)
        if inc is not None and inc.assignee == who and inc.acknowledged_at is not None:
            stats.acknowledged += 1
            stats._acks.append(max(0.0, (inc.acknowledged_at - paged_at).total_seconds()))
    for stats in out.values():
        stats.median_ack_seconds = statistics.median(stats._acks) if stats._acks else None
    return sorted(out.values(), key=lambda s: s.person)


def paging_for_learning(
    session: Session, start: dt.datetime, end: dt.datetime
) -> dict[str, list[dict[str, Any]]]:
    """The learning report's paging part: who was paged how often, off hours, how fast."""
    return {
        "paging": [
            {
                "person": s.person,
                "pages": s.pages,
                "off_hours_pages": s.off_hours_pages,
                "incidents": s.incidents,
                "acknowledged": s.acknowledged,
                "median_ack_seconds": s.median_ack_seconds,
            }
            for s in paging_stats(session=session, start=start, end=end)
        ]
    }
