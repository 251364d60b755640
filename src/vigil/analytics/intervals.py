"""Interval arithmetic for availability: clip and merge.

An interval is a half-open pair (start, end) of comparable times: aware datetimes or epoch
seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["clip", "merge"]

T = TypeVar("T", bound=Any)


def clip(intervals: Iterable[tuple[T, T]], start: T, end: T) -> list[tuple[T, T]]:
    """Return the parts of ``intervals`` inside [start, end), dropping empty ones."""
    out = []
    for a, b in intervals:
        a, b = max(a, start), min(b, end)
        if b > a:
            out.append((a, b))
    return out


def merge(intervals: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Return the union of ``intervals`` as sorted, disjoint intervals (overlaps counted once)."""
    merged: list[tuple[T, T]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged
