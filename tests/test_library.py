"""Seed 000's examples, run as written (import path ``vigil``), plus the capture helpers."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from vigil import IncidentLogger, IncidentLogHandler, log_incident, record_incident_on_error
from vigil.config import Settings


@pytest.fixture
def logger_db(settings: Settings) -> Iterator[Settings]:
    IncidentLogger.configure(settings=settings)
    yield settings
    IncidentLogger.store().close()
    IncidentLogger._store = None


@pytest.mark.usefixtures("logger_db")
def test_seed_000_usage_query_summary_and_recurrence() -> None:
    incident_id = log_incident(
        category="WORKER_FAILURE",
        description="Worker process crashed during task execution",
        severity="HIGH",
        project_id="ai_pm_manager",
        task_id="TASK_917",
    )
    assert incident_id == "INC_001"
    incident_id = IncidentLogger.create_incident(
        category="MIGRATION_ERROR",
        description="Schema migration failed due to constraint violation",
        severity="HIGH",
        project_id="ai_pm_manager",
        order_id="ORDER_088",
        root_cause="Missing foreign key constraint",
        resolution="Added proper FK constraint in migration script",
        affected_records=["TASK_917", "TASK_918"],
    )
    assert incident_id == "INC_002"
    IncidentLogger.update_incident(
        incident_id="INC_001",
        root_cause="Database lock timeout due to concurrent access",
        resolution="Implemented retry logic with exponential backoff",
    )
    incident = IncidentLogger.get_incident("INC_001")
    assert incident is not None
    assert incident["root_cause"] == "Database lock timeout due to concurrent access"
    assert incident["severity"] == "HIGH"
    assert incident["task_id"] == "TASK_917"
    assert IncidentLogger.get_incident("INC_404") is None

    incidents = IncidentLogger.get_incidents_by_category("MIGRATION_ERROR", limit=10)
    assert [i["incident_id"] for i in incidents] == ["INC_002"]
    assert incidents[0]["affected_records"] == ["TASK_917", "TASK_918"]
    assert len(IncidentLogger.get_incidents_by_severity("HIGH")) == 2
    assert len(IncidentLogger.get_incidents_by_project("ai_pm_manager")) == 2
    assert [i["incident_id"] for i in IncidentLogger.get_incidents_by_order("ORDER_088")] == [
        "INC_002"
    ]
    assert [i["incident_id"] for i in IncidentLogger.get_incidents_by_task("TASK_917")] == [
        "INC_001"
    ]

    summary = IncidentLogger.get_incidents_summary(
        start_date="2020-01-01T00:00:00", end_date="2100-02-01T00:00:00", project_id="ai_pm_manager"
    )
    assert summary["total"] == 2
    assert summary["by_category"] == {"MIGRATION_ERROR": 1, "WORKER_FAILURE": 1}
    assert summary["by_severity"] == {"HIGH": 2}
    assert len(summary["recent_high"]) == 2
    empty = IncidentLogger.get_incidents_summary(
        start_date="2026-01-01T00:00:00", end_date="2026-02-01T00:00:00", project_id="other"
    )
    assert empty["total"] == 0

    stats = IncidentLogger.get_recurrence_rate(
        category="WORKER_FAILURE", days=30, project_id="ai_pm_manager"
    )
    assert stats["total_incidents"] == 1
    assert stats["recurrence_rate"] == round(1 / 30, 4)
    assert stats["trend"] in ("increasing", "decreasing", "stable")


@pytest.mark.usefixtures("logger_db")
def test_seed_000_exception_handler_pattern_and_context_manager() -> None:
    def run_migration() -> None:
        raise RuntimeError("lock timeout")

    with pytest.raises(RuntimeError):
        try:
            run_migration()
        except Exception as e:
            log_incident(
                category="MIGRATION_ERROR",
                description=f"Migration failed: {e!s}",
                severity="HIGH",
                project_id="p",
                order_id="ORDER_1",
                root_cause="Database lock timeout",
                affected_records=["schema.sql"],
            )
            raise

    guard = record_incident_on_error(category="WORKER_FAILURE", project_id="p")
    with pytest.raises(ValueError, match="boom"), guard:
        raise ValueError("boom")
    assert guard.incident_id == "INC_002"
    recorded = IncidentLogger.get_incident("INC_002")
    assert recorded is not None
    assert recorded["description"] == "ValueError: boom"

    @record_incident_on_error(category="SYSTEM_ERROR", severity="critical")
    def job() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        job()
    assert IncidentLogger.get_incidents_by_severity("critical")[0]["category"] == "SYSTEM_ERROR"


def test_failed_recording_does_not_hide_the_original_error(tmp_path: object) -> None:
    guard = record_incident_on_error(category="NOT_A_CATEGORY")
    IncidentLogger.configure(settings=Settings(data_dir=tmp_path))  # type: ignore[arg-type]
    try:
        with pytest.raises(ZeroDivisionError) as info, guard:
            1 / 0  # noqa: B018
        assert any("could not record" in n for n in info.value.__notes__)
    finally:
        IncidentLogger.store().close()
        IncidentLogger._store = None


@pytest.mark.usefixtures("logger_db")
def test_log_handler_folds_a_tight_error_loop_into_one_incident() -> None:
    handler = IncidentLogHandler(logging.ERROR, category="WORKER_FAILURE", project_id="pipeline")
    log = logging.getLogger("pipeline.worker")
    log.addHandler(handler)
    log.propagate = False
    try:
        for i in range(500):
            log.error("task %s failed", i)
        log.warning("below the level: ignored")
        log.critical("different line: separate incident")
    finally:
        handler.close()
        log.removeHandler(handler)
    rows = IncidentLogger.get_incidents_by_project("pipeline")
    assert len(rows) == 2
    by_severity = {r["severity"]: r for r in rows}
    assert by_severity["HIGH"]["occurrence_count"] == 500
    assert by_severity["CRITICAL"]["occurrence_count"] == 1
