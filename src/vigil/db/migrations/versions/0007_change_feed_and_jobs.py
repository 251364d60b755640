"""Change feed positions, transaction ids on the followed logs, and the job table.

``timeline_entries`` and ``resource_state_changes`` get a ``txid`` column: on PostgreSQL
the id of the writing transaction (``pg_current_xact_id()``), so followers read them in an
order no later commit can precede; rows already there get 0 and come first, by id. SQLite
commits in id order and leaves the column empty. ``feed_positions`` replaces
``analytics_watermarks`` (the availability refresh becomes the follower ``availability``);
``jobs`` holds each periodic job's lease and last run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LOGS = ("timeline_entries", "resource_state_changes")
_TXID_DEFAULT = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for log in _LOGS:
        if postgres:
            # Rows already there get 0 from the column default, with no rewrite and without
            # the timeline's no-UPDATE trigger; new rows get their transaction's id.
            op.execute(f"ALTER TABLE {log} ADD COLUMN txid BIGINT DEFAULT 0")
            op.execute(f"ALTER TABLE {log} ALTER COLUMN txid SET DEFAULT {_TXID_DEFAULT}")
        else:
            with op.batch_alter_table(log) as batch:
                batch.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        op.create_index(
            f"ix_{log}_txid",
            log,
            ["txid", "id"],
            sqlite_where=sa.text("txid IS NOT NULL"),
            postgresql_where=sa.text("txid IS NOT NULL"),
        )
    op.create_table(
        "feed_positions",
        sa.Column("follower", sa.String(64), nullable=False),
        sa.Column("log", sa.String(64), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("follower", "log", name="pk_feed_positions"),
    )
    op.execute(
        "INSERT INTO feed_positions (follower, log, txid, row_id, updated_at) "
        "SELECT 'availability', name, 0, value, CURRENT_TIMESTAMP FROM analytics_watermarks"
    )
    op.drop_table("analytics_watermarks")
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("period_seconds", sa.Float(), nullable=False),
        sa.Column("next_due_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("lease_until", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_duration_seconds", sa.Float(), nullable=True),
        sa.Column("last_result", sa.String(16), nullable=True),
        sa.Column("last_summary", sa.Text(), nullable=True),
        sa.Column("last_runner", sa.String(200), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_jobs"),
    )


def downgrade() -> None:
    op.drop_table("jobs")
    op.create_table(
        "analytics_watermarks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_analytics_watermarks"),
    )
    op.execute(
        "INSERT INTO analytics_watermarks (name, value) SELECT log, row_id FROM feed_positions "
        "WHERE follower = 'availability'"
    )
    op.drop_table("feed_positions")
    for log in _LOGS:
        op.drop_index(f"ix_{log}_txid", table_name=log)
        with op.batch_alter_table(log) as batch:
            batch.drop_column("txid")
