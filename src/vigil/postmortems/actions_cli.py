"""``vigil actions`` and ``vigil calendar``: action items across incidents, the iCalendar feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli_output import JsonFlag, print_table
from vigil.cli_support import echo_json, fail, get_store

actions_app = typer.Typer(help="Action items across incidents.", no_args_is_help=True)
calendar_app = typer.Typer(help="The iCalendar feed.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="Incident ID or UUID.")]


@actions_app.command("add")
def actions_add(
    ctx: typer.Context,
    ref: Ref,
    title: Annotated[str, typer.Argument()],
    type_: Annotated[str, typer.Option("--type")] = "other",
    priority: Annotated[str, typer.Option("--priority")] = "medium",
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    team: Annotated[str | None, typer.Option("--team")] = None,
    due: Annotated[dt.datetime | None, typer.Option("--due", formats=["%Y-%m-%d"])] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Add an action item to an incident."""
    from vigil.postmortems import actions
    from vigil.postmortems.schemas import ActionItemCreate

    data = ActionItemCreate(
        title=title,
        description=description,
        type=type_,
        priority=priority,
        owner=owner,
        team=team,
        due_date=due.date() if due else None,
    )
    with get_store(ctx).write() as session:
        item = actions.create_action(session=session, ref=ref, data=data)
        typer.echo(f"{ref}/AI-{item.number:03d}")
    if due and due.date() < dt.date.today():
        typer.echo(f"warning: the due date {due:%Y-%m-%d} is already past; it shows as overdue",
                   err=True)  # fmt: skip


@actions_app.command("list")
def actions_list(
    ctx: typer.Context,
    status: Annotated[list[str] | None, typer.Option("--status")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    incident: Annotated[str | None, typer.Option("--incident")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Past due and not done.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List action items across incidents, soonest due first."""
    from vigil.postmortems import actions

    with get_store(ctx).read() as session:
        rows = actions.list_actions(
            session=session, status=status, owner=owner, incident_ref=incident, overdue=overdue
        )
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_table(
        ["Action", "Status", "Priority", "Owner", "Due", "Title"],
        [
            [
                r.ref,
                r.status,
                r.priority,
                r.owner or "-",
                f"{r.due_date} OVERDUE" if r.overdue else str(r.due_date or "-"),
                r.title,
            ]
            for r in rows
        ],
    )


@actions_app.command("update")
def actions_update(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="INC_001/AI-001, or AI-001 with --incident")],
    incident: Annotated[str | None, typer.Option("--incident")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    due: Annotated[dt.datetime | None, typer.Option("--due", formats=["%Y-%m-%d"])] = None,
    priority: Annotated[str | None, typer.Option("--priority")] = None,
) -> None:
    """Change an action item (status open, in_progress, completed, cancelled)."""
    from vigil.postmortems import actions
    from vigil.postmortems.schemas import ActionItemUpdate

    given = {
        "status": status,
        "owner": owner,
        "priority": priority,
        "due_date": due.date() if due else None,
    }
    data = ActionItemUpdate(**{k: v for k, v in given.items() if v is not None})
    with get_store(ctx).write() as session:
        item, inc = actions.update_action(
            session=session, ref=ref, data=data, incident_ref=incident
        )
        typer.echo(f"{inc.human_id}/AI-{item.number:03d}: {item.status}")


@actions_app.command("stats")
def actions_stats(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="owner or team")] = "owner",
    as_json: JsonFlag = False,
) -> None:
    """Completion rate per owner or team."""
    from vigil.postmortems import actions

    with get_store(ctx).read() as session:
        rates = actions.completion_rates(session=session, by=by)
    if as_json:
        echo_json(rates)
        return
    print_table(
        [by.capitalize(), "Total", "Completed", "Cancelled", "Open", "Overdue", "Completion"],
        [
            [
                r[by],
                r["total"],
                r["completed"],
                r["cancelled"],
                r["open"],
                r["overdue"],
                "-" if r["completion_rate"] is None else f"{r['completion_rate']:g}%",
            ]
            for r in rates
        ],
    )


@actions_app.command("export-github")
def actions_export_github(
    ctx: typer.Context,
    repo: Annotated[
        str | None, typer.Option("--repo", help="owner/name (default VIGIL_GITHUB_REPO).")
    ] = None,
    incident: Annotated[str | None, typer.Option("--incident")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the gh commands instead.")
    ] = False,
) -> None:
    """Create a GitHub issue per open action item not exported yet; re-runs skip exported ones."""
    from vigil.postmortems.github import export_to_github

    store = get_store(ctx)
    settings = store.settings
    target = repo or settings.github_repo
    if not target:
        fail("give --repo owner/name or set VIGIL_GITHUB_REPO", 2)
    with store.write() as session:
        results = export_to_github(
            session=session,
            repo=str(target),
            api_url=settings.github_api_url,
            token=settings.github_token,
            dry_run=dry_run,
            incident_ref=incident,
        )
    if dry_run:
        for r in results:
            typer.echo(r.command)
    elif results:
        print_table(["Action", "Issue"], [[r.ref, r.url or r.error] for r in results])
    if results and results[-1].error:
        fail(results[-1].error)
    if not results:
        typer.echo("nothing to export", err=True)


@calendar_app.command("export")
def calendar_export(
    ctx: typer.Context, output: Annotated[Path | None, typer.Option("--output", "-o")] = None
) -> None:
    """Write the iCalendar feed (action item due dates, postmortem reviews)."""
    from vigil.postmortems.calendar import calendar_feed

    with get_store(ctx).read() as session:
        data = calendar_feed(session=session)
    if output:
        output.write_bytes(data)
    else:
        typer.echo(data.decode(), nl=False)
