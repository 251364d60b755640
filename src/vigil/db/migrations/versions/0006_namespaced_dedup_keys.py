"""Ingestion: dedup keys are namespaced by integration.

An ingested incident's dedup key becomes ``source:integration:key`` so that an integration
only ever matches incidents it opened itself (before, any sender could resolve any incident
by naming its key). Active incidents opened by ingestion are rewritten here, so the next
event from their integration still finds them; resolved and closed ones keep their keys.
PagerDuty keys already carried their integration (``pagerduty:integration:key``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:30:00
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _namespaced(source: str, sender: str, key: str) -> str:
    full = f"{source}:{sender}:{key}"
    if len(full) <= 300:
        return full
    return f"{full[:267]}#{hashlib.sha256(full.encode()).hexdigest()[:32]}"


def upgrade() -> None:
    if context.is_offline_mode():
        # The new keys are computed row by row (long ones end in a hash), which needs a live
        # database; a dry run can only say so.
        op.execute("-- 0006: active ingested incidents get dedup keys 'source:integration:key'")
        return
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT i.id, i.source, i.dedup_key, "
            "COALESCE((SELECT e.sender FROM events e WHERE e.incident_id = i.id "
            "ORDER BY e.id LIMIT 1), i.reported_by) "
            "FROM incidents i WHERE i.dedup_key IS NOT NULL "
            "AND i.status IN ('open', 'acknowledged', 'investigating') "
            "AND i.source IN ('events', 'alertmanager', 'grafana')"
        )
    ).all()
    for pk, source, key, sender in rows:
        if sender is None:
            continue
        old = key[len(source) + 1 :] if source != "events" and key.startswith(source + ":") else key
        conn.execute(
            sa.text("UPDATE incidents SET dedup_key = :key WHERE id = :id"),
            {"key": _namespaced(source, sender, old), "id": pk},
        )


def downgrade() -> None:
    """Keys stay namespaced: the old global keys cannot be told apart again."""
