"""Interval arithmetic for availability: clip, merge, measure.

Times are aware datetimes; an interval is a half-open pair (start, end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

__all__ = ["Interval", "clip", "merge", "total_seconds"]

Interval = tuple[dt.datetime, dt.datetime]


def clip(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """Return the parts of ``intervals`` inside [start, end), dropping empty ones."""
    out = []
    for a, b in intervals:
        a, b = max(a, start), min(b, end)
        if b > a:
            out.append((a, b))
    return out


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Return the union of ``intervals`` as sorted, disjoint intervals (overlaps counted once)."""
    merged: list[Interval] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def total_seconds(intervals: Iterable[Interval]) -> float:
    """Return the summed length of disjoint intervals."""
    return sum((b - a).total_seconds() for a, b in intervals)
