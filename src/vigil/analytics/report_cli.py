"""``vigil report``: availability, response, summary, recurrence, reliability, dashboard, weekly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli_output import JsonFlag
from vigil.cli_support import get_store, parse_time

if TYPE_CHECKING:
    from vigil.db import Store

app = typer.Typer(help="Reliability reports (table, json, csv or markdown).", no_args_is_help=True)

Window = Annotated[str, typer.Option("--window", "-w", help="24h, 7d, 30d, … back from now.")]
Start = Annotated[
    dt.datetime | None,
    typer.Option(
        "--start",
        parser=parse_time,
        metavar="TIME",
        help="Explicit start: ISO 8601 (UTC unless an offset is given), or yesterday, 2h ago, -7d.",
    ),
]
End = Annotated[
    dt.datetime | None,
    typer.Option("--end", parser=parse_time, metavar="TIME", help="Explicit end (default now)."),
]
Format = Annotated[str, typer.Option("--format", "-f", help="table, json, csv or markdown.")]
Service = Annotated[str | None, typer.Option("--service")]


def _refreshed(ctx: typer.Context) -> Store:
    """The store, with the down intervals brought up to date (in short write transactions)."""
    from vigil.analytics.downtime import refresh_in_steps

    store = get_store(ctx)
    refresh_in_steps(store=store)
    return store


def _emit(rows: Sequence[Any], fmt: str, columns: Sequence[str] | None = None) -> None:
    from vigil.analytics.reports import flatten, render

    if fmt != "table":
        typer.echo(render(rows, fmt, columns), nl=False)
        return
    from vigil.cli_output import print_table
    from vigil.formats import label, report_cell

    flat = [flatten(r) for r in rows]
    cols = list(columns or (flat[0].keys() if flat else []))
    print_table([label(c) for c in cols], [[report_cell(c, f.get(c)) for c in cols] for f in flat])


@app.command()
def availability(
    ctx: typer.Context,
    window: Window = "7d",
    start: Start = None,
    end: End = None,
    target: Annotated[float, typer.Option("--target", help="SLA target percent.")] = 99.0,
    resource: Annotated[list[str] | None, typer.Option("--resource", help="Repeatable.")] = None,
    count_maintenance: Annotated[
        bool,
        typer.Option(
            "--count-maintenance",
            help="Count planned maintenance in the SLA (left out and shown apart by default).",
        ),
    ] = False,
    fmt: Format = "table",
) -> None:
    """Availability, downtime, SLA band and error budget per resource."""
    from vigil.analytics.availability import availability_by_resource
    from vigil.analytics.reports import window_bounds

    lo, hi = window_bounds(window, start, end)
    with _refreshed(ctx).read() as session:
        rows = availability_by_resource(
            session=session,
            start=lo,
            end=hi,
            target_percent=target,
            resources=resource,
            exclude_maintenance=not count_maintenance,
        )
    _emit(
        rows,
        fmt,
        None
        if fmt == "json"
        else [
            "resource",
            "availability_percent",
            "sla_band",
            "downtime_seconds",
            "maintenance_seconds",
            "unknown_seconds",
            "error_budget_remaining_seconds",
            "failures",
            "mtbf_seconds",
        ],
    )


@app.command()
def response(
    ctx: typer.Context,
    window: Window = "7d",
    start: Start = None,
    end: End = None,
    group_by: Annotated[
        str,
        typer.Option(
            "--group-by",
            help="service, resource, component, category, severity, project, assignee or all.",
        ),
    ] = "all",
    service: Service = None,
    project: Annotated[str | None, typer.Option("--project")] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="Only incidents assigned to this handle.")
    ] = None,
    fmt: Format = "table",
) -> None:
    """MTTA, MTTR and time to close (count, mean, median, p90, max)."""
    from vigil.analytics.reports import window_bounds
    from vigil.analytics.response import response_metrics

    lo, hi = window_bounds(window, start, end)
    with get_store(ctx).read() as session:
        rows = response_metrics(
            session=session,
            start=lo,
            end=hi,
            group_by=group_by,
            project_id=project,
            service=service,
            assignee=assignee,
        )
    narrow = [
        "group",
        "incidents",
        "mtta_median",
        "mtta_pending",
        "mttr_mean",
        "mttr_median",
        "mttr_p90",
        "mttr_max",
        "mttr_pending",
    ]
    _emit(rows, fmt, narrow if fmt == "table" else None)


@app.command()
def summary(
    ctx: typer.Context,
    window: Window = "7d",
    start: Start = None,
    end: End = None,
    project: Annotated[str | None, typer.Option("--project")] = None,
    fmt: Format = "table",
) -> None:
    """Incident counts by category and severity."""
    from pydantic import BaseModel

    from vigil.analytics.reports import window_bounds
    from vigil.analytics.service import incidents_summary

    lo, hi = window_bounds(window, start, end)
    with get_store(ctx).read() as session:
        result = incidents_summary(session=session, start=lo, end=hi, project_id=project)

    class Row(BaseModel):
        dimension: str
        value: str
        count: int

    rows = [Row(dimension="category", value=k, count=v) for k, v in result.by_category.items()]
    rows += [Row(dimension="severity", value=k, count=v) for k, v in result.by_severity.items()]
    rows.append(Row(dimension="total", value="", count=result.total))
    _emit(rows, fmt)


@app.command()
def recurrence(
    ctx: typer.Context,
    window: Window = "90d",
    start: Start = None,
    end: End = None,
    minimum: Annotated[int, typer.Option("--min", help="Fewest incidents to report.")] = 2,
    fmt: Format = "table",
) -> None:
    """Incidents recurring with the same resource, component and category (and similar root causes)."""
    from vigil.analytics.panels import recurring_incidents
    from vigil.analytics.reports import window_bounds

    lo, hi = window_bounds(window, start, end)
    with get_store(ctx).read() as session:
        rows = recurring_incidents(session=session, start=lo, end=hi, minimum=minimum)
    _emit(rows, fmt)


@app.command()
def reliability(
    ctx: typer.Context,
    window: Window = "30d",
    start: Start = None,
    end: End = None,
    fmt: Format = "table",
) -> None:
    """Resources from most to least reliable (availability, incidents, MTBF)."""
    from vigil.analytics.panels import reliability_ranking
    from vigil.analytics.reports import window_bounds

    lo, hi = window_bounds(window, start, end)
    with _refreshed(ctx).read() as session:
        rows = reliability_ranking(session=session, start=lo, end=hi)
    _emit(rows, fmt)


@app.command()
def dashboard(
    ctx: typer.Context,
    window: Window = "24h",
    as_json: JsonFlag = False,
) -> None:
    """The four dashboard panels: active now, availability, summary stats, recent history."""
    from vigil.analytics.panels import dashboard_panels
    from vigil.analytics.reports import parse_window
    from vigil.formats import duration

    with _refreshed(ctx).read() as session:
        panels = dashboard_panels(session=session, window=parse_window(window))
    if as_json:
        typer.echo(panels.model_dump_json(indent=2))
        return
    typer.echo(f"Active incidents: {panels.summary.active}")
    _emit(panels.active, "table")
    typer.echo(f"Availability ({window}):")
    _emit(
        panels.availability,
        "table",
        ["resource", "availability_percent", "sla_band", "downtime_seconds"],
    )
    s = panels.summary
    typer.echo(
        f"Summary: {s.active} active, {s.last_24h} in 24h, {s.last_7d} in 7d, "
        f"{s.critical_24h} critical in 24h, average resolution (7d): "
        f"{duration(s.average_resolution_seconds_7d)}"
    )
    typer.echo("Recent:")
    _emit(panels.recent, "table")


@app.command()
def weekly(ctx: typer.Context, target: Annotated[float, typer.Option("--target")] = 99.0) -> None:
    """A one-page Markdown reliability report for the last 7 days."""
    from vigil.analytics.reports import weekly_report

    with _refreshed(ctx).read() as session:
        typer.echo(weekly_report(session=session, target_percent=target), nl=False)
