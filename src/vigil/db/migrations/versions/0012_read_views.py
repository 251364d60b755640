"""A stable read interface on PostgreSQL for dashboards (views and availability functions),
and ``retention_cuts``, how far back each log has been pruned (both backends).

Grafana (or any SQL client) reads these instead of Vigil's tables, so its queries stay short
and survive schema changes: a name or column here changes only with a migration that says so
(docs/grafana.md lists them). SQLite gets none of them (Grafana reads Vigil's PostgreSQL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_INCIDENTS = """
CREATE VIEW vigil_incidents AS
SELECT i.human_id AS id,
       i.title,
       i.severity,
       CASE i.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                       WHEN 'low' THEN 3 ELSE 9 END AS severity_rank,
       i.status,
       i.status IN ('open', 'acknowledged', 'investigating') AS active,
       i.category,
       i.service,
       i.resource,
       i.component,
       i.source,
       i.detected_at,
       i.acknowledged_at,
       i.resolved_at,
       i.closed_at,
       i.tta_s AS time_to_acknowledge_seconds,
       i.ttr_s AS time_to_resolve_seconds
FROM incidents i
"""

_DOWNTIME = """
CREATE VIEW vigil_resource_downtime AS
SELECT resource, to_timestamp(start_s) AS starts_at, to_timestamp(end_s) AS ends_at
FROM resource_downtime
"""

_RESOURCES = """
CREATE VIEW vigil_resources AS
SELECT resource, to_timestamp(first_seen_s) AS first_seen_at
FROM resource_observations
"""

_SUMMARY = """
CREATE VIEW vigil_summary AS
SELECT
    (SELECT count(*) FROM incidents
      WHERE status IN ('open', 'acknowledged', 'investigating')) AS active,
    count(*) FILTER (WHERE detected_at >= now() - interval '1 day') AS last_24h,
    count(*) AS last_7d,
    count(*) FILTER (WHERE detected_at >= now() - interval '1 day'
                       AND severity = 'critical') AS critical_24h,
    avg(ttr_s)
        AS average_resolution_seconds_7d
FROM incidents
WHERE detected_at >= now() - interval '7 days' AND detected_at <= now()
"""

# Availability over [window_start, window_end): observed from the first recorded status,
# down as the stored maximal down intervals clipped to the window (refreshed every 30 s by
# the availability job), maintenance counted like any other time.
_AVAILABILITY = """
CREATE FUNCTION vigil_availability(window_start timestamptz, window_end timestamptz)
RETURNS TABLE (resource text, observed_seconds double precision,
               downtime_seconds double precision, availability_percent double precision,
               sla_band text)
LANGUAGE sql STABLE AS $$
WITH w AS (SELECT EXTRACT(EPOCH FROM window_start)::double precision AS lo,
                  EXTRACT(EPOCH FROM window_end)::double precision AS hi),
observed AS (
    SELECT o.resource::text AS resource, w.hi - greatest(o.first_seen_s, w.lo) AS seconds
    FROM resource_observations o, w
    WHERE o.first_seen_s < w.hi
),
down AS (
    SELECT d.resource::text AS resource,
           sum(least(coalesce(d.end_s, w.hi), w.hi) - greatest(d.start_s, w.lo)) AS seconds
    FROM resource_downtime d, w
    WHERE coalesce(d.end_s, 'Infinity'::double precision) > w.lo AND d.start_s < w.hi
    GROUP BY d.resource
),
figures AS (
    SELECT o.resource, o.seconds AS observed, coalesce(d.seconds, 0) AS downtime,
           100 * (o.seconds - coalesce(d.seconds, 0)) / o.seconds AS percent
    FROM observed o LEFT JOIN down d USING (resource)
    WHERE o.seconds > 0
)
SELECT resource, observed, downtime, percent,
       CASE WHEN percent >= 99.9 THEN 'Excellent' WHEN percent >= 99.0 THEN 'Good'
            WHEN percent >= 95.0 THEN 'Fair' ELSE 'Poor' END
FROM figures
$$
"""

# The whole fleet per UTC day from first_day to last_day (the last day ends now), in one pass:
# up time over observed time summed over resources, and how many resources were observed.
_DAILY = """
CREATE FUNCTION vigil_daily_availability(first_day timestamptz, last_day timestamptz)
RETURNS TABLE (day timestamptz, resources bigint, availability_percent double precision,
               downtime_seconds double precision)
-- Planned once per call with its real arguments; compiling it (JIT) costs more than it runs.
LANGUAGE sql STABLE ROWS 31 SET jit = off AS $$
WITH span AS (
    SELECT EXTRACT(EPOCH FROM first_day)::double precision AS lo,
           EXTRACT(EPOCH FROM least(last_day + interval '1 day', now()))::double precision AS hi
),
days AS (
    SELECT k, span.lo + k * 86400 AS lo, least(span.lo + (k + 1) * 86400, span.hi) AS hi
    FROM span, generate_series(0, ceil((span.hi - span.lo) / 86400)::int - 1) AS k
),
observed AS (
    SELECT days.k, count(*) AS resources, sum(days.hi - greatest(o.first_seen_s, days.lo)) AS seconds
    FROM days JOIN resource_observations o ON o.first_seen_s < days.hi
    GROUP BY days.k
),
down AS (
    -- The intervals of the whole span, found once by their end, each cut into its days.
    SELECT k, sum(least(coalesce(d.end_s, span.hi), span.lo + (k + 1) * 86400, span.hi)
                  - greatest(d.start_s, span.lo + k * 86400)) AS seconds
    FROM span
    JOIN resource_downtime d
      ON coalesce(d.end_s, 'Infinity'::double precision) > span.lo AND d.start_s < span.hi
    CROSS JOIN LATERAL generate_series(
        floor((greatest(d.start_s, span.lo) - span.lo) / 86400)::int,
        ceil((least(coalesce(d.end_s, span.hi), span.hi) - span.lo) / 86400)::int - 1
    ) AS k
    GROUP BY k
)
SELECT to_timestamp(span.lo + o.k * 86400), o.resources,
       100 * (o.seconds - coalesce(d.seconds, 0)) / o.seconds, coalesce(d.seconds, 0)
FROM span, observed o LEFT JOIN down d USING (k)
WHERE o.seconds > 0
$$
"""

# Recent windows (a day, two weeks) touch only the intervals that end inside them: found by
# their end, with the interval still open counted as ending at infinity.
_BY_END = (
    "CREATE INDEX ix_resource_downtime_end ON resource_downtime "
    "((coalesce(end_s, 'Infinity'::double precision)))"
)

# The active panel: active incidents most severe first, oldest first, read in index order
# (the expression is the view's severity_rank, so the planner matches it).
_ACTIVE_BY_RANK = (
    "CREATE INDEX ix_incidents_active_rank ON incidents ((CASE severity WHEN 'critical' THEN 0 "
    "WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 9 END), detected_at) "
    "WHERE status IN ('open', 'acknowledged', 'investigating')"
)

_CREATE = (
    _INCIDENTS, _DOWNTIME, _RESOURCES, _SUMMARY, _AVAILABILITY, _DAILY, _BY_END, _ACTIVE_BY_RANK,
)  # fmt: skip
_DROP = (
    "DROP INDEX IF EXISTS ix_incidents_active_rank",
    "DROP FUNCTION IF EXISTS vigil_daily_availability(timestamptz, timestamptz)",
    "DROP INDEX IF EXISTS ix_resource_downtime_end",
    "DROP FUNCTION IF EXISTS vigil_availability(timestamptz, timestamptz)",
    "DROP VIEW IF EXISTS vigil_summary",
    "DROP VIEW IF EXISTS vigil_resources",
    "DROP VIEW IF EXISTS vigil_resource_downtime",
    "DROP VIEW IF EXISTS vigil_incidents",
)


def upgrade() -> None:
    op.create_table(
        "retention_cuts",
        sa.Column("log", sa.String(64), primary_key=True),
        sa.Column("pruned_before", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _CREATE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DROP:
            op.execute(statement)
    op.drop_table("retention_cuts")
