"""``vigil channel`` and ``vigil notify``: destinations, routes and the delivery log."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli_output import JsonFlag, print_table
from vigil.cli_support import echo_json, get_settings, get_store, parse_labels

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vigil.incidents import Incident

__all__ = ["channel_app", "notify_app", "register"]

channel_app = typer.Typer(
    help="Notification channels and their routing rules.", no_args_is_help=True
)
notify_app = typer.Typer(help="The notification log and the secret key.", no_args_is_help=True)

_LIST = typer.Option(help="Repeatable.")


@channel_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name, e.g. ops-email.")],
    url: Annotated[
        str,
        typer.Argument(
            help="An apprise URL (mailto://, slack://, msteams://, mmost://, tgram://, ntfy://, "
            "...), or with --webhook an http(s) URL that receives signed JSON. `-` reads it "
            "from standard input, keeping its token out of shell history and process lists."
        ),
    ],
    webhook: Annotated[
        bool, typer.Option("--webhook", help="A signed JSON webhook (prints its secret once).")
    ] = False,
    default: Annotated[
        bool,
        typer.Option(
            "--default", help="Route opened, severity raised, resolved, reopened of high+ here."
        ),
    ] = False,
    rate: Annotated[
        int | None, typer.Option("--rate", help="Messages per minute (0: no limit).")
    ] = None,
    bundle_after: Annotated[
        int | None,
        typer.Option("--bundle-after", help="More than this many due at once: one digest."),
    ] = None,
) -> None:
    """Add a channel (its URL is stored encrypted and never shown again)."""
    from vigil.notify import service

    if url == "-":
        url = sys.stdin.readline().strip()
    with get_store(ctx).write() as session:
        made = service.add_channel(
            session=session,
            settings=get_settings(ctx),
            name=name,
            url=url,
            kind="webhook" if webhook else "apprise",
            default_route=default,
            rate_per_minute=rate,
            bundle_after=bundle_after,
        )
        display = made.channel.display
    typer.echo(f"channel {name!r} added: {display}")
    if made.signing_secret:
        typer.echo(made.signing_secret)
        typer.echo("that is the signing secret; store it now, it is not shown again", err=True)


@channel_app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List channels (secrets masked) and their routes."""
    from vigil.notify import service
    from vigil.notify.schemas import ChannelRead

    with get_store(ctx).read() as session:
        channels = [ChannelRead.model_validate(c) for c in service.list_channels(session=session)]
        routes = service.list_routes(session=session)
    if as_json:
        echo_json([c.model_dump(mode="json") for c in channels])
        return
    if not channels:
        typer.echo("no channels: add one with `vigil channel add NAME URL --default`")
        return
    print_table(
        ["Channel", "Kind", "Destination", "Rate limit", "Digests"],
        [
            [
                c.name,
                c.kind,
                c.display,
                f"{c.rate_per_minute}/min" if c.rate_per_minute else "none",
                f"over {c.bundle_after}" if c.bundle_after else "none",
            ]
            for c in channels
        ],
    )
    print_table(
        ["Route", "Channel", "Events", "Severity", "Filters"],
        [
            [r.id, owner, ",".join(r.events), r.min_severity or "any", _filters(r)]
            for r, owner in routes
        ],
        title="Routes",
    )


def _filters(route: Any) -> str:
    """A route's filters in words ("-" when it takes every incident)."""
    parts = [
        f"{name}={','.join(values)}"
        for name, values in (
            ("services", route.services),
            ("categories", route.categories),
            ("resources", route.resources),
            ("sources", route.sources),
        )
        if values
    ]
    parts += [f"label {k}={v}" for k, v in route.labels.items()]
    return " ".join(parts) or "-"


@channel_app.command("test")
def test(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Send a test message now and print what the destination answered."""
    from vigil.notify.deliverer import send_test

    answer = send_test(get_store(ctx), name)
    typer.echo(f"{'delivered' if answer.ok else 'not delivered'}: {answer.detail}")
    if not answer.ok:
        raise typer.Exit(1)


@channel_app.command("remove")
def remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a channel and its routes (its delivery log stays)."""
    from vigil.notify import service

    with get_store(ctx).write() as session:
        service.remove_channel(session=session, name=name)
    typer.echo(f"channel {name!r} removed")


@channel_app.command("route")
def route(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The channel.")],
    on: Annotated[
        list[str] | None,
        typer.Option(
            "--on",
            help="Event, repeatable: opened, severity_raised, acknowledged, status_changed, "
            "resolved, closed, reopened, note_added, postmortem_published, action_due_soon, "
            "action_overdue.",
        ),
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--min-severity", help="critical, high, medium or low.")
    ] = "high",
    service_: Annotated[list[str] | None, typer.Option("--service", help="Repeatable.")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="Repeatable.")] = None,
    resource: Annotated[
        list[str] | None, typer.Option("--resource", help="Pattern such as cam-*; repeatable.")
    ] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Repeatable.")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="KEY=VALUE; repeatable.")
    ] = None,
) -> None:
    """Route incident changes to a channel (all the filters given must hold)."""
    from vigil.notify import service
    from vigil.notify.rules import DEFAULT_EVENTS

    spec = service.RouteSpec(
        events=on or DEFAULT_EVENTS,
        min_severity=None if (severity or "").lower() in ("", "any") else severity,
        services=service_ or (),
        categories=category or (),
        resources=resource or (),
        sources=source or (),
        labels=parse_labels(label),
    )
    with get_store(ctx).write() as session:
        made = service.add_route(session=session, channel=name, spec=spec)
        typer.echo(f"route {made.id} added to {name!r}: {', '.join(made.events)}")


@channel_app.command("unroute")
def unroute(ctx: typer.Context, route_id: Annotated[int, typer.Argument()]) -> None:
    """Remove a route by its number (see `vigil channel list`)."""
    from vigil.notify import service

    with get_store(ctx).write() as session:
        service.remove_route(session=session, route_id=route_id)
    typer.echo(f"route {route_id} removed")


@notify_app.command("log")
def log(
    ctx: typer.Context,
    incident: Annotated[str | None, typer.Option("--incident", help="An incident ID.")] = None,
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    state: Annotated[
        str | None,
        typer.Option("--state", help="pending, sending, sent, failed, bundled or silenced."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Recent notifications: channel, incident, event, state, attempts, the answer."""
    from vigil.notify import service

    with get_store(ctx).read() as session:
        rows = service.list_notifications(
            session=session, incident=incident, channel=channel, state=state, limit=limit
        )
        reads = service.notification_reads(session=session, rows=rows)
    if as_json:
        echo_json([r.model_dump(mode="json") for r in reads])
        return
    from vigil.formats import instant

    print_table(
        ["When", "Channel", "Incident", "Event", "State", "Attempts", "Answer"],
        [
            [
                instant(r.sent_at or r.created_at),
                r.channel,
                r.incident or "-",
                r.event,
                r.state,
                r.attempts,
                r.answer or "-",
            ]
            for r in reads
        ],
    )


@notify_app.command("new-key")
def new_key() -> None:
    """Print a fresh key for VIGIL_SECRET_KEY (keep it; stored secrets need it)."""
    from vigil.crypto import new_key as make

    typer.echo(make())


def _notifications_section(
    session: Session, incident: Incident
) -> tuple[str, list[str], list[list[str]]]:
    from vigil.notify import service

    rows = service.list_notifications(session=session, incident=incident.human_id, limit=200)
    return (
        "Notifications",
        ["when", "channel", "event", "state", "attempts", "answer"],
        [
            [
                f"{(n.sent_at or n.created_at):%Y-%m-%d %H:%M:%S}",
                n.channel_name,
                n.event,
                n.state,
                str(n.attempts),
                n.answer,
            ]
            for n, _ref in reversed(rows)
        ],
    )


def register(root: typer.Typer) -> None:
    """Mount `vigil channel` and `vigil notify`; add notifications to `vigil show`."""
    from vigil.incidents import cli as incidents_cli

    root.add_typer(channel_app, name="channel")
    root.add_typer(notify_app, name="notify")
    incidents_cli.SHOW_SECTIONS.append(_notifications_section)
