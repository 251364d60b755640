"""Wall-clock times in a time zone, turned into instants by written rules.

Schedules are defined in wall-clock time (a hand-off at 09:00 Europe/Berlin), and twice a
year some wall-clock times happen twice or not at all. The rules:

- A wall-clock time that happens once is that instant.
- A time that happens twice (clocks go back) starts a shift or a window at its **first**
  occurrence; a window (a restriction's time-of-day range) **ends** at its **last**
  occurrence, so a window that spans the repeated hour keeps it. A rotation hand-off is
  both the end of one shift and the start of the next, so it is the first occurrence.
- A time that does not happen (clocks jump over it) is the moment the clocks jump: the
  first instant whose wall-clock reading is that time or later.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vigil.errors import ValidationError

__all__ = ["UTC", "instant", "local", "parse_instant", "zone"]

UTC = dt.UTC


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The time zone ``name`` (an IANA name such as Europe/Berlin), or a 4xx naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"time zone {name!r} is not an IANA time zone name (e.g. Europe/Berlin, UTC)",
            field="time_zone",
        ) from exc


def local(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The wall-clock reading (naive) of the instant ``at`` in ``tz``."""
    return at.astimezone(tz).replace(tzinfo=None)


def _jump(before: dt.datetime, after: dt.datetime, wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The first instant in [before, after] whose reading is ``wall`` or later (clocks jump)."""
    low, high = before, after
    while high - low > dt.timedelta(seconds=1):
        mid = low + (high - low) / 2
        if local(mid, tz) >= wall:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)


def instant(wall: dt.datetime, tz: ZoneInfo, *, last: bool = False) -> dt.datetime:
    """The UTC instant of the naive wall-clock time ``wall`` in ``tz`` (module rules).

    ``last`` picks the later of a repeated time (the end of a window)."""
    return _instant(wall, tz, last)


@lru_cache(maxsize=200_000)
def _instant(wall: dt.datetime, tz: ZoneInfo, last: bool) -> dt.datetime:
    # Cached: schedules share hand-off times, so the same wall-clock readings recur.
    early = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    late = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if early == late:
        return early
    first, second = min(early, late), max(early, late)
    if local(first, tz) == wall and local(second, tz) == wall:
        return second if last else first
    return _jump(first, second, wall, tz)


def parse_instant(text: str, time_zone: str, *, field: str) -> dt.datetime:
    """``now``, or an ISO 8601 date and time; without an offset it is wall-clock in
    ``time_zone`` (by the module rules). Returns UTC."""
    text = text.strip()
    if text.lower() == "now":
        return dt.datetime.now(UTC).replace(microsecond=0)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field}: {text!r} is not a date and time such as 2026-12-24T09:00 or "
            "2026-12-24T09:00+01:00",
            field=field,
        ) from None
    if value.tzinfo is None:
        return instant(value, zone(time_zone))
    return value.astimezone(UTC)
