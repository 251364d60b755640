"""A stable read interface on PostgreSQL for dashboards: views and one availability function.

Grafana (or any SQL client) reads these instead of Vigil's tables, so its queries stay short
and survive schema changes: a name or column here changes only with a migration that says so
(docs/grafana.md lists them). SQLite gets none of them (Grafana reads Vigil's PostgreSQL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:50:00
"""

from __future__ import annotations

from alembic import op

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
       EXTRACT(EPOCH FROM i.acknowledged_at - i.detected_at)::double precision
           AS time_to_acknowledge_seconds,
       EXTRACT(EPOCH FROM i.resolved_at - i.detected_at)::double precision
           AS time_to_resolve_seconds
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
    avg(EXTRACT(EPOCH FROM resolved_at - detected_at))::double precision
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
    WHERE d.start_s < w.hi AND (d.end_s IS NULL OR d.end_s > w.lo)
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

_CREATE = (_INCIDENTS, _DOWNTIME, _RESOURCES, _SUMMARY, _AVAILABILITY)
_DROP = (
    "DROP FUNCTION IF EXISTS vigil_availability(timestamptz, timestamptz)",
    "DROP VIEW IF EXISTS vigil_summary",
    "DROP VIEW IF EXISTS vigil_resources",
    "DROP VIEW IF EXISTS vigil_resource_downtime",
    "DROP VIEW IF EXISTS vigil_incidents",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _CREATE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DROP:
        op.execute(statement)
