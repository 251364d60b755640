"""Analytics: derived downtime intervals for availability, response durations for metrics.

Adds ``resource_downtime``, ``resource_observations`` and ``analytics_watermarks`` (filled
by the first availability refresh, not here, so the upgrade stays fast on big databases),
and three generated duration columns on ``incidents`` with the indexes response metrics walk;
drops the events index by dedup key, which nothing reads and which made ingestion write pages
all over its tree.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 04:31:37.970335
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.db.base import epoch_diff

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DURATIONS = {"tta_s": "acknowledged_at", "ttr_s": "resolved_at", "ttc_s": "closed_at"}


def upgrade() -> None:
    op.create_table(
        "analytics_watermarks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_watermarks")),
    )
    op.create_table(
        "resource_downtime",
        sa.Column("resource", sa.String(length=200), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("resource", "start_s", name=op.f("pk_resource_downtime")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "resource_observations",
        sa.Column("resource", sa.String(length=200), nullable=False),
        sa.Column("first_seen_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("resource", name=op.f("pk_resource_observations")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_dedup_key_occurred_at")
    with op.batch_alter_table("resource_state_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_resource_state_changes_resource_at", ["resource", "at"], unique=False
        )
    # SQLite can only add virtual generated columns (and indexes them); PostgreSQL stores them.
    persisted = True if op.get_context().dialect.name == "postgresql" else None
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for name, stamp in DURATIONS.items():
            expr = sa.Computed(epoch_diff(sa.column(stamp), sa.column("detected_at")), persisted)
            batch_op.add_column(sa.Column(name, sa.Float(), expr, nullable=True))
        batch_op.create_index(
            "ix_incidents_service_response",
            ["service", "detected_at", "tta_s", "ttr_s", "ttc_s"],
            unique=False,
        )
        for name in DURATIONS:
            where = sa.text(f"{name} IS NOT NULL")
            batch_op.create_index(
                f"ix_incidents_service_{name}",
                ["service", name, "detected_at"],
                unique=False,
                sqlite_where=where,
                postgresql_where=where,
            )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for name in DURATIONS:
            batch_op.drop_index(f"ix_incidents_service_{name}")
        batch_op.drop_index("ix_incidents_service_response")
        for name in DURATIONS:
            batch_op.drop_column(name)
    with op.batch_alter_table("resource_state_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_resource_state_changes_resource_at")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_dedup_key_occurred_at", ["dedup_key", "occurred_at"], unique=False
        )
    op.drop_table("resource_observations")
    op.drop_table("resource_downtime")
    op.drop_table("analytics_watermarks")
