"""``vigil schedule``, ``vigil override``, ``vigil swap``, ``vigil oncall``, ``vigil
escalation``, ``vigil assign`` and ``vigil role``: on-call from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli_output import JsonFlag
from vigil.cli_support import echo_json, get_store
from vigil.oncall.cli_times import WHEN as _WHEN
from vigil.oncall.cli_times import at as _at
from vigil.oncall.cli_times import show as _show
from vigil.oncall.cli_times import zone_of as _zone_of
from vigil.oncall.escalation_cli import assign, escalation_app, role_app
from vigil.oncall.override_cli import override_app, swap_app
from vigil.oncall.people_cli import people_app, stats

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vigil.incidents import Incident

__all__ = ["register"]

schedule_app = typer.Typer(help="On-call schedules and their layers.", no_args_is_help=True)
layer_app = typer.Typer(help="A schedule's layers (higher wins).", no_args_is_help=True)
schedule_app.add_typer(layer_app, name="layer")
oncall_app = typer.Typer(
    help="Who is on call, and what would keep a page from landing.", no_args_is_help=True
)


@schedule_app.command("add")
def schedule_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    tz: Annotated[str, typer.Option("--tz", help="The schedule's time zone.")] = "UTC",
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Add a schedule."""
    from vigil.oncall import schedules

    with get_store(ctx).write() as session:
        schedules.add_schedule(session=session, name=name, time_zone=tz, description=description)
    typer.echo(f"schedule {name!r} added ({tz}); add layers with `vigil schedule layer add`")


@schedule_app.command("list")
def schedule_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List schedules with their layers and who is on call now."""
    from vigil.oncall import schedules, who_is_on_call
    from vigil.oncall.schemas import LayerRead

    with get_store(ctx).read() as session:
        now = who_is_on_call(session=session)
        data: list[dict[str, Any]] = [
            {"name": s.name, "time_zone": s.time_zone, "description": s.description,
             "layers": [LayerRead.of(r).model_dump() for r in schedules.list_layers(session=session, schedule=s.name)],
             "on_call_now": list(now[s.name].people)}
            for s in schedules.list_schedules(session=session)
        ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    for d in data:
        layers = ", ".join(layer["name"] for layer in d["layers"]) or "no layers"
        typer.echo(
            f"{d['name']} ({d['time_zone']}): {layers}; on call now: {', '.join(d['on_call_now']) or 'NOBODY'}"
        )


@schedule_app.command("remove")
def schedule_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a schedule with its layers and overrides."""
    from vigil.oncall import schedules

    with get_store(ctx).write() as session:
        schedules.remove_schedule(session=session, name=name)
    typer.echo(f"schedule {name!r} removed")


@layer_app.command("add")
def layer_add(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument(help="e.g. primary.")],
    participants: Annotated[
        str, typer.Option("--participants", help="Handles in turn: ann,bob,cy.")
    ] = "",
    shift: Annotated[
        str, typer.Option("--shift", help="hourly, daily, weekly, or 12h, 3d, 90m.")
    ] = "weekly",
    handoff: Annotated[
        str, typer.Option("--handoff", help="First hand-off, wall-clock: 2026-12-07T09:00.")
    ] = "",
    restrict: Annotated[
        list[str] | None, typer.Option("--restrict", help="Only 'mon-fri 09:00-17:00'; repeatable.")
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Default: the schedule's time zone.")
    ] = None,
    ical_url: Annotated[
        str | None, typer.Option("--ical-url", help="Import a calendar URL instead.")
    ] = None,
    ical_file: Annotated[
        Path | None, typer.Option("--ical-file", help="Import a .ics file instead.")
    ] = None,
    away: Annotated[
        bool,
        typer.Option("--away", help="The calendar's events take people off call (holidays)."),
    ] = False,
) -> None:
    """Add a layer on top: a rotation, or an imported iCalendar."""
    from vigil.oncall import schedules

    spec = schedules.LayerSpec(
        name=name, participants=[p for p in participants.split(",") if p.strip()], shift=shift,
        handoff=handoff, restrictions=restrict or (), time_zone=tz, ical_url=ical_url,
        ical_text=ical_file.read_text(encoding="utf-8") if ical_file else None,
        ical_mode="away" if away else "on_call",
    )  # fmt: skip
    store = get_store(ctx)
    with store.write() as session:
        layer = schedules.add_layer(session=session, schedule=schedule, spec=spec)
        position = layer.position
    if ical_url:
        from vigil.oncall.flows import refresh_calendars

        typer.echo(refresh_calendars(store))
    typer.echo(f"layer {name!r} added to {schedule!r} at position {position}")


@layer_app.command("remove")
def layer_remove(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument()],
) -> None:
    """Remove a layer."""
    from vigil.oncall import schedules

    with get_store(ctx).write() as session:
        schedules.remove_layer(session=session, schedule=schedule, layer=name)
    typer.echo(f"layer {name!r} removed from {schedule!r}")


@schedule_app.command("final")
def schedule_final(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument()],
    start: Annotated[str, typer.Option("--from", help=_WHEN)] = "now",
    days: Annotated[float, typer.Option("--days")] = 14,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Show and read times in this zone.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The final schedule: who is on call when, and which layer or override decided it."""
    from vigil.oncall import schedules

    zone_name = _zone_of(ctx, schedule, tz)
    begin = _at(start, zone_name, "from")
    with get_store(ctx).read() as session:
        pieces = schedules.final_schedule(
            session=session, schedule=schedule, start=begin, end=begin + dt.timedelta(days=days)
        )
    if as_json:
        echo_json(
            [
                {
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "people": list(p.people),
                    "decided_by": list(p.decided_by),
                }
                for p in pieces
            ]
        )
        return
    _show(pieces, zone_name)


@schedule_app.command("export")
def schedule_export(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument()],
    person: Annotated[
        str | None, typer.Option("--person", help="Only this person's shifts.")
    ] = None,
) -> None:
    """Print the schedule (or one person's shifts on it) as iCalendar."""
    from vigil.oncall.feeds import schedule_feed

    with get_store(ctx).read() as session:
        typer.echo(
            schedule_feed(session=session, schedule=schedule, person=person).decode(), nl=False
        )


def _print_now(
    ctx: typer.Context, when: dt.datetime, schedules: list[str] | None, as_json: bool
) -> None:
    from vigil.oncall import who_is_on_call

    with get_store(ctx).read() as session:
        found = who_is_on_call(session=session, at=when, schedules=schedules or None)
    if as_json:
        echo_json(
            {
                name: {"people": list(d.people), "decided_by": list(d.decided_by)}
                for name, d in found.items()
            }
        )
        return
    for name, d in found.items():
        by = f" ({', '.join(d.decided_by)})" if d.decided_by else ""
        typer.echo(f"{name}: {', '.join(d.people) or 'NOBODY'}{by}")


@oncall_app.command("now")
def oncall_now(
    ctx: typer.Context,
    schedule: Annotated[list[str] | None, typer.Argument(help="Default: every schedule.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Who is on call now."""
    from vigil.db import utcnow

    _print_now(ctx, utcnow(), schedule, as_json)


@oncall_app.command("at")
def oncall_at(
    ctx: typer.Context,
    when: Annotated[str, typer.Argument(help=_WHEN)],
    schedule: Annotated[list[str] | None, typer.Argument()] = None,
    tz: Annotated[str, typer.Option("--tz")] = "UTC",
    as_json: JsonFlag = False,
) -> None:
    """Who is on call at an instant."""
    _print_now(ctx, _at(when, tz, "when"), schedule, as_json)


@oncall_app.command("next")
def oncall_next(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument()],
    person: Annotated[
        str | None, typer.Option("--person", help="Only this person's shifts.")
    ] = None,
    days: Annotated[float, typer.Option("--days")] = 28,
    count: Annotated[int, typer.Option("--count", "-n")] = 5,
) -> None:
    """The next shifts on a schedule (or one person's)."""
    from vigil.db import utcnow
    from vigil.oncall import schedules

    now = utcnow()
    with get_store(ctx).read() as session:
        pieces = schedules.final_schedule(
            session=session, schedule=schedule, start=now, end=now + dt.timedelta(days=days)
        )
    chosen = [p for p in pieces if p.people and (person is None or person in p.people)][:count]
    _show(chosen, _zone_of(ctx, schedule, None))


@oncall_app.command("check")
def oncall_check(
    ctx: typer.Context,
    days: Annotated[float, typer.Option("--days", help="How far ahead to look.")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Find what would keep a page from reaching someone; exit 1 when anything is found."""
    from vigil.oncall import check_coverage

    with get_store(ctx).read() as session:
        findings = check_coverage(session=session, days=days)
    if as_json:
        echo_json([{"kind": f.kind, "subject": f.subject, "message": f.message,
                    "start": f.start.isoformat() if f.start else None,
                    "end": f.end.isoformat() if f.end else None} for f in findings])  # fmt: skip
    else:
        for f in findings:
            span = (
                f" from {f.start:%Y-%m-%d %H:%M} to {f.end:%Y-%m-%d %H:%M} UTC"
                if f.start and f.end
                else ""
            )
            typer.echo(f"{f.kind}: {f.message}{span}")
        if not findings:
            typer.echo(f"every policy reaches someone for the next {days:g} days")
    if findings:
        raise typer.Exit(1)


def _oncall_section(session: Session, incident: Incident) -> tuple[str, list[str], list[list[str]]]:
    from vigil.oncall import roles

    rows = [
        [r.role, r.person, f"since {r.since:%Y-%m-%d %H:%M}"]
        for r in roles.list_roles(session=session, ref=incident.human_id)
    ]
    climb = roles.escalation_of(session=session, ref=incident.human_id)
    if climb is not None:
        when = f"next at {climb.next_at:%Y-%m-%d %H:%M:%S}" if climb.next_at else ""
        rows.append(
            [
                f"policy {climb.policy}",
                climb.state,
                f"step {climb.step + 1}, round {climb.round} {when}".strip(),
            ]
        )
    if incident.assignee:
        rows.insert(0, ["assignee", incident.assignee, ""])
    return ("On call", ["what", "who / state", "detail"], rows)


def register(root: typer.Typer, report: typer.Typer | None = None) -> None:
    """Mount the on-call commands; add roles and the climb to `vigil show`."""
    root.add_typer(people_app, name="people")
    root.add_typer(schedule_app, name="schedule")
    root.add_typer(override_app, name="override")
    root.add_typer(swap_app, name="swap")
    root.add_typer(oncall_app, name="oncall")
    root.add_typer(escalation_app, name="escalation")
    root.add_typer(role_app, name="role")
    root.command("assign")(assign)
    if report is not None:
        report.command("paging")(stats)
    from vigil.incidents import cli as incidents_cli

    incidents_cli.SHOW_SECTIONS.append(_oncall_section)
