"""Ingestion: deferred repeat counters, and one incidents index fewer.

Adds ``ingest_pending`` (event-log ranges whose repeat counters a writer still holds in
memory; see ``vigil.ingest.cache``) and drops two incidents indexes, each of which cost
every ingested incident: ``ix_incidents_resource_component`` (queries by resource also
bound ``detected_at`` and use ``ix_incidents_resource_detected_at``) and
``ix_incidents_dedup_key`` (only active incidents are looked up by key, which the partial
unique index ``uq_incidents_open_dedup_key`` serves); and the state history's indexes by
``(state_key, at)`` and ``at``, which no query reads since availability follows the
history by id and by ``(resource, at)``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_pending",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_pending")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_ingest_pending_period", "ingest_pending", ["period"], unique=False)
    op.drop_index("ix_incidents_resource_component", table_name="incidents")
    op.drop_index("ix_incidents_dedup_key", table_name="incidents")
    op.drop_index("ix_resource_state_changes_key_at", table_name="resource_state_changes")
    op.drop_index("ix_resource_state_changes_at", table_name="resource_state_changes")


def downgrade() -> None:
    op.create_index(
        "ix_resource_state_changes_key_at", "resource_state_changes", ["state_key", "at"]
    )
    op.create_index("ix_resource_state_changes_at", "resource_state_changes", ["at"])
    op.create_index("ix_incidents_dedup_key", "incidents", ["dedup_key"], unique=False)
    op.create_index(
        "ix_incidents_resource_component", "incidents", ["resource", "component"], unique=False
    )
    op.drop_index("ix_ingest_pending_period", table_name="ingest_pending")
    op.drop_table("ingest_pending")
