"""Postmortem commands: postmortem, whys, timeline, actions, calendar, report learning."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli_output import JsonFlag, print_fields, print_records
from vigil.cli_support import actor, echo_json, fail, get_store, parse_time
from vigil.postmortems import actions_cli

if TYPE_CHECKING:
    from vigil.postmortems.schemas import TimelineItemCreate

postmortem_app = typer.Typer(help="Postmortems: scaffold, edit, render.", no_args_is_help=True)
whys_app = typer.Typer(help="The five whys facilitator.", no_args_is_help=True)
timeline_app = typer.Typer(help="Reconstruct a postmortem timeline.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="Incident ID or UUID.")]


@postmortem_app.command("new")
def pm_new(
    ctx: typer.Context,
    ref: Ref,
    quick: Annotated[
        bool, typer.Option("--quick", help="The short Quick Incident Report.")
    ] = False,
) -> None:
    """Scaffold a postmortem from the incident (summary, systems, timeline, root cause)."""
    from vigil.postmortems import service

    with get_store(ctx).write() as session:
        pm = service.create_postmortem(
            session=session, ref=ref, actor=actor(), kind="quick" if quick else "full"
        )
        typer.echo(f"{ref}: postmortem created ({pm.kind}, draft)")


@postmortem_app.command("show")
def pm_show(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """Show the postmortem's fields (the whole document: `vigil postmortem render`)."""
    from vigil.postmortems import service

    with get_store(ctx).read() as session:
        pm = service.read_postmortem(session=session, ref=ref)
    if as_json:
        echo_json(pm.model_dump(mode="json"))
        return
    record = pm.model_dump()
    timeline = record.pop("timeline", None) or []
    for name in ("sections", "whys", "action_items", "lessons"):
        value = record.pop(name, None)
        if isinstance(value, list | dict):
            record[name] = f"{len(value)} (see `vigil postmortem render {ref}`)" if value else None
    print_fields(record.items())
    typer.echo()
    print_records(timeline, title="Timeline")


@postmortem_app.command("update")
def pm_update(
    ctx: typer.Context,
    ref: Ref,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="JSON with fields and sections to set ('-' for stdin)."),
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="draft, in_review or published")
    ] = None,
    review_at: Annotated[
        dt.datetime | None,
        typer.Option(
            "--review-at",
            parser=parse_time,
            metavar="TIME",
            help="Scheduled review (UTC unless an offset is given).",
        ),
    ] = None,
) -> None:
    """Set fields and sections (see docs/postmortems.md for the JSON shape)."""
    from vigil.postmortems import service
    from vigil.postmortems.schemas import PostmortemUpdate

    raw: dict[str, object] = {}
    if file is not None:
        text = typer.get_text_stream("stdin").read() if str(file) == "-" else file.read_text()
        try:
            raw = json.loads(text)
        except ValueError as exc:
            fail(f"{file} is not valid JSON: {exc}", 2)
    for key, value in (("summary", summary), ("status", status), ("review_at", review_at)):
        if value is not None:
            raw[key] = value
    with get_store(ctx).write() as session:
        service.update_postmortem(
            session=session, ref=ref, data=PostmortemUpdate.model_validate(raw), actor=actor()
        )
    typer.echo(f"{ref}: postmortem updated")


@postmortem_app.command("render")
def pm_render(
    ctx: typer.Context,
    ref: Ref,
    fmt: Annotated[str, typer.Option("--format", help="markdown or html")] = "markdown",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Render the post-incident review report."""
    from vigil.postmortems.render import render_postmortem

    with get_store(ctx).read() as session:
        text = render_postmortem(session=session, ref=ref, fmt=fmt)
    if output:
        output.write_text(text)
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(text, nl=False)


@whys_app.command("start")
def whys_start(
    ctx: typer.Context,
    ref: Ref,
    facilitator: Annotated[str, typer.Option("--facilitator", help="Who runs the analysis.")],
    problem: Annotated[str, typer.Option("--problem", help="The observed symptom.")] = "",
) -> None:
    """Start (or restart) the five whys."""
    from vigil.postmortems import service

    with get_store(ctx).write() as session:
        service.start_five_whys(session=session, ref=ref, facilitator=facilitator, problem=problem)
    typer.echo(f"{ref}: five whys started by {facilitator}")


@whys_app.command("add")
def whys_add(
    ctx: typer.Context,
    ref: Ref,
    question: Annotated[str, typer.Argument()],
    answer: Annotated[str, typer.Argument()],
    by: Annotated[str, typer.Option("--by", help="Who answered.")] = "",
) -> None:
    """Add a why and its answer."""
    from vigil.postmortems import service

    with get_store(ctx).write() as session:
        why = service.add_why(
            session=session, ref=ref, question=question, answer=answer, answered_by=by or actor()
        )
    typer.echo(f"{ref}: why #{why['number']} added")


@whys_app.command("root-cause")
def whys_root_cause(
    ctx: typer.Context,
    ref: Ref,
    text: Annotated[str, typer.Argument()],
    category: Annotated[
        str | None, typer.Option("--category", help="e.g. process, code, config")
    ] = None,
) -> None:
    """Mark the root cause the whys led to."""
    from vigil.postmortems import service

    with get_store(ctx).write() as session:
        service.set_root_cause(session=session, ref=ref, text=text, category=category)
    typer.echo(f"{ref}: root cause recorded")


@whys_app.command("show")
def whys_show(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """Print the chain of whys."""
    from vigil.postmortems import service

    with get_store(ctx).read() as session:
        pm = service.read_postmortem(session=session, ref=ref)
    if as_json:
        echo_json(
            {
                "problem_statement": pm.problem_statement,
                "facilitator": pm.facilitator,
                "whys": [w.model_dump(mode="json") for w in pm.whys],
                "root_cause": pm.whys_root_cause,
            }
        )
        return
    typer.echo(f"Problem: {pm.problem_statement}  (facilitator: {pm.facilitator or '-'})")
    for w in pm.whys:
        typer.echo(f"{w.number}. {w.question}\n   -> {w.answer} ({w.answered_by})")
    typer.echo(f"ROOT CAUSE: {pm.whys_root_cause or '(not yet)'}")


Since = Annotated[
    dt.datetime,
    typer.Option(
        "--since",
        parser=parse_time,
        metavar="TIME",
        help="ISO 8601 (UTC unless an offset is given), or yesterday, 2h ago, -7d.",
    ),
]
Until = Annotated[dt.datetime, typer.Option("--until", parser=parse_time, metavar="TIME")]


def _add_entries(
    ctx: typer.Context, ref: str, items: list[TimelineItemCreate], source: str
) -> None:
    from vigil.postmortems import service

    with get_store(ctx).write() as session:
        _incident, pm = service.get_postmortem(session=session, ref=ref)
        added = service.add_timeline_entries(
            session=session, postmortem=pm, items=items, source=source
        )
    typer.echo(
        f"{ref}: {added} timeline entr{'y' if added == 1 else 'ies'} added ({len(items) - added} duplicates skipped)"
    )


@timeline_app.command("add")
def timeline_add(
    ctx: typer.Context,
    ref: Ref,
    at: Annotated[dt.datetime, typer.Option("--at")],
    event: Annotated[str, typer.Option("--event")],
    component: Annotated[str, typer.Option("--component")] = "",
    evidence: Annotated[str, typer.Option("--evidence")] = "",
) -> None:
    """Add one entry (time, event, component, evidence)."""
    from vigil.postmortems.schemas import TimelineItemCreate

    _add_entries(
        ctx,
        ref,
        [TimelineItemCreate(at=at, event=event, component=component, evidence=evidence)],
        "manual",
    )


@timeline_app.command("edit")
def timeline_edit(
    ctx: typer.Context,
    ref: Ref,
    entry_id: Annotated[int, typer.Argument(help="The row's id (in `vigil postmortem show`).")],
    at: Annotated[
        dt.datetime | None, typer.Option("--at", parser=parse_time, metavar="TIME")
    ] = None,
    event: Annotated[str | None, typer.Option("--event")] = None,
    component: Annotated[str | None, typer.Option("--component")] = None,
    evidence: Annotated[str | None, typer.Option("--evidence")] = None,
) -> None:
    """Correct a row of the postmortem's timeline (the incident's own timeline stays)."""
    from vigil.postmortems import service
    from vigil.postmortems.schemas import TimelineItemUpdate

    given = {"at": at, "event": event, "component": component, "evidence": evidence}
    data = TimelineItemUpdate(**{k: v for k, v in given.items() if v is not None})
    with get_store(ctx).write() as session:
        service.update_timeline_entry(session=session, ref=ref, entry_id=entry_id, data=data)
    typer.echo(f"{ref}: timeline row {entry_id} updated")


@timeline_app.command("remove")
def timeline_remove(
    ctx: typer.Context, ref: Ref, entry_id: Annotated[int, typer.Argument()]
) -> None:
    """Remove a row from the postmortem's timeline."""
    from vigil.postmortems import service

    with get_store(ctx).write() as session:
        service.remove_timeline_entry(session=session, ref=ref, entry_id=entry_id)
    typer.echo(f"{ref}: timeline row {entry_id} removed")


@timeline_app.command("import-git")
def timeline_import_git(
    ctx: typer.Context,
    ref: Ref,
    since: Since,
    until: Until,
    repo: Annotated[Path, typer.Option("--repo", help="Repository path.")] = Path("."),
) -> None:
    """Add the commits made between --since and --until (hash as evidence)."""
    from vigil.postmortems.importers import git_entries

    _add_entries(ctx, ref, list(git_entries(repo, since=since, until=until)), "git")


def _warn_outside_incident(ctx: typer.Context, ref: str, times: list[dt.datetime]) -> None:
    """Say how many added rows lie outside the incident (detected → resolved, or now)."""
    from vigil.db import utcnow
    from vigil.incidents import service as incidents

    with get_store(ctx).read() as session:
        incident = incidents.get_incident(session=session, ref=ref)
        start, end = incident.detected_at, incident.resolved_at or utcnow()
    outside = [t for t in times if not start <= t <= end]
    if outside:
        typer.echo(
            f"warning: {len(outside)} of {len(times)} line(s) lie outside the incident "
            f"({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC); they were added",
            err=True,
        )


@timeline_app.command("import-log")
def timeline_import_log(
    ctx: typer.Context,
    ref: Ref,
    file: Annotated[Path, typer.Argument()],
    since: Since,
    until: Until,
    pattern: Annotated[
        str | None, typer.Option("--pattern", help="Regex, e.g. 'ERROR|WARN'.")
    ] = None,
    component: Annotated[
        str | None, typer.Option("--component", help="Default: the file name.")
    ] = None,
) -> None:
    """Add timestamped log lines (file:line as evidence)."""
    from vigil.postmortems.importers import log_entries

    skipped: list[str] = []
    entries = list(
        log_entries(
            file, since=since, until=until, pattern=pattern, component=component, skipped=skipped
        )
    )
    _add_entries(ctx, ref, entries, "log")
    _warn_outside_incident(ctx, ref, [e.at for e in entries])
    if skipped:
        shown = ", ".join(skipped[:5]) + (" …" if len(skipped) > 5 else "")
        typer.echo(f"skipped {len(skipped)} line(s) with impossible timestamps: {shown}", err=True)


def learning(
    ctx: typer.Context,
    window: Annotated[
        str, typer.Option("--window", "-w", help="90d, 30d, … back from now.")
    ] = "90d",
    as_json: JsonFlag = False,
) -> None:
    """Most frequent contributing factors and root-cause categories across postmortems."""
    from vigil.analytics import parse_window
    from vigil.cli_output import print_table
    from vigil.db import utcnow
    from vigil.formats import label, report_cell
    from vigil.postmortems import service

    end = utcnow()
    with get_store(ctx).read() as session:
        report = service.learning_report(session=session, start=end - parse_window(window), end=end)
    if as_json:
        echo_json(report)
        return
    for i, (section, rows) in enumerate(report.items()):
        columns = list(rows[0]) if rows else ["category", "count"]
        if i:
            typer.echo()
        print_table(
            [label(c) for c in columns],
            [[report_cell(c, row.get(c)) for c in columns] for row in rows],
            title=label(section).capitalize(),
        )


def register(app: typer.Typer, report_app: typer.Typer) -> None:
    """Mount the postmortem commands."""
    app.add_typer(postmortem_app, name="postmortem")
    app.add_typer(whys_app, name="whys")
    app.add_typer(timeline_app, name="timeline")
    app.add_typer(actions_cli.actions_app, name="actions")
    app.add_typer(actions_cli.calendar_app, name="calendar")
    report_app.command("learning")(learning)
