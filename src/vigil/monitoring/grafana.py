"""The Grafana dashboard Vigil ships, built with grafana-foundation-sdk.

Two variants of the same panels:

- **sql** reads Vigil's PostgreSQL through the read interface migration 0012 creates
  (``vigil_incidents``, ``vigil_summary``, ``vigil_availability(start, end)``,
  ``vigil_daily_availability(first_day, last_day)``); every panel's
  query is in :data:`SQL_PANELS`, so tests run exactly what the dashboard runs.
- **prometheus** reads the metrics at ``/metrics`` for users who do not expose the database
  (no "last 20 incidents" table: Prometheus holds no incident list).

Severities are coloured (critical red, high orange, medium yellow, low blue) and SLA bands
too (Excellent ≥ 99.9 green, Good ≥ 99 light green, Fair ≥ 95 orange, Poor red); the active
panel refreshes with the dashboard every 30 s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

__all__ = ["SQL_PANELS", "VARIANTS", "dashboard_json"]

VARIANTS = ("sql", "prometheus")
_SQL_SOURCE = {"type": "grafana-postgresql-datasource", "uid": "${datasource}"}
_PROM_SOURCE = {"type": "prometheus", "uid": "${datasource}"}


@dataclass(frozen=True)
class SqlPanel:
    """One panel's query against the read interface (``table`` or ``time_series`` rows)."""

    title: str
    sql: str
    format: str = "table"


SQL_PANELS = {
    "active": SqlPanel(
        "Active incidents now",
        "SELECT id, severity, status, title, resource, detected_at, "
        "EXTRACT(EPOCH FROM now() - detected_at) AS open_seconds "
        "FROM vigil_incidents WHERE active ORDER BY severity_rank, detected_at LIMIT 100",
    ),
    "availability": SqlPanel(
        "Availability per resource, last 24 h",
        "SELECT resource, availability_percent, sla_band, downtime_seconds "
        "FROM vigil_availability(now() - interval '24 hours', now()) "
        "ORDER BY availability_percent, resource",
    ),
    "summary": SqlPanel(
        "Summary",
        "SELECT active, last_24h, last_7d, critical_24h, average_resolution_seconds_7d "
        "FROM vigil_summary",
    ),
    "recent": SqlPanel(
        "Last 20 incidents",
        "SELECT id, title, severity, status, resource, detected_at, "
        "CASE WHEN resolved_at IS NULL THEN 'ongoing' "
        "ELSE justify_interval(date_trunc('second', resolved_at - detected_at))::text END "
        "AS duration, time_to_resolve_seconds "
        "FROM vigil_incidents ORDER BY detected_at DESC, id DESC LIMIT 20",
    ),
    "response": SqlPanel(
        "MTTA and MTTR per day, last 30 days",
        "SELECT date_trunc('day', detected_at) AS time, "
        "avg(time_to_acknowledge_seconds) AS mtta, avg(time_to_resolve_seconds) AS mttr "
        "FROM vigil_incidents WHERE detected_at >= date_trunc('day', now()) - interval '29 days' "
        "GROUP BY 1 ORDER BY 1",
        "time_series",
    ),
    "availability_trend": SqlPanel(
        "Fleet availability per day, last 14 days",
        "SELECT day AS time, availability_percent AS fleet FROM vigil_daily_availability("
        "date_trunc('day', now()) - interval '13 days', date_trunc('day', now())) ORDER BY 1",
        "time_series",
    ),
}


class SqlQuery(cogvariants.Dataquery):
    """A raw SQL target for Grafana's PostgreSQL data source (the SDK has no builder for it)."""

    def __init__(self, ref_id: str, sql: str, fmt: str) -> None:
        self.ref_id, self.sql, self.fmt = ref_id, sql, fmt

    def to_json(self) -> dict[str, object]:
        """The target as Grafana stores it."""
        return {
            "refId": self.ref_id,
            "datasource": _SQL_SOURCE,
            "editorMode": "code",
            "rawQuery": True,
            "rawSql": self.sql,
            "format": self.fmt,
        }


class _Sql(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, panel: SqlPanel) -> None:
        self._query = SqlQuery("A", panel.sql, panel.format)

    def build(self) -> cogvariants.Dataquery:
        return self._query


def _steps(*pairs: tuple[float | None, str]) -> Any:
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in pairs])
    )


_SLA = _steps((None, "red"), (95.0, "orange"), (99.0, "light-green"), (99.9, "green"))
_SEVERITY_COLOURS = {"critical": "red", "high": "orange", "medium": "yellow", "low": "blue"}
_BANDS = {"Excellent": "green", "Good": "light-green", "Fair": "orange", "Poor": "red"}


def _coloured(values: dict[str, str]) -> list[Any]:
    options = {
        k: model.ValueMappingResult(color=c, index=i) for i, (k, c) in enumerate(values.items())
    }
    return [model.ValueMap(options=options)]


def _target(variant: str, key: str, expr: str = "", legend: str = "") -> Any:
    if variant == "sql":
        return _Sql(SQL_PANELS[key])
    return prom.Dataquery().expr(expr).legend_format(legend or "__auto").datasource(_PROM_SOURCE)


def _panels(variant: str) -> list[Any]:
    sql = variant == "sql"
    title = {k: p.title for k, p in SQL_PANELS.items()}
    active = (
        table.Panel().title(title["active"]).span(16).height(8)
        .with_target(_target(variant, "active", "sum by (severity, status) (vigil_active_incidents)"))
        .mappings(_coloured(_SEVERITY_COLOURS))
    )  # fmt: skip
    availability = (
        bargauge.Panel().title(title["availability"]).span(8).height(8).unit("percent")
        .min(90).max(100).thresholds(_SLA)
        .with_target(_target(variant, "availability", "vigil_resource_availability_24h_percent", "{{resource}}"))
    )  # fmt: skip
    summary = (
        stat.Panel().title(title["summary"]).span(24).height(4)
        .with_target(_target(variant, "summary", "sum(vigil_active_incidents)", "active"))
    )  # fmt: skip
    response = (
        timeseries.Panel().title(title["response"]).span(12).height(8).unit("s")
        .with_target(_target(variant, "response", "vigil_response_seconds_7d_average", "{{metric}}"))
    )  # fmt: skip
    trend = (
        timeseries.Panel().title(title["availability_trend"]).span(12).height(8).unit("percent")
        .thresholds(_SLA)
        .with_target(_target(variant, "availability_trend", "avg(vigil_resource_availability_24h_percent)", "fleet"))
    )  # fmt: skip
    panels = [active, availability, summary]
    if sql:
        recent = (
            table.Panel().title(title["recent"]).span(24).height(10)
            .with_target(_target(variant, "recent")).mappings(_coloured(_SEVERITY_COLOURS | _BANDS))
        )  # fmt: skip
        panels.append(recent)
    return [*panels, response, trend]


def dashboard_json(variant: str = "sql") -> str:
    """The dashboard as Grafana's JSON model (import it, or provision it from a file)."""
    if variant not in VARIANTS:
        raise ValueError(variant)
    source = "grafana-postgresql-datasource" if variant == "sql" else "prometheus"
    builder = (
        dash.Dashboard("Vigil" if variant == "sql" else "Vigil (Prometheus)")
        .uid("vigil-" + variant).tags(["vigil", "incidents"]).refresh("30s").time("now-24h", "now")
        .timezone("utc").editable()
        .with_variable(dash.DatasourceVariable("datasource").label("Data source").type(source))
    )  # fmt: skip
    for panel in _panels(variant):
        builder = builder.with_panel(panel)
    return json.dumps(builder.build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
