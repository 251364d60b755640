"""How figures read: durations in words a person reads at a glance, rounded numbers.

Pure functions with no imports beyond the standard library: the CLI, Markdown reports and
CSV exports all format through here, so a duration or a percentage reads the same in each.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

__all__ = [
    "DURATION_COLUMN",
    "duration",
    "figure",
    "instant",
    "label",
    "report_cell",
    "rounded",
]

#: Report columns that hold seconds: MTTA/MTTR/time-to-close statistics, MTBF, ``*_seconds``.
DURATION_COLUMN = re.compile(
    r"^(?:(?:mtta|mttr|mtbf|time_to_close)(?:_(?:mean|median|p90|max|min))?|.*_seconds)$"
)
_COUNT_SUFFIXES = ("_count", "_pending")


def duration(seconds: float | None) -> str:
    """``42s``, ``15m 3s``, ``4.2 h``, ``3.5 d``; ``-`` for no value; a minus sign kept."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    s = abs(float(seconds))
    if s < 60:
        return f"{sign}{s:.0f}s" if s >= 10 or s == int(s) else f"{sign}{s:.1f}s"
    if s < 3600:
        minutes, rest = divmod(round(s), 60)
        return f"{sign}{minutes}m {rest}s" if rest else f"{sign}{minutes}m"
    if s < 48 * 3600:
        return f"{sign}{s / 3600:.1f} h"
    return f"{sign}{s / 86400:.1f} d"


def rounded(value: Any, places: int = 3) -> Any:
    """A float rounded to ``places`` decimals (for CSV and JSON-like exports); others as-is."""
    return round(value, places) if isinstance(value, float) else value


def figure(value: Any) -> str:
    """A number as text: at most three decimals, no trailing zeros; ``-`` for no value."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.3f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, dt.datetime):
        return instant(value)
    return str(value)


def instant(value: dt.datetime | None, *, seconds: bool = False) -> str:
    """A moment as ``2026-12-03 14:05 UTC`` (or ``14:05:09`` with ``seconds``); naive values
    are UTC, as Vigil stores them."""
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if seconds else f"{value:%Y-%m-%d %H:%M} UTC"


def label(column: str) -> str:
    """A column name as a header: ``mttr_median`` → ``mttr median``, ``downtime_seconds`` →
    ``downtime``."""
    return column.removesuffix("_seconds").replace("_", " ")


def report_cell(column: str, value: Any) -> str:
    """A report value for people: seconds as durations, figures rounded, groups named."""
    if column == "group" and value in (None, ""):
        return "(none)"
    if column.endswith("_at") and isinstance(value, str):
        try:
            return instant(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    seconds = DURATION_COLUMN.match(column) and not column.endswith(_COUNT_SUFFIXES)
    if seconds and isinstance(value, int | float) and not isinstance(value, bool):
        return duration(value)
    return figure(value)
