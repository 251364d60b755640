"""The Python logging API: ``log_incident`` and ``IncidentLogger`` (error capture helpers are
in :mod:`vigil.error_capture`).

Results are plain dicts with the logger's field names (``incident_id``,
``timestamp``, ``severity`` in upper case, ``affected_records`` as a list) and
Vigil's extra fields. The database is ``VIGIL_DATABASE_URL`` or the default
SQLite file, unless :meth:`IncidentLogger.configure` picks another.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, ClassVar

from vigil.config import Settings
from vigil.db import Store
from vigil.errors import NotFoundError
from vigil.incidents import Incident, IncidentCreate, IncidentFilter, IncidentRead, IncidentUpdate
from vigil.incidents import service as incidents
from vigil.validation import rfc3339

__all__ = ["IncidentLogger", "log_incident", "logger_dict"]

ACTOR = "library"


def _iso(value: dt.datetime | None) -> str | None:
    return rfc3339(value) if value else None


def logger_dict(incident: Incident | IncidentRead) -> dict[str, Any]:
    """Return an incident in the logger's dict shape plus Vigil's extra fields."""
    read = incident if isinstance(incident, IncidentRead) else IncidentRead.from_incident(incident)
    data = read.model_dump(mode="json")
    data.pop("id")
    return {
        "incident_id": read.id,
        "timestamp": _iso(read.detected_at),
        "project_id": read.project_id,
        "order_id": read.order_id,
        "task_id": read.task_id,
        "category": read.category,
        "severity": read.severity.upper(),
        "description": read.description,
        "root_cause": read.root_cause,
        "resolution": read.resolution,
        "affected_records": list(read.affected_records),
        "created_at": _iso(read.created_at),
        **{k: v for k, v in data.items() if k not in ("severity", "created_at")},
    }


def _parse_when(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


class IncidentLogger:
    """The incident logger, backed by a Vigil store."""

    _store: ClassVar[Store | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def configure(cls, database_url: str | None = None, settings: Settings | None = None) -> Store:
        """Point the logger at a database (default: from ``VIGIL_*`` settings)."""
        with cls._lock:
            if cls._store is not None:
                cls._store.close()
            cls._store = Store(settings or Settings(), database_url)
            return cls._store

    @classmethod
    def store(cls) -> Store:
        """Return the store in use, opening the default one on first use."""
        store = cls._store
        if store is None:
            return cls.configure()
        return store

    @classmethod
    def create_incident(
        cls,
        category: str,
        description: str,
        severity: str | None = None,
        project_id: str | None = None,
        order_id: str | None = None,
        task_id: str | None = None,
        root_cause: str | None = None,
        resolution: str | None = None,
        affected_records: list[str] | None = None,
        **fields: Any,
    ) -> str:
        """Record an incident and return its ID (e.g. ``INC_001``)."""
        data = IncidentCreate(
            category=category,
            description=description,
            severity=severity,
            project_id=project_id,
            order_id=order_id,
            task_id=task_id,
            root_cause=root_cause,
            resolution=resolution,
            affected_records=list(affected_records or []),
            **fields,
        )
        store = cls.store()
        with store.write() as session:
            return incidents.create_incident(
                session=session, settings=store.settings, data=data, actor=ACTOR, source="library"
            )

    @classmethod
    def update_incident(cls, incident_id: str, **fields: Any) -> dict[str, Any]:
        """Edit an incident (e.g. ``root_cause``, ``resolution``) and return it."""
        store = cls.store()
        with store.write() as session:
            incident = incidents.update_incident(
                session=session,
                settings=store.settings,
                ref=incident_id,
                data=IncidentUpdate(**fields),
                actor=ACTOR,
            )
            return logger_dict(incident)

    @classmethod
    def get_incident(cls, incident_id: str) -> dict[str, Any] | None:
        """Return one incident, or None when there is no such ID."""
        with cls.store().read() as session:
            try:
                return logger_dict(incidents.get_incident(session=session, ref=incident_id))
            except NotFoundError:
                return None

    @classmethod
    def _list(cls, limit: int, **filters: Any) -> list[dict[str, Any]]:
        store = cls.store()
        with store.read() as session:
            rows, _ = incidents.list_incidents(
                session=session,
                settings=store.settings,
                filters=IncidentFilter(**filters),
                limit=limit,
            )
            return [logger_dict(i) for i in rows]

    @classmethod
    def get_incidents_by_category(cls, category: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest incidents of a category."""
        return cls._list(limit, category=[category])

    @classmethod
    def get_incidents_by_severity(cls, severity: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest incidents of a severity (case-insensitive)."""
        return cls._list(limit, severity=[severity])

    @classmethod
    def get_incidents_by_project(cls, project_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest incidents of a project."""
        return cls._list(limit, project_id=project_id)

    @classmethod
    def get_incidents_by_order(cls, order_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest incidents of an order."""
        return cls._list(limit, order_id=order_id)

    @classmethod
    def get_incidents_by_task(cls, task_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return the newest incidents of a task."""
        return cls._list(limit, task_id=task_id)

    @classmethod
    def get_incidents_summary(
        cls,
        start_date: str | dt.datetime | None = None,
        end_date: str | dt.datetime | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any]:
        """Return total, by_category, by_severity and recent_high for [start_date, end_date)."""
        from vigil.analytics import incidents_summary

        with cls.store().read() as session:
            summary = incidents_summary(
                session=session,
                start=_parse_when(start_date),
                end=_parse_when(end_date),
                project_id=project_id,
            )
        return {
            "total": summary.total,
            "by_category": summary.by_category,
            "by_severity": {k.upper(): v for k, v in summary.by_severity.items()},
            "recent_high": [logger_dict(i) for i in summary.recent_high],
            "start_date": _iso(summary.start),
            "end_date": _iso(summary.end),
            "project_id": project_id,
        }

    @classmethod
    def get_recurrence_rate(
        cls, category: str, days: int = 30, project_id: str | None = None
    ) -> dict[str, Any]:
        """Return total_incidents, recurrence_rate (per day) and trend for a category."""
        from vigil.analytics import recurrence_rate

        store = cls.store()
        with store.read() as session:
            result = recurrence_rate(
                session=session,
                settings=store.settings,
                category=category,
                days=days,
                project_id=project_id,
            )
        return result.model_dump(mode="json")


def log_incident(
    category: str,
    description: str,
    severity: str | None = None,
    project_id: str | None = None,
    order_id: str | None = None,
    task_id: str | None = None,
    root_cause: str | None = None,
    resolution: str | None = None,
    affected_records: list[str] | None = None,
    **fields: Any,
) -> str:
    """Record an incident, committed before returning, and return its ID."""
    return IncidentLogger.create_incident(
        category=category,
        description=description,
        severity=severity,
        project_id=project_id,
        order_id=order_id,
        task_id=task_id,
        root_cause=root_cause,
        resolution=resolution,
        affected_records=affected_records,
        **fields,
    )
