"""Reading and showing times on the on-call command line."""

from __future__ import annotations

import datetime as dt

import typer

from vigil.cli_support import get_store

__all__ = ["WHEN", "at", "show", "zone_of"]

WHEN = "now, or 2026-12-24T09:00 (in --tz / the schedule's zone) or with an offset"


def zone_of(ctx: typer.Context, schedule: str | None, tz: str | None) -> str:
    """The time zone to read and show times in: ``tz``, the schedule's, or UTC."""
    if tz:
        return tz
    if schedule:
        from vigil.oncall import schedules

        with get_store(ctx).read() as session:
            return schedules.get_schedule(session=session, name=schedule).time_zone
    return "UTC"


def at(text: str, zone_name: str, field: str) -> dt.datetime:
    """Parse a time typed on the command line."""
    from vigil.oncall.wallclock import parse_instant

    return parse_instant(text, zone_name, field=field)


def show(pieces: list, zone_name: str) -> None:  # type: ignore[type-arg]
    """Print final-schedule pieces, one line each, in ``zone_name``."""
    from vigil.oncall.wallclock import zone

    tz = zone(zone_name)
    for p in pieces:
        who = ", ".join(p.people) or "NOBODY"
        by = ", ".join(p.decided_by)
        typer.echo(
            f"{p.start.astimezone(tz):%Y-%m-%d %H:%M %Z} → {p.end.astimezone(tz):%Y-%m-%d %H:%M %Z}  {who}"
            + (f"  ({by})" if by else "")
        )
