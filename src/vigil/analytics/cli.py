"""Analytics commands: summary and recurrence."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from vigil.cli_output import JsonFlag
from vigil.cli_support import echo_json, get_store, parse_time


def summary(
    ctx: typer.Context,
    start: Annotated[
        dt.datetime | None,
        typer.Option(
            "--start",
            parser=parse_time,
            metavar="TIME",
            help="ISO 8601 (UTC unless an offset is given), or yesterday, 2h ago, -7d.",
        ),
    ] = None,
    end: Annotated[
        dt.datetime | None, typer.Option("--end", parser=parse_time, metavar="TIME")
    ] = None,
    project: Annotated[str | None, typer.Option("--project")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Count incidents in a window by category and severity."""
    from vigil.analytics.service import incidents_summary

    with get_store(ctx).read() as session:
        result = incidents_summary(session=session, start=start, end=end, project_id=project)
    if as_json:
        echo_json(result.model_dump(mode="json"))
        return
    from vigil.cli_output import print_table
    from vigil.formats import instant

    typer.echo(f"Total incidents: {result.total}")
    for title, counts in (("Category", result.by_category), ("Severity", result.by_severity)):
        typer.echo()
        print_table([title, "Count"], [[key, n] for key, n in counts.items()])
    typer.echo()
    print_table(
        ["ID", "Severity", "Detected", "Title"],
        [[i.id, i.severity, instant(i.detected_at), i.title] for i in result.recent_high],
        title=f"Recent high/critical ({len(result.recent_high)})",
    )


def recurrence(
    ctx: typer.Context,
    category: Annotated[str, typer.Argument(help="Incident category, e.g. WORKER_FAILURE.")],
    days: Annotated[int, typer.Option("--days")] = 30,
    project: Annotated[str | None, typer.Option("--project")] = None,
    resource: Annotated[str | None, typer.Option("--resource", help="Only this resource.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show how often a category recurs and its trend (Mann-Kendall test)."""
    from vigil.analytics.service import recurrence_rate
    from vigil.formats import figure

    store = get_store(ctx)
    with store.read() as session:
        result = recurrence_rate(
            session=session,
            settings=store.settings,
            category=category,
            days=days,
            project_id=project,
            resource=resource,
        )
    if as_json:
        echo_json(result.model_dump(mode="json"))
        return
    typer.echo(f"Total incidents: {result.total_incidents} in {days} days")
    typer.echo(f"Recurrence rate: {figure(result.recurrence_rate)} per day")
    typer.echo(
        f"Trend: {result.trend} (Mann-Kendall S={result.mann_kendall_s}, "
        f"p={figure(result.p_value)})"
    )


def prune(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; change nothing.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Prune the event log and the state history past their retention
    (VIGIL_EVENT_RETENTION_DAYS, VIGIL_STATE_HISTORY_RETENTION_DAYS); incidents, timelines,
    postmortems and the stored availability are never pruned."""
    from vigil.analytics.retention import prune_in_batches
    from vigil.cli_output import print_table
    from vigil.formats import instant
    from vigil.validation import rfc3339

    done = prune_in_batches(store=get_store(ctx), dry_run=dry_run, batch=50_000)
    if as_json:
        echo_json(
            [
                {"log": p.log, "cut": p.cut and rfc3339(p.cut), "rows": p.rows, "dry_run": dry_run}
                for p in done
            ]
        )
        return
    print_table(
        ["Log", "Older than", "Rows " + ("that would go" if dry_run else "pruned")],
        [[p.log, instant(p.cut) if p.cut else "kept forever", p.rows] for p in done],
    )


def register(app: typer.Typer, db_app: typer.Typer | None = None) -> None:
    """Mount the analytics commands on the root app (and ``vigil db prune``)."""
    app.command()(summary)
    app.command()(recurrence)
    if db_app is not None:
        db_app.command("prune")(prune)
