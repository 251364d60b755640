"""Import an existing ``incidents`` table (the AI PM framework's SQLite schema)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.errors import ValidationError
from vigil.incidents import service
from vigil.incidents.ids import ensure_sequence_at_least, scope_of, template_pattern
from vigil.incidents.models import Incident
from vigil.incidents.schemas import IncidentCreate

__all__ = ["LEGACY_SOURCE", "ImportReport", "import_legacy_sqlite"]

LEGACY_SOURCE = "legacy-sqlite"
_COLUMNS = (
    "incident_id",
    "timestamp",
    "project_id",
    "order_id",
    "task_id",
    "category",
    "severity",
    "description",
    "root_cause",
    "resolution",
    "affected_records",
)


@dataclass
class ImportReport:
    """What an import did."""

    imported: list[str] = field(default_factory=list)
    skipped: int = 0
    renamed: dict[str, str] = field(default_factory=dict)
    #: Values changed on the way in: {"category NETWORK -> OTHER": 3, ...}.
    mapped: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        """Count one value changed on the way in."""
        self.mapped[what] = self.mapped.get(what, 0) + 1


def _parse_time(value: object) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    # The legacy table stores SQLite CURRENT_TIMESTAMP: UTC without an offset.
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _records(value: object) -> list[str]:
    if not value:
        return []
    try:
        loaded = json.loads(str(value))
    except ValueError:
        return [str(value)]
    return [str(v) for v in loaded] if isinstance(loaded, list) else [str(loaded)]


def _read_rows(path: Path) -> list[sqlite3.Row]:
    if not path.is_file():
        raise ValidationError(f"legacy database {path} does not exist", field="path")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        cols = {r[1] for r in conn.execute("PRAGMA table_info(incidents)")}
        missing = {"incident_id", "category", "description"} - cols
        if missing:
            raise ValidationError(
                f"{path} has no AI PM framework incidents table (missing columns: {', '.join(sorted(missing))})",
                field="path",
            )
        wanted = ", ".join(c if c in cols else f"NULL AS {c}" for c in _COLUMNS)
        rows = conn.execute(f"SELECT {wanted} FROM incidents ORDER BY rowid").fetchall()
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise ValidationError(
            f"{path} is not a readable SQLite database: {exc}", field="path"
        ) from exc
    return rows


def import_legacy_sqlite(
    *, session: Session, settings: Settings, path: Path, actor: str
) -> ImportReport:
    """Copy rows not imported before; keep their IDs unless Vigil already uses one."""
    report = ImportReport()
    rows = _read_rows(path)
    done = set(
        session.execute(
            select(Incident.external_id).where(Incident.source == LEGACY_SOURCE)
        ).scalars()
    )
    for row in rows:
        legacy_id = str(row["incident_id"])
        if legacy_id in done:
            report.skipped += 1
            continue
        category = str(row["category"] or "OTHER").upper()
        labels = {"legacy_id": legacy_id}
        if category not in settings.categories:
            labels["legacy_category"] = category
            report.count(f"category {category} -> OTHER (kept as label legacy_category)")
            category = "OTHER"
        if not row["severity"]:
            report.count("severity (empty) -> medium")
        detected = _parse_time(row["timestamp"])
        taken = session.execute(select(Incident.id).where(Incident.human_id == legacy_id)).first()
        data = IncidentCreate(
            description=str(row["description"] or ""),
            title=None if row["description"] else legacy_id,
            category=category,
            severity=str(row["severity"] or "MEDIUM"),
            project_id=row["project_id"],
            order_id=row["order_id"],
            task_id=row["task_id"],
            root_cause=row["root_cause"],
            resolution=row["resolution"],
            affected_records=_records(row["affected_records"]),
            labels=labels,
            detected_at=detected,
        )
        human_id = service.create_incident(
            session=session,
            settings=settings,
            data=data,
            actor=actor,
            source=LEGACY_SOURCE,
            external_id=legacy_id,
            human_id=None if taken else legacy_id,
            status="resolved" if row["resolution"] else "open",
        )
        if taken:
            report.renamed[legacy_id] = human_id
        else:
            match = template_pattern(settings.id_template, detected).match(legacy_id)
            if match:
                scope = scope_of(settings.id_template, detected)
                ensure_sequence_at_least(session=session, scope=scope, value=int(match.group(1)))
        service.add_note(
            session=session,
            ref=human_id,
            actor=actor,
            text=f"Imported from legacy database {path} (original ID {legacy_id}); "
            "times other than detection are unknown.",
        )
        report.imported.append(human_id)
        done.add(legacy_id)
    return report
