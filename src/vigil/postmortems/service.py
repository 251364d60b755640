"""Postmortem rules: scaffold from the incident, edit sections, five whys, timeline, status."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.errors import ConflictError, NotFoundError, ValidationError
from vigil.incidents import Incident, IncidentChange, apply_change, search
from vigil.incidents import service as incidents
from vigil.postmortems.learning_sources import LEARNING_SOURCES
from vigil.postmortems.models import Postmortem, PostmortemTimelineEntry
from vigil.postmortems.schemas import (
    PostmortemRead,
    PostmortemUpdate,
    Sections,
    TimelineItemCreate,
    TimelineItemRead,
    TimelineItemUpdate,
    Why,
)
from vigil.validation import MAX_ID, as_instant, require_one_of

__all__ = [
    "STATUSES",
    "add_timeline_entries",
    "add_why",
    "create_postmortem",
    "get_postmortem",
    "learning_report",
    "read_postmortem",
    "remove_timeline_entry",
    "set_root_cause",
    "start_five_whys",
    "timeline_of",
    "update_postmortem",
    "update_timeline_entry",
]

STATUSES = ("draft", "in_review", "published")


def get_postmortem(*, session: Session, ref: str) -> tuple[Incident, Postmortem]:
    """Return an incident and its postmortem, or raise NotFoundError."""
    incident = incidents.get_incident(session=session, ref=ref)
    pm = session.execute(
        select(Postmortem).where(Postmortem.incident_id == incident.id)
    ).scalar_one_or_none()
    if pm is None:
        raise NotFoundError(
            f"incident {ref!r} has no postmortem yet; create one with `vigil postmortem new {ref}`"
        )
    return incident, pm


def create_postmortem(*, session: Session, ref: str, actor: str, kind: str = "full") -> Postmortem:
    """Scaffold a postmortem from what the incident already knows, timeline included."""
    incident = incidents.get_incident(session=session, ref=ref)
    if session.execute(select(Postmortem.id).where(Postmortem.incident_id == incident.id)).first():
        raise ConflictError(f"incident {ref!r} already has a postmortem")
    require_one_of(kind, ("full", "quick"), field="kind")
    sections = Sections(resolution=[incident.resolution] if incident.resolution else [])
    systems = [s for s in (incident.service, incident.resource, incident.component) if s]
    pm = Postmortem(
        incident_id=incident.id,
        kind=kind,
        title=f"Postmortem: {incident.title}",
        status="draft",
        summary=incident.description or incident.title,
        reported_by=incident.reported_by or "",
        affected_systems=systems,
        root_cause=incident.root_cause or "",
        sections=sections.model_dump(mode="json"),
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(pm)
    session.flush()
    _index_text(session, pm)
    entries = [
        TimelineItemCreate(
            at=e.at, event=e.message, component=e.actor, evidence=f"timeline:{e.kind}"
        )
        for e in incidents.list_timeline(session=session, ref=incident.human_id)
    ]
    add_timeline_entries(session=session, postmortem=pm, items=entries, source="incident")
    return pm


def _strings(value: Any) -> list[str]:
    """Every text inside a JSON value (section contents), depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _strings(v)]
    if isinstance(value, list):
        return [t for v in value for t in _strings(v)]
    return []


def _index_text(session: Session, pm: Postmortem) -> None:
    """Give full-text search the postmortem's words (title, sections, whys)."""
    texts = [pm.title, pm.summary, pm.problem_statement, pm.root_cause, pm.whys_root_cause,
             *_strings(pm.whys),
             *_strings(pm.sections)]  # fmt: skip
    search.index_postmortem(session=session, incident_id=pm.incident_id, texts=texts)


def _sections(pm: Postmortem) -> Sections:
    return Sections.model_validate(pm.sections)


def update_postmortem(
    *, session: Session, ref: str, data: PostmortemUpdate, actor: str = "vigil"
) -> Postmortem:
    """Change fields; named sections are replaced whole, others kept.

    Publishing records a ``postmortem_published`` entry on the incident's timeline.
    """
    incident, pm = get_postmortem(session=session, ref=ref)
    was = pm.status
    for name in data.model_fields_set - {"sections", "status"}:
        value = getattr(data, name)
        if name == "review_at" and value is not None:
            value = as_instant(value)
        setattr(pm, name, value)
    if data.sections:
        merged = {**_sections(pm).model_dump(mode="json"), **data.sections}
        try:
            pm.sections = Sections.model_validate(merged).model_dump(mode="json")
        except PydanticValidationError as exc:
            err = exc.errors()[0]
            where = "sections." + ".".join(str(p) for p in err["loc"])
            raise ValidationError(f"{where}: {err['msg']}", field=where) from exc
    if data.status is not None:
        set_status(pm, data.status)
    pm.updated_at = utcnow()
    session.flush()
    _index_text(session, pm)
    if pm.status == "published" and was != "published":
        change = IncidentChange(
            incident.id, actor, "postmortem_published", "Postmortem published", utcnow()
        )
        apply_change(session=session, change=change)
    return pm


def set_status(pm: Postmortem, status: str) -> None:
    """Move between draft, in_review and published; publishing stamps ``completed_at``."""
    canonical = status.strip().lower().replace(" ", "_").replace("-", "_")
    pm.status = require_one_of(canonical, STATUSES, field="status", given=status)
    pm.completed_at = (pm.completed_at or utcnow()) if pm.status == "published" else None


def start_five_whys(*, session: Session, ref: str, facilitator: str, problem: str) -> Postmortem:
    """Start (or restart) the five whys with a facilitator and the observed symptom."""
    _incident, pm = get_postmortem(session=session, ref=ref)
    if not facilitator.strip():
        raise ValidationError("a five whys analysis needs a facilitator", field="facilitator")
    pm.facilitator = facilitator.strip()
    pm.problem_statement = problem.strip()
    pm.whys = []
    pm.updated_at = utcnow()
    session.flush()
    _index_text(session, pm)
    return pm


def add_why(
    *, session: Session, ref: str, question: str, answer: str, answered_by: str
) -> dict[str, Any]:
    """Append a why; more than five is allowed."""
    _incident, pm = get_postmortem(session=session, ref=ref)
    if not (question.strip() and answer.strip() and answered_by.strip()):
        raise ValidationError("a why needs a question, an answer and who answered", field="answer")
    why = {
        "number": len(pm.whys) + 1,
        "question": question.strip(),
        "answer": answer.strip(),
        "answered_by": answered_by.strip(),
        "at": utcnow().isoformat(),
    }
    pm.whys = [*pm.whys, why]
    pm.updated_at = utcnow()
    session.flush()
    _index_text(session, pm)
    return why


def set_root_cause(
    *, session: Session, ref: str, text: str, category: str | None = None
) -> Postmortem:
    """Mark the root cause the whys led to (kept apart from the Root Cause paragraph, which
    it fills only while that is empty); refused before any why is answered."""
    _incident, pm = get_postmortem(session=session, ref=ref)
    if not pm.whys:
        raise ValidationError(
            "add at least one why before marking the root cause", field="root_cause"
        )
    if not text.strip():
        raise ValidationError("the root cause needs some text", field="root_cause")
    pm.whys_root_cause = text.strip()
    if not pm.root_cause.strip():
        pm.root_cause = text.strip()  # a first summary; the paragraph stays the authors' own
    pm.root_cause_category = category
    pm.updated_at = utcnow()
    session.flush()
    _index_text(session, pm)
    return pm


def add_timeline_entries(
    *, session: Session, postmortem: Postmortem, items: list[TimelineItemCreate], source: str
) -> int:
    """Add entries, skipping exact duplicates (same time, event and evidence); return how many."""
    existing = {
        (e.at, e.event, e.evidence)
        for e in session.execute(
            select(PostmortemTimelineEntry).where(
                PostmortemTimelineEntry.postmortem_id == postmortem.id
            )
        ).scalars()
    }
    added = 0
    for item in items:
        at = as_instant(item.at)
        key = (at, item.event, item.evidence)
        if key in existing:
            continue
        existing.add(key)
        session.add(
            PostmortemTimelineEntry(
                postmortem_id=postmortem.id,
                at=at,
                event=item.event,
                component=item.component,
                evidence=item.evidence,
                source=source,
            )
        )
        added += 1
    session.flush()
    return added


def timeline_of(*, session: Session, postmortem: Postmortem) -> list[PostmortemTimelineEntry]:
    """Return the reconstructed timeline sorted by time (UTC)."""
    stmt = (
        select(PostmortemTimelineEntry)
        .where(PostmortemTimelineEntry.postmortem_id == postmortem.id)
        .order_by(PostmortemTimelineEntry.at, PostmortemTimelineEntry.id)
    )
    return list(session.execute(stmt).scalars())


def _timeline_row(session: Session, ref: str, entry_id: int) -> PostmortemTimelineEntry:
    _incident, pm = get_postmortem(session=session, ref=ref)
    row = session.get(PostmortemTimelineEntry, entry_id) if 0 < entry_id <= MAX_ID else None
    if row is None or row.postmortem_id != pm.id:
        raise NotFoundError(
            f"the postmortem of {ref} has no timeline row {entry_id}", field="entry_id"
        )
    return row


def update_timeline_entry(
    *, session: Session, ref: str, entry_id: int, data: TimelineItemUpdate
) -> PostmortemTimelineEntry:
    """Change a row of the postmortem's timeline (rows copied from the incident included:
    the report's timeline is the reviewers' to correct; the incident's own stays as it was)."""
    row = _timeline_row(session, ref, entry_id)
    for name in data.model_fields_set:
        value = getattr(data, name)
        setattr(row, name, as_instant(value, field="at") if name == "at" else value)
    session.flush()
    return row


def remove_timeline_entry(*, session: Session, ref: str, entry_id: int) -> None:
    """Remove a row from the postmortem's timeline."""
    session.delete(_timeline_row(session, ref, entry_id))
    session.flush()


def read_postmortem(*, session: Session, ref: str) -> PostmortemRead:
    """Return the full postmortem of incident ``ref``."""
    from vigil.postmortems.actions import list_actions

    incident, pm = get_postmortem(session=session, ref=ref)
    return PostmortemRead(
        incident_id=incident.human_id,
        kind=pm.kind,
        title=pm.title,
        status=pm.status,
        summary=pm.summary,
        reported_by=pm.reported_by,
        affected_systems=pm.affected_systems,
        problem_statement=pm.problem_statement,
        facilitator=pm.facilitator,
        whys=[Why.model_validate(w) for w in pm.whys],
        root_cause=pm.root_cause,
        whys_root_cause=pm.whys_root_cause,
        root_cause_category=pm.root_cause_category,
        sections=_sections(pm),
        review_at=pm.review_at,
        completed_at=pm.completed_at,
        timeline=[
            TimelineItemRead.model_validate(e) for e in timeline_of(session=session, postmortem=pm)
        ],
        action_items=list_actions(session=session, incident_ref=incident.human_id),
    )


def learning_report(*, session: Session, start: Any, end: Any) -> dict[str, list[dict[str, Any]]]:
    """Count contributing-factor categories and root-cause categories of postmortems of
    incidents detected in [start, end), most frequent first; plus each registered source."""
    from collections import Counter

    factors: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    stmt = (
        select(Postmortem)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(Incident.detected_at >= start, Incident.detected_at < end)
    )
    for pm in session.execute(stmt).scalars():
        for factor in _sections(pm).contributing_factors:
            factors[factor.category.strip().lower()] += 1
        causes[(pm.root_cause_category or "uncategorized").strip().lower()] += 1
    report = {
        "contributing_factors": [{"category": k, "count": v} for k, v in factors.most_common()],
        "root_cause_categories": [{"category": k, "count": v} for k, v in causes.most_common()],
    }
    for source in LEARNING_SOURCES:
        module, _, name = source.partition(":")
        part: Callable[..., dict[str, list[dict[str, Any]]]] = getattr(
            importlib.import_module(module), name
        )
        report.update(part(session, start, end))
    return report
