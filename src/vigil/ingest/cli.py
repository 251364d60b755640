"""Ingestion commands: integrations, heartbeats, maintenance windows, events, resources."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from vigil.cli_output import JsonFlag, print_table
from vigil.cli_support import actor, echo_json, get_store, parse_labels
from vigil.formats import duration, instant

integration_app = typer.Typer(
    help="Manage integration keys (ingestion-only credentials).", no_args_is_help=True
)
heartbeat_app = typer.Typer(help="Resources that must check in regularly.", no_args_is_help=True)
maintenance_app = typer.Typer(
    help="Windows in which failures open no incident.", no_args_is_help=True
)
event_app = typer.Typer(
    help="Send events without the server (same rules as the API).", no_args_is_help=True
)


@integration_app.command("add")
def integration_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    kind: Annotated[
        str, typer.Option("--kind", help="events, pagerduty, alertmanager, grafana, heartbeat")
    ] = "events",
) -> None:
    """Create an integration and print its key (only this once)."""
    from vigil.auth import integrations

    with get_store(ctx).write() as session:
        _item, key = integrations.create_integration(session=session, name=name, kind=kind)
    typer.echo(key)
    typer.echo(
        f"integration {name!r} ({kind}) created; store the key now, it is not shown again", err=True
    )


@integration_app.command("list")
def integration_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List integrations (never their keys)."""
    from vigil.auth import integrations
    from vigil.ingest.schemas import IntegrationRead

    with get_store(ctx).read() as session:
        rows = [
            IntegrationRead.model_validate(i)
            for i in integrations.list_integrations(session=session)
        ]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_table(
        ["Name", "Kind", "Key", "Created"],
        [[r.name, r.kind, f"{r.key_prefix}…", instant(r.created_at)] for r in rows],
    )


@integration_app.command("rotate")
def integration_rotate(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Replace an integration's key and print the new one."""
    from vigil.auth import integrations

    with get_store(ctx).write() as session:
        _item, key = integrations.rotate_integration(session=session, name=name)
    typer.echo(key)


@integration_app.command("remove")
def integration_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove an integration; its key stops working."""
    from vigil.auth import integrations

    with get_store(ctx).write() as session:
        integrations.remove_integration(session=session, name=name)
    typer.echo(f"integration {name!r} removed")


@heartbeat_app.command("add")
def heartbeat_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    interval: Annotated[int, typer.Option("--interval", help="Seconds between check-ins.")],
    grace: Annotated[
        int, typer.Option("--grace", help="Extra seconds before it counts as missing.")
    ] = 0,
    resource: Annotated[str | None, typer.Option("--resource", help="Default: the name.")] = None,
    severity: Annotated[str, typer.Option("--severity")] = "high",
) -> None:
    """Expect NAME to check in every --interval seconds."""
    from vigil.ingest import heartbeats

    with get_store(ctx).write() as session:
        heartbeats.create_heartbeat(
            session=session,
            name=name,
            interval_seconds=interval,
            grace_seconds=grace,
            resource=resource,
            severity=severity,
        )
    typer.echo(f"heartbeat {name!r} expects a check-in every {interval}s (+{grace}s grace)")


@heartbeat_app.command("list")
def heartbeat_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List heartbeats and whether each is missing."""
    from vigil.ingest import heartbeats
    from vigil.ingest.schemas import HeartbeatRead

    with get_store(ctx).read() as session:
        rows = [
            HeartbeatRead.model_validate(h) for h in heartbeats.list_heartbeats(session=session)
        ]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_table(
        ["Name", "State", "Every", "Last beat"],
        [
            [
                r.name,
                "MISSING" if r.missing else "ok",
                duration(r.interval_seconds),
                instant(r.last_beat_at) if r.last_beat_at else "never",
            ]
            for r in rows
        ],
    )


@heartbeat_app.command("beat")
def heartbeat_beat(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Check in for NAME."""
    from vigil.ingest import heartbeats

    store = get_store(ctx)
    with store.write() as session:
        outcome = heartbeats.beat(
            session=session, settings=store.settings, name=name, sender=actor()
        )
    typer.echo(outcome.outcome + (f" {outcome.incident_id}" if outcome.incident_id else ""))


@heartbeat_app.command("remove")
def heartbeat_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Stop expecting NAME."""
    from vigil.ingest import heartbeats

    with get_store(ctx).write() as session:
        heartbeats.remove_heartbeat(session=session, name=name)
    typer.echo(f"heartbeat {name!r} removed")


@maintenance_app.command("add")
def maintenance_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    start: Annotated[dt.datetime, typer.Option("--start", help="UTC unless an offset is given.")],
    end: Annotated[dt.datetime, typer.Option("--end")],
    resource: Annotated[str | None, typer.Option("--resource", help="Glob, e.g. 'cam-*'.")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="KEY=VALUE the event must carry.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
) -> None:
    """Record failures matching --resource/--label between --start and --end without opening incidents."""
    from vigil.ingest import maintenance

    with get_store(ctx).write() as session:
        window = maintenance.create_window(
            session=session,
            name=name,
            starts_at=start,
            ends_at=end,
            actor=actor(),
            resource=resource,
            match_labels=parse_labels(label),
            reason=reason,
        )
        typer.echo(f"maintenance window {window.id} created")


@maintenance_app.command("list")
def maintenance_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include ended windows.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List maintenance windows."""
    from vigil.ingest import maintenance
    from vigil.ingest.schemas import MaintenanceRead

    with get_store(ctx).read() as session:
        rows = [
            MaintenanceRead.model_validate(w)
            for w in maintenance.list_windows(session=session, include_past=all_)
        ]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_table(
        ["ID", "Name", "Starts", "Ends", "Covers"],
        [
            [
                r.id,
                r.name,
                instant(r.starts_at),
                instant(r.ends_at),
                " ".join(
                    [*([f"resource {r.resource}"] if r.resource else []),
                     *(f"{k}={v}" for k, v in (r.match_labels or {}).items())]
                ) or "everything",
            ]
            for r in rows
        ],
    )  # fmt: skip


@maintenance_app.command("remove")
def maintenance_remove(ctx: typer.Context, window_id: Annotated[int, typer.Argument()]) -> None:
    """Delete a maintenance window."""
    from vigil.ingest import maintenance

    with get_store(ctx).write() as session:
        maintenance.delete_window(session=session, window_id=window_id)
    typer.echo(f"maintenance window {window_id} removed")


@event_app.command("send")
def event_send(
    ctx: typer.Context,
    resource: Annotated[str, typer.Argument()],
    status: Annotated[str, typer.Argument(help="e.g. active, stuck, stopped")],
    component: Annotated[str, typer.Option("--component", "-c")] = "",
    host: Annotated[str | None, typer.Option("--host")] = None,
    summary: Annotated[str, typer.Option("--summary")] = "",
    severity: Annotated[str | None, typer.Option("--severity")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record one status event (host-side detection) straight into the database."""
    from vigil.ingest.receivers import events_to_signals
    from vigil.ingest.service import ingest_signals

    store = get_store(ctx)
    body = {
        "resource": resource,
        "status": status,
        "component": component,
        "host": host,
        "summary": summary,
        "severity": severity,
    }
    signals = events_to_signals(store.settings, body, sender=actor())
    with store.write() as session:
        (outcome,) = ingest_signals(session=session, settings=store.settings, signals=signals)
    if as_json:
        echo_json({"outcome": outcome.outcome, "incident_id": outcome.incident_id})
    else:
        typer.echo(outcome.outcome + (f" {outcome.incident_id}" if outcome.incident_id else ""))


def resources(
    ctx: typer.Context,
    failing: Annotated[bool, typer.Option("--failing", help="Only what is failing now.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show the current status of every resource/component."""
    from vigil.ingest.resources import list_states

    with get_store(ctx).read() as session:
        rows = list_states(session=session, failing_only=failing)
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_table(
        ["Resource", "Component", "Status", "Since", "Last seen"],
        [
            [r.resource, r.component or "-", r.status, instant(r.since), instant(r.last_seen_at)]
            for r in rows
        ],
    )


def register(app: typer.Typer) -> None:
    """Mount the ingestion commands on the root app."""
    app.add_typer(integration_app, name="integration")
    app.add_typer(heartbeat_app, name="heartbeat")
    app.add_typer(maintenance_app, name="maintenance")
    app.add_typer(event_app, name="event")
    app.command()(resources)
