"""Browsing incidents page by page in a chosen order (the web list and its CSV export)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.errors import ValidationError
from vigil.incidents.lifecycle import SEVERITIES
from vigil.incidents.models import Incident
from vigil.incidents.schemas import IncidentFilter
from vigil.incidents.service import filtered_select

__all__ = ["SORTS", "IncidentBrowse", "browse_incidents", "export_incidents", "related_incidents"]

_RANK = case({s: i for i, s in enumerate(SEVERITIES)}, value=Incident.severity, else_=9)
_STATUS_ORDER = case(
    {s: i for i, s in enumerate(("open", "acknowledged", "investigating", "resolved", "closed"))},
    value=Incident.status,
    else_=9,
)
#: The orders a list can be sorted in; ties fall back to newest first.
SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (Incident.detected_at.desc(), Incident.id.desc()),
    "oldest": (Incident.detected_at.asc(), Incident.id.asc()),
    "severity": (_RANK, Incident.detected_at.desc(), Incident.id.desc()),
    "status": (_STATUS_ORDER, Incident.detected_at.desc(), Incident.id.desc()),
    "updated": (Incident.updated_at.desc(), Incident.id.desc()),
}
MAX_PER_PAGE = 500


@dataclass(frozen=True, slots=True)
class IncidentBrowse:
    """One page of incidents and where it sits in the whole result."""

    rows: Sequence[Incident]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the result has (at least one)."""
        return max(1, -(-self.total // self.per_page))


MAX_EXPORT = 10_000


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise ValidationError(
            f"sort {sort!r} is not one of: {', '.join(SORTS)}", field="sort", allowed=list(SORTS)
        )


def export_incidents(
    *, session: Session, settings: Settings, filters: IncidentFilter, sort: str = "newest"
) -> Sequence[Incident]:
    """Return up to MAX_EXPORT incidents matching ``filters`` in order ``sort`` (one query)."""
    _check_sort(sort)
    stmt = filtered_select(session, settings, filters).order_by(*SORTS[sort]).limit(MAX_EXPORT)
    return session.execute(stmt).scalars().all()


def browse_incidents(
    *,
    session: Session,
    settings: Settings,
    filters: IncidentFilter,
    sort: str = "newest",
    page: int = 1,
    per_page: int = 50,
) -> IncidentBrowse:
    """Return page ``page`` of the incidents matching ``filters`` in order ``sort``."""
    _check_sort(sort)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError(f"per_page must be 1 to {MAX_PER_PAGE}", field="per_page")
    if not 1 <= page <= 1_000_000:
        raise ValidationError("page must be 1 to 1000000", field="page")
    stmt = filtered_select(session, settings, filters)
    total = int(
        session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
    )
    rows = (
        session.execute(stmt.order_by(*SORTS[sort]).limit(per_page).offset((page - 1) * per_page))
        .scalars()
        .all()
    )
    return IncidentBrowse(rows=rows, total=total, page=page, per_page=per_page)


def related_incidents(
    *, session: Session, incident: Incident, limit: int = 10
) -> Sequence[Incident]:
    """Other incidents of the same resource (else the same service), newest first."""
    if incident.resource:
        same = Incident.resource == incident.resource
    elif incident.service:
        same = Incident.service == incident.service
    else:
        return []
    stmt = (
        select(Incident)
        .where(same, Incident.id != incident.id)
        .order_by(Incident.detected_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()
