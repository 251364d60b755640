"""Recording incidents from errors: a context manager/decorator and a logging handler."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from contextlib import ContextDecorator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from vigil.incidents import IncidentCreate
from vigil.incidents import service as incidents
from vigil.library import ACTOR, IncidentLogger, log_incident

__all__ = ["IncidentLogHandler", "record_incident_on_error"]


class record_incident_on_error(ContextDecorator):  # noqa: N801 - used like a function
    """Record an incident when the wrapped block or function raises, then re-raise.

    ``with record_incident_on_error(category="MIGRATION_ERROR"): run_migration()``
    or as ``@record_incident_on_error(...)``. If recording fails, the original
    exception still propagates, with a note saying why nothing was recorded.
    """

    def __init__(
        self, category: str = "SYSTEM_ERROR", severity: str = "high", **fields: Any
    ) -> None:
        self.category = category
        self.severity = severity
        self.fields = fields
        self.incident_id: str | None = None

    def __enter__(self) -> record_incident_on_error:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        fields = dict(self.fields)
        prefix = fields.pop("description", None)
        text = f"{type(exc).__name__}: {exc}"
        try:
            self.incident_id = log_incident(
                category=self.category,
                description=f"{prefix}: {text}" if prefix else text,
                severity=self.severity,
                **fields,
            )
        except Exception as failure:
            exc.add_note(f"vigil could not record an incident for this error: {failure}")


@dataclass
class _Seen:
    incident_id: str
    first: float
    pending: int = 0
    last_flush: float = 0.0
    last_seen: dt.datetime | None = None


_LEVEL_SEVERITY = {logging.CRITICAL: "critical", logging.ERROR: "high", logging.WARNING: "medium"}
_IGNORED_LOGGERS = ("vigil", "sqlalchemy", "alembic", "uvicorn.access")


class IncidentLogHandler(logging.Handler):
    """A logging handler that turns records at or above ``level`` into incidents.

    Records with the same logger, level, source line and exception type inside
    ``dedup_seconds`` fold into one incident whose ``occurrence_count`` grows,
    so a tight error loop creates one incident, not thousands.
    """

    FLUSH_EVERY = 5.0

    def __init__(
        self,
        level: int = logging.ERROR,
        *,
        category: str = "SYSTEM_ERROR",
        dedup_seconds: float | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(level)
        self.category = category
        self.fields = fields
        self.dedup_seconds = dedup_seconds
        self._seen: dict[str, _Seen] = {}
        self._guard = threading.local()

    def _fingerprint(self, record: logging.LogRecord) -> str:
        exc_name = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        raw = f"{record.name}|{record.levelno}|{record.pathname}|{record.lineno}|{exc_name}"
        return "log:" + hashlib.sha256(raw.encode()).hexdigest()[:24]

    def emit(self, record: logging.LogRecord) -> None:
        """Create or count the incident for ``record``."""
        if record.name.startswith(_IGNORED_LOGGERS) or getattr(self._guard, "busy", False):
            return
        self._guard.busy = True
        try:
            window = self.dedup_seconds or IncidentLogger.store().settings.log_dedup_seconds
            key = self._fingerprint(record)
            now = time.monotonic()
            seen = self._seen.get(key)
            if seen is not None and now - seen.first < window:
                seen.pending += 1
                seen.last_seen = dt.datetime.fromtimestamp(record.created, dt.UTC)
                if now - seen.last_flush >= self.FLUSH_EVERY:
                    self._flush_one(seen, now)
                return
            if seen is not None:
                self._flush_one(seen, now)
            incident_id = self._open_or_count(record, key)
            self._seen[key] = _Seen(incident_id=incident_id, first=now, last_flush=now)
        except Exception:
            self.handleError(record)
        finally:
            self._guard.busy = False

    def _open_or_count(self, record: logging.LogRecord, key: str) -> str:
        """Count the record on the active incident with this fingerprint, or open one."""
        level = record.levelno
        severity = "critical" if level >= logging.CRITICAL else _LEVEL_SEVERITY.get(level, "low")
        store = IncidentLogger.store()
        with store.write() as session:
            active = incidents.find_active_by_dedup_key(session=session, dedup_key=key)
            if active is not None:
                incidents.record_occurrences(session=session, ref=active.human_id, count=1)
                return active.human_id
            data = IncidentCreate(
                category=self.category,
                description=self.format(record),
                severity=severity,
                dedup_key=key,
                title=f"{record.name}: {record.getMessage()}"[:300],
                **self.fields,
            )
            return incidents.create_incident(
                session=session, settings=store.settings, data=data, actor=ACTOR, source="library"
            )

    def _flush_one(self, seen: _Seen, now: float) -> None:
        if seen.pending:
            with IncidentLogger.store().write() as session:
                incidents.record_occurrences(
                    session=session,
                    ref=seen.incident_id,
                    count=seen.pending,
                    seen_at=seen.last_seen,
                )
            seen.pending = 0
        seen.last_flush = now

    def flush(self) -> None:
        """Write the pending repeat counts."""
        now = time.monotonic()
        for seen in list(self._seen.values()):
            self._flush_one(seen, now)

    def close(self) -> None:
        """Flush and close."""
        try:
            self.flush()
        finally:
            super().close()
