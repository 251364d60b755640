"""Weekday and time-of-day windows, written as ``mon-fri 09:00-17:00`` in a time zone.

Working hours, quiet hours and layer restrictions are all such windows. A window whose end
is at or before its start ends the next day (``22:00-07:00``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from vigil.errors import ValidationError
from vigil.oncall.rotation import Restriction
from vigil.oncall.wallclock import local

__all__ = [
    "DAYS",
    "describe_windows",
    "next_inside",
    "parse_windows",
    "restrictions_of",
    "within",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(?:(?P<days>[a-z,-]+)\s+)?(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")


def _time(text: str, field: str) -> str:
    hour, minute = (int(p) for p in text.split(":"))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValidationError(
            f"{field}: {text!r} is not a time of day (00:00 to 23:59)", field=field
        )
    return f"{hour:02d}:{minute:02d}"


def _days(text: str, field: str) -> list[int]:
    out: set[int] = set()
    for part in text.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise ValidationError(
                f"{field}: {part!r} is not a weekday or a range of them ({', '.join(DAYS)}, "
                "e.g. mon-fri or sat,sun)",
                field=field,
            )
        a, b = DAYS.index(ends[0]), DAYS.index(ends[-1])
        out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return sorted(out)


def parse_windows(text: str | Sequence[str], *, field: str) -> list[dict[str, Any]]:
    """Windows from ``"mon-fri 09:00-17:00, sat 10:00-12:00"`` (days default to every day)."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    # Days lists contain commas too: rejoin "sat,sun 10:00-12:00" split at its comma.
    joined: list[str] = []
    for raw in parts:
        p = raw.strip().lower()
        if not p:
            continue
        if joined and not re.search(r"\d", joined[-1]):
            joined[-1] = f"{joined[-1]},{p}"
        else:
            joined.append(p)
    out = []
    for p in joined:
        m = _WINDOW.match(" ".join(p.split()))
        if not m:
            raise ValidationError(
                f"{field}: {p!r} is not a window like 'mon-fri 09:00-17:00' or '22:00-07:00'",
                field=field,
            )
        start, end = _time(m["start"], field), _time(m["end"], field)
        if start == end:
            raise ValidationError(f"{field}: {p!r} starts and ends at the same time", field=field)
        days = _days(m["days"], field) if m["days"] else list(range(7))
        out.append({"days": days, "start": start, "end": end})
    return out


def _day_ranges(days: Sequence[int]) -> str:
    """``[0, 1, 2, 3, 4, 6]`` → ``mon-fri,sun``."""
    runs: list[list[int]] = []
    for d in sorted(days):
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}-{DAYS[r[-1]]}" for r in runs)


def describe_windows(windows: Sequence[dict[str, Any]]) -> str:
    """Windows written back the way they are parsed."""
    parts = []
    for w in windows:
        days = _day_ranges(w["days"])
        parts.append(
            f"{days} {w['start']}-{w['end']}" if len(w["days"]) < 7 else f"{w['start']}-{w['end']}"
        )
    return ", ".join(parts)


def restrictions_of(windows: Sequence[dict[str, Any]]) -> tuple[Restriction, ...]:
    """Stored windows as the algebra's restrictions."""
    return tuple(
        Restriction(
            frozenset(w["days"]), dt.time.fromisoformat(w["start"]), dt.time.fromisoformat(w["end"])
        )
        for w in windows
    )


def within(windows: Sequence[dict[str, Any]], at: dt.datetime, tz: ZoneInfo) -> bool:
    """True when ``at`` falls in one of ``windows`` (wall-clock in ``tz``)."""
    if not windows:
        return False
    wall = local(at, tz)
    for w in windows:
        start, end = dt.time.fromisoformat(w["start"]), dt.time.fromisoformat(w["end"])
        t = wall.time()
        if start < end:
            if wall.weekday() in w["days"] and start <= t < end:
                return True
        elif (wall.weekday() in w["days"] and t >= start) or (
            (wall.weekday() - 1) % 7 in w["days"] and t < end
        ):
            return True
    return False


def next_inside(
    windows: Sequence[dict[str, Any]],
    at: dt.datetime,
    tz: ZoneInfo,
    *,
    quiet: dict[str, str] | None = None,
) -> dt.datetime:
    """The first instant from ``at`` inside ``windows`` (any time if there are none) and
    outside ``quiet`` hours, to the minute, within a week."""
    quiet_windows = [{"days": list(range(7)), **quiet}] if quiet else []

    def ok(t: dt.datetime) -> bool:
        return (not windows or within(windows, t, tz)) and not within(quiet_windows, t, tz)

    if ok(at):
        return at
    t = at.replace(second=0, microsecond=0)
    step = dt.timedelta(minutes=15)
    for _ in range(7 * 24 * 4):
        t += step
        if ok(t):
            back = t - step
            while not ok(back + dt.timedelta(minutes=1)):
                back += dt.timedelta(minutes=1)
            return back + dt.timedelta(minutes=1)
    return at
