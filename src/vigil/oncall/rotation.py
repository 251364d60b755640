"""Schedule layers: rotations (with time-of-day restrictions) and imported calendars.

A rotation's shift ``k`` starts at the wall-clock time ``handoff + k × length`` in the
layer's time zone (wall-clock arithmetic: a daily shift always hands off at the same
reading, an hourly rotation stays on the wall-clock hours), turned into an instant by the
rules in :mod:`vigil.oncall.wallclock`. Nobody is on call before the first hand-off. A
restricted layer covers only its windows (weekdays and a time-of-day range, which ends
the next day when it ends at or before its start); outside them it has nobody.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from vigil.oncall.wallclock import instant, local

__all__ = ["ImportedLayer", "Layer", "Restriction", "Rotation", "Segment"]

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Segment:
    """``person`` is on call in [start, end) by ``source`` (a layer or an override)."""

    start: dt.datetime
    end: dt.datetime
    person: str
    source: str


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window: on ``days`` (0 = Monday), from ``start`` to ``end`` (wall-clock)."""

    days: frozenset[int]
    start: dt.time
    end: dt.time

    def windows(self, day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime] | None:
        """The window that opens on ``day``, as instants, or None on other weekdays."""
        if day.weekday() not in self.days:
            return None
        ends_on = day + _DAY if self.end <= self.start else day
        return (
            instant(dt.datetime.combine(day, self.start), tz),
            instant(dt.datetime.combine(ends_on, self.end), tz, last=True),
        )


def _merged(spans: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@dataclass(frozen=True, slots=True)
class Rotation:
    """Participants in turn, ``length`` each (wall-clock), from the first ``handoff``."""

    name: str
    tz: ZoneInfo
    participants: tuple[str, ...]
    handoff: dt.datetime  # naive, wall-clock in ``tz``
    length: dt.timedelta
    restrictions: tuple[Restriction, ...] = ()
    _first: dt.datetime = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_first", instant(self.handoff, self.tz))

    def _start(self, k: int) -> dt.datetime:
        return instant(self.handoff + k * self.length, self.tz)

    def shift_at(self, at: dt.datetime) -> int | None:
        """The number of the shift under way at ``at`` (None before the first hand-off)."""
        if at < self._first:
            return None
        k = int((local(at, self.tz) - self.handoff) / self.length)
        while k > 0 and self._start(k) > at:
            k -= 1
        while self._start(k + 1) <= at:
            k += 1
        return k

    def _allowed(self, at: dt.datetime) -> bool:
        if not self.restrictions:
            return True
        today = local(at, self.tz).date()
        for day in (today - _DAY, today):
            for r in self.restrictions:
                span = r.windows(day, self.tz)
                if span and span[0] <= at < span[1]:
                    return True
        return False

    def person_at(self, at: dt.datetime) -> str | None:
        """Who this layer has on call at ``at``."""
        if not self.participants:
            return None
        k = self.shift_at(at)
        if k is None or not self._allowed(at):
            return None
        return self.participants[k % len(self.participants)]

    def _windows(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        day = local(start, self.tz).date() - _DAY
        last = local(end, self.tz).date()
        spans = []
        while day <= last:
            for r in self.restrictions:
                span = r.windows(day, self.tz)
                if span:
                    spans.append(span)
            day += _DAY
        return _merged(spans)

    def segments(self, start: dt.datetime, end: dt.datetime) -> list[Segment]:
        """Who is on call in [start, end), piece by piece, in time order."""
        if not self.participants or end <= max(start, self._first):
            return []
        k = self.shift_at(max(start, self._first)) or 0
        shifts: list[Segment] = []
        begin = self._start(k)
        n = len(self.participants)
        while begin < end:
            finish = self._start(k + 1)
            if finish > begin and finish > start:
                person = self.participants[k % n]
                shifts.append(Segment(max(begin, start), min(finish, end), person, self.name))
            k += 1
            begin = finish
        if not self.restrictions:
            return shifts
        return _clip(shifts, self._windows(start, end))


def _clip(shifts: list[Segment], spans: list[tuple[dt.datetime, dt.datetime]]) -> list[Segment]:
    out: list[Segment] = []
    j = 0
    for s in shifts:
        while j < len(spans) and spans[j][1] <= s.start:
            j += 1
        i = j
        while i < len(spans) and spans[i][0] < s.end:
            a, b = max(s.start, spans[i][0]), min(s.end, spans[i][1])
            if a < b:
                out.append(Segment(a, b, s.person, s.source))
            i += 1
    return out


@dataclass(frozen=True, slots=True)
class ImportedLayer:
    """A layer read from an iCalendar: who is on call, event by event (no overlaps kept:
    where two events overlap, the one that started later wins)."""

    name: str
    pieces: tuple[Segment, ...]
    _starts: list[dt.datetime] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pieces", _flatten(self.pieces))
        object.__setattr__(self, "_starts", [p.start for p in self.pieces])

    def person_at(self, at: dt.datetime) -> str | None:
        """Who the calendar has on call at ``at``."""
        i = bisect.bisect_right(self._starts, at) - 1
        if i >= 0 and at < self.pieces[i].end:
            return self.pieces[i].person
        return None

    def segments(self, start: dt.datetime, end: dt.datetime) -> list[Segment]:
        """The calendar's pieces within [start, end)."""
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        out = []
        for p in self.pieces[i:]:
            if p.start >= end:
                break
            a, b = max(p.start, start), min(p.end, end)
            if a < b:
                out.append(Segment(a, b, p.person, self.name))
        return out


def _flatten(pieces: Sequence[Segment]) -> tuple[Segment, ...]:
    """Pieces without overlaps: where events overlap, the one that started later wins."""
    kept = sorted((p for p in pieces if p.start < p.end), key=lambda p: (p.start, p.end))
    cuts = sorted({t for p in kept for t in (p.start, p.end)})
    out: list[Segment] = []
    active: list[Segment] = []
    i = 0
    for a, b in itertools.pairwise(cuts):
        while i < len(kept) and kept[i].start <= a:
            active.append(kept[i])
            i += 1
        active = [p for p in active if p.end > a]
        if not active:
            continue
        winner = max(active, key=lambda p: p.start)  # the latest start; ties: the later one
        if out and out[-1].end == a and out[-1].person == winner.person:
            out[-1] = Segment(out[-1].start, b, winner.person, winner.source)
        else:
            out.append(Segment(a, b, winner.person, winner.source))
    return tuple(out)


Layer = Rotation | ImportedLayer
