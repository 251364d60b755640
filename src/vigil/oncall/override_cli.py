"""``vigil override`` and ``vigil swap``."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli_output import JsonFlag, print_records
from vigil.cli_support import actor, echo_json, get_store
from vigil.oncall.cli_times import WHEN as _WHEN
from vigil.oncall.cli_times import at as _at
from vigil.oncall.cli_times import zone_of as _zone_of

__all__ = ["override_app", "swap_app"]

override_app = typer.Typer(
    help="Overrides: add, remove or replace a person for a while.", no_args_is_help=True
)
swap_app = typer.Typer(help="Shift swaps: ask for cover, accept, undo.", no_args_is_help=True)


@override_app.command("add")
def override_add(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option("--kind", help="add, remove or replace.")],
    person: Annotated[
        str, typer.Option("--person", help="Who comes in (add, replace) or goes (remove).")
    ],
    start: Annotated[str, typer.Option("--start", help=_WHEN)],
    end: Annotated[str, typer.Option("--end", help=_WHEN)],
    replaces: Annotated[
        str | None, typer.Option("--replaces", help="replace: who is replaced.")
    ] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    tz: Annotated[str | None, typer.Option("--tz")] = None,
) -> None:
    """Add an override."""
    from vigil.oncall import schedules

    zone_name = _zone_of(ctx, schedule, tz)
    with get_store(ctx).write() as session:
        o = schedules.add_override(
            session=session, schedule=schedule, kind=kind, start=_at(start, zone_name, "start"),
            end=_at(end, zone_name, "end"), person=person, replaces=replaces, note=note, actor=actor(),
        )  # fmt: skip
        typer.echo(f"override {o.id} added")


@override_app.command("list")
def override_list(
    ctx: typer.Context, schedule: Annotated[str, typer.Argument()], as_json: JsonFlag = False
) -> None:
    """List current and future overrides."""
    from vigil.oncall import schedules
    from vigil.oncall.schemas import OverrideRead

    with get_store(ctx).read() as session:
        rows = [
            OverrideRead.model_validate(o)
            for o in schedules.list_overrides(session=session, schedule=schedule)
        ]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_records(rows)


@override_app.command("remove")
def override_remove(ctx: typer.Context, override_id: Annotated[int, typer.Argument()]) -> None:
    """Remove an override."""
    from vigil.oncall import schedules

    with get_store(ctx).write() as session:
        schedules.remove_override(session=session, override_id=override_id)
    typer.echo(f"override {override_id} removed")


@swap_app.command("request")
def swap_request(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument()],
    by: Annotated[str, typer.Option("--by", help="Who asks for cover.")],
    start: Annotated[str, typer.Option("--start", help=_WHEN)],
    end: Annotated[str, typer.Option("--end", help=_WHEN)],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Ask for someone to cover a stretch of your shifts."""
    from vigil.oncall import swaps

    zone_name = _zone_of(ctx, schedule, None)
    with get_store(ctx).write() as session:
        s = swaps.request_swap(
            session=session, schedule=schedule, requester=by, start=_at(start, zone_name, "start"),
            end=_at(end, zone_name, "end"), note=note,
        )  # fmt: skip
        typer.echo(
            f"swap request {s.id} open; another person accepts it with `vigil swap accept {s.id} --by HANDLE`"
        )


@swap_app.command("accept")
def swap_accept(
    ctx: typer.Context,
    swap_id: Annotated[int, typer.Argument()],
    by: Annotated[str, typer.Option("--by")],
) -> None:
    """Cover a swap request (a replace override is made)."""
    from vigil.oncall import swaps

    with get_store(ctx).write() as session:
        s = swaps.accept_swap(session=session, swap_id=swap_id, by=by)
        typer.echo(f"{s.accepted_by} covers {s.requester} (override {s.override_id})")


@swap_app.command("undo")
def swap_undo(
    ctx: typer.Context,
    swap_id: Annotated[int, typer.Argument()],
    by: Annotated[str, typer.Option("--by")],
) -> None:
    """Take a swap back (the requester or whoever accepted it)."""
    from vigil.oncall import swaps

    with get_store(ctx).write() as session:
        s = swaps.undo_swap(session=session, swap_id=swap_id, by=by)
        typer.echo(f"swap request {swap_id} {s.state}")


@swap_app.command("list")
def swap_list(
    ctx: typer.Context,
    schedule: Annotated[str | None, typer.Argument()] = None,
    as_json: JsonFlag = False,
) -> None:
    """List swap requests."""
    from vigil.oncall import swaps
    from vigil.oncall.schemas import SwapRead

    with get_store(ctx).read() as session:
        rows = [
            SwapRead.model_validate(s) for s in swaps.list_swaps(session=session, schedule=schedule)
        ]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_records(rows)
