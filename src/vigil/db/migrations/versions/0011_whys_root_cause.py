"""Postmortems keep the five whys' conclusion apart from the Root Cause paragraph.

Existing postmortems whose whys concluded get that conclusion copied into the new column (it
was stored as the root cause), so their reports read as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("whys_root_cause", sa.Text(), server_default="", nullable=False)
        )
    op.execute(
        "UPDATE postmortems SET whys_root_cause = root_cause "
        "WHERE facilitator IS NOT NULL AND root_cause <> ''"
    )


def downgrade() -> None:
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.drop_column("whys_root_cause")
