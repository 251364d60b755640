"""Incident commands: declare, list, show, ack, update, note, resolve, close, reopen."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli_output import JsonFlag, print_fields, print_table
from vigil.cli_support import actor, echo_json, get_store, parse_labels, parse_time
from vigil.formats import instant

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from vigil.incidents.models import Incident
    from vigil.incidents.schemas import IncidentRead

Label = Annotated[list[str] | None, typer.Option("--label", "-l", help="KEY=VALUE, repeatable.")]


def _show(read: IncidentRead, as_json: bool) -> None:
    if as_json:
        echo_json(read.model_dump(mode="json"))
        return
    print_fields(read.model_dump().items())


def declare(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Short headline.")],
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    severity: Annotated[
        str | None, typer.Option("--severity", "-s", help="critical|high|medium|low")
    ] = None,
    category: Annotated[str, typer.Option("--category", "-c")] = "OTHER",
    project: Annotated[str | None, typer.Option("--project")] = None,
    order: Annotated[str | None, typer.Option("--order")] = None,
    task: Annotated[str | None, typer.Option("--task")] = None,
    service_name: Annotated[str | None, typer.Option("--service")] = None,
    resource: Annotated[str | None, typer.Option("--resource")] = None,
    component: Annotated[str | None, typer.Option("--component")] = None,
    host: Annotated[str | None, typer.Option("--host")] = None,
    affected: Annotated[list[str] | None, typer.Option("--affected", help="Repeatable.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeatable.")] = None,
    label: Label = None,
    as_json: JsonFlag = False,
) -> None:
    """Declare a new incident and print its ID."""
    from vigil.incidents import service
    from vigil.incidents.schemas import IncidentCreate, IncidentRead

    data = IncidentCreate(
        title=title,
        description=description,
        severity=severity,
        category=category,
        project_id=project,
        order_id=order,
        task_id=task,
        service=service_name,
        resource=resource,
        component=component,
        host=host,
        affected_records=affected or [],
        tags=tag or [],
        labels=parse_labels(label) or {},
    )
    store = get_store(ctx)
    with store.write() as session:
        human_id = service.create_incident(
            session=session, settings=store.settings, data=data, actor=actor(), source="cli"
        )
        read = IncidentRead.from_incident(service.get_incident(session=session, ref=human_id))
    if as_json:
        echo_json(read.model_dump(mode="json"))
    else:
        typer.echo(human_id)


def list_(
    ctx: typer.Context,
    status: Annotated[list[str] | None, typer.Option("--status", help="Repeatable.")] = None,
    severity: Annotated[list[str] | None, typer.Option("--severity", help="Repeatable.")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="Repeatable.")] = None,
    project: Annotated[str | None, typer.Option("--project")] = None,
    service_name: Annotated[str | None, typer.Option("--service")] = None,
    resource: Annotated[str | None, typer.Option("--resource")] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="Handle of the person assigned.")
    ] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            "--since",
            parser=parse_time,
            metavar="TIME",
            help="ISO 8601 (UTC unless an offset is given), or yesterday, 2h ago, -7d.",
        ),
    ] = None,
    until: Annotated[
        dt.datetime | None, typer.Option("--until", parser=parse_time, metavar="TIME")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Text in ID/title/description.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="From a previous --json page.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List incidents, newest first."""
    from vigil.incidents import service
    from vigil.incidents.schemas import IncidentFilter, IncidentRead

    filters = IncidentFilter(
        status=status,
        severity=severity,
        category=category,
        project_id=project,
        service=service_name,
        resource=resource,
        assignee=assignee,
        since=since,
        until=until,
        q=search,
    )
    store = get_store(ctx)
    with store.read() as session:
        rows, next_cursor = service.list_incidents(
            session=session, settings=store.settings, filters=filters, limit=limit, cursor=cursor
        )
        items = [IncidentRead.from_incident(i) for i in rows]
    if as_json:
        echo_json({"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor})
        return
    print_table(
        ["ID", "Severity", "Status", "Category", "Detected", "Title"],
        [[i.id, i.severity, i.status, i.category, instant(i.detected_at), i.title] for i in items],
    )
    if next_cursor:
        typer.echo(f"more: --cursor {next_cursor}", err=True)


#: Other domains add what they know about an incident to `vigil show` (notifications, ...):
#: each returns (title, column names, rows) for a table, read in the show's transaction.
SHOW_SECTIONS: list[Callable[[Session, Incident], tuple[str, list[str], list[list[str]]]]] = []


def _with_changes(message: str, changes: dict[str, object]) -> str:
    """The entry's message and each changed field as old → new (what the timeline stores)."""
    parts = []
    for name, change in changes.items():
        if isinstance(change, dict) and ("from" in change or "to" in change):
            old, new = change.get("from"), change.get("to")
            parts.append(f"{name}: {'—' if old is None else old} → {'—' if new is None else new}")
    return message + ("\n" + "; ".join(parts) if parts else "")


def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Incident ID or UUID.")],
    as_json: JsonFlag = False,
) -> None:
    """Show an incident and its timeline."""
    from vigil.analytics import fingerprint_recurrence
    from vigil.incidents import service
    from vigil.incidents.schemas import IncidentRead, TimelineEntryRead

    with get_store(ctx).read() as session:
        incident = service.get_incident(session=session, ref=ref)
        read = IncidentRead.from_incident(incident)
        read.recurrence = fingerprint_recurrence(session=session, incident=incident)
        entries = [
            TimelineEntryRead.model_validate(e)
            for e in service.list_timeline(session=session, ref=ref)
        ]
        sections = [section(session, incident) for section in SHOW_SECTIONS]
    if as_json:
        echo_json(
            {
                **read.model_dump(mode="json"),
                "timeline": [e.model_dump(mode="json") for e in entries],
                **{
                    title.lower(): [dict(zip(columns, row, strict=True)) for row in rows]
                    for title, columns, rows in sections
                },
            }
        )
        return
    _show(read, False)
    typer.echo()
    print_table(
        ["When", "Who", "What"],
        [
            [instant(e.at, seconds=True), e.actor, _with_changes(e.message, e.changes)]
            for e in entries
        ],
        title="Timeline",
    )
    for title, columns, rows in sections:
        if rows:
            typer.echo()
            print_table(columns, rows, title=title)


def _transition(
    ctx: typer.Context,
    ref: str,
    target: str,
    note: str | None,
    at: dt.datetime | None = None,
    **extra: Any,
) -> None:
    from vigil.incidents import service

    with get_store(ctx).write() as session:
        incident = service.transition_incident(
            session=session, ref=ref, target=target, actor=actor(), note=note, happened_at=at,
            **extra,
        )  # fmt: skip
        typer.echo(f"{incident.human_id}: {incident.status}")


Note = Annotated[str | None, typer.Option("--note", "-m", help="Why; goes on the timeline.")]
Ref = Annotated[str, typer.Argument(help="Incident ID or UUID.")]
At = Annotated[
    dt.datetime | None,
    typer.Option(
        "--at", parser=parse_time, metavar="TIME",
        help="When it happened, if not now (a move made outside Vigil; marked as backfilled).",
    ),
]  # fmt: skip


def ack(ctx: typer.Context, ref: Ref, note: Note = None, at: At = None) -> None:
    """Acknowledge an incident."""
    _transition(ctx, ref, "acknowledged", note, at)


def investigate(ctx: typer.Context, ref: Ref, note: Note = None) -> None:
    """Mark an incident as under investigation."""
    _transition(ctx, ref, "investigating", note)


def resolve(
    ctx: typer.Context,
    ref: Ref,
    note: Note = None,
    resolution: Annotated[str | None, typer.Option("--resolution", "-r")] = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause")] = None,
    at: At = None,
) -> None:
    """Resolve an incident."""
    _transition(ctx, ref, "resolved", note, at, resolution=resolution, root_cause=root_cause)


def close(ctx: typer.Context, ref: Ref, note: Note = None, at: At = None) -> None:
    """Close a resolved incident."""
    _transition(ctx, ref, "closed", note, at)


def reopen(ctx: typer.Context, ref: Ref, note: Note = None) -> None:
    """Reopen a resolved or closed incident."""
    _transition(ctx, ref, "open", note)


def note(
    ctx: typer.Context, ref: Ref, text: Annotated[str, typer.Argument(help="The note.")]
) -> None:
    """Add a note to an incident's timeline."""
    from vigil.incidents import service

    with get_store(ctx).write() as session:
        service.add_note(session=session, ref=ref, text=text, actor=actor())
    typer.echo(f"{ref}: note added")


def update(
    ctx: typer.Context,
    ref: Ref,
    title: Annotated[str | None, typer.Option("--title")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    severity: Annotated[str | None, typer.Option("--severity", "-s")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    project: Annotated[str | None, typer.Option("--project")] = None,
    service_name: Annotated[str | None, typer.Option("--service")] = None,
    resource: Annotated[str | None, typer.Option("--resource")] = None,
    component: Annotated[str | None, typer.Option("--component")] = None,
    host: Annotated[str | None, typer.Option("--host")] = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause")] = None,
    resolution: Annotated[str | None, typer.Option("--resolution")] = None,
    affected: Annotated[
        list[str] | None, typer.Option("--affected", help="Replaces the list.")
    ] = None,
    label: Label = None,
) -> None:
    """Edit fields of an incident."""
    from vigil.incidents import service
    from vigil.incidents.schemas import IncidentUpdate

    given = {
        "title": title,
        "description": description,
        "severity": severity,
        "category": category,
        "project_id": project,
        "service": service_name,
        "resource": resource,
        "component": component,
        "host": host,
        "root_cause": root_cause,
        "resolution": resolution,
        "affected_records": affected,
        "labels": parse_labels(label),
    }
    data = IncidentUpdate(**{k: v for k, v in given.items() if v is not None})
    store = get_store(ctx)
    with store.write() as session:
        incident = service.update_incident(
            session=session, settings=store.settings, ref=ref, data=data, actor=actor()
        )
        typer.echo(f"{incident.human_id}: updated")


def register(app: typer.Typer) -> None:
    """Mount the incident commands on the root app."""
    app.command()(declare)
    app.command("list")(list_)
    for fn in (show, ack, investigate, update, note, resolve, close, reopen):
        app.command()(fn)
