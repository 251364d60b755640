"""Engine behaviour the query plans rely on."""

from __future__ import annotations

from sqlalchemy import func, select

from vigil.db.store import Store
from vigil.incidents.models import Incident


def test_sqlite_table_hints_are_rendered_and_used(store: Store) -> None:
    stmt = (
        select(Incident.service, func.count())
        .with_hint(Incident, "INDEXED BY ix_incidents_service_response", "sqlite")
        .group_by(Incident.service)
    )
    sql = str(stmt.compile(dialect=store.engine.dialect))
    if store.backend == "sqlite":
        assert "FROM incidents INDEXED BY ix_incidents_service_response" in sql
        with store.read() as session:
            plan = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        assert any("ix_incidents_service_response" in str(row[-1]) for row in plan)
    else:
        assert "INDEXED BY" not in sql  # a SQLite hint means nothing to PostgreSQL
    with store.read() as session:
        assert session.execute(stmt).all() == []
