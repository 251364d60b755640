"""The final schedule: layers and overrides combined, instant by instant.

At any instant the highest layer that has somebody decides, after overrides are applied to
that layer's person: a ``replace`` override puts its person in place of the one it
replaces, a ``remove`` override takes its person out (the next layer down then decides,
so a primary on holiday falls through to the secondary), and an ``add`` override puts its
person on call beside whoever the layers chose. Overrides apply in the order they were made.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from vigil.oncall.rotation import Layer, Segment

__all__ = ["Decision", "Override", "Piece", "ScheduleShape", "final_schedule", "gaps", "on_call_at"]


@dataclass(frozen=True, slots=True)
class Override:
    """For [start, end): ``add`` person, ``remove`` person, or ``replace`` replaces → person."""

    id: int
    kind: str
    start: dt.datetime
    end: dt.datetime
    person: str
    replaces: str | None = None
    label: str | None = None  # e.g. an away calendar's layer name

    @property
    def source(self) -> str:
        """How a piece decided by this override names it."""
        return self.label or f"override {self.id} ({self.kind})"


@dataclass(frozen=True, slots=True)
class ScheduleShape:
    """A schedule as the algebra sees it: layers from lowest to highest, and overrides."""

    name: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """Who is on call at one instant, and what decided it."""

    people: tuple[str, ...]
    decided_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the final schedule with one answer."""

    start: dt.datetime
    end: dt.datetime
    people: tuple[str, ...]
    decided_by: tuple[str, ...]


def _decide(layer_people: Sequence[tuple[str | None, str]], active: Sequence[Override]) -> Decision:
    chosen: str | None = None
    by: list[str] = []
    for person, source in reversed(layer_people):
        if person is None:
            continue
        decided = source
        removed = False
        for o in active:
            if o.kind == "replace" and o.replaces == person:
                person, decided = o.person, o.source
            elif o.kind == "remove" and o.person == person:
                removed = True
        if removed:
            continue
        chosen = person
        by.append(decided)
        break
    people = [chosen] if chosen else []
    for o in active:
        if o.kind == "add" and o.person not in people:
            people.append(o.person)
            by.append(o.source)
    return Decision(tuple(people), tuple(by))


def on_call_at(shape: ScheduleShape, at: dt.datetime) -> Decision:
    """Who is on call at ``at``."""
    active = [o for o in shape.overrides if o.start <= at < o.end]
    people = [(layer.person_at(at), layer.name) for layer in shape.layers]
    return _decide(people, active)


def final_schedule(shape: ScheduleShape, start: dt.datetime, end: dt.datetime) -> list[Piece]:
    """The final schedule over [start, end): pieces in order, covering it (gaps have nobody)."""
    per_layer: list[list[Segment]] = [layer.segments(start, end) for layer in shape.layers]
    overrides = [o for o in shape.overrides if o.start < end and o.end > start]
    points = {start, end}
    for segments in per_layer:
        for s in segments:
            points.add(s.start)
            points.add(s.end)
    for o in overrides:
        points.add(max(o.start, start))
        points.add(min(o.end, end))
    cuts = sorted(points)
    where = [0] * len(per_layer)
    pieces: list[Piece] = []
    for a, b in itertools.pairwise(cuts):
        layer_people: list[tuple[str | None, str]] = []
        for n, segments in enumerate(per_layer):
            i = where[n]
            while i < len(segments) and segments[i].end <= a:
                i += 1
            where[n] = i
            on = i < len(segments) and segments[i].start <= a
            layer_people.append((segments[i].person if on else None, shape.layers[n].name))
        active = [o for o in overrides if o.start <= a < o.end]
        d = _decide(layer_people, active)
        if pieces and pieces[-1].people == d.people and pieces[-1].decided_by == d.decided_by:
            last = pieces[-1]
            pieces[-1] = Piece(last.start, b, last.people, last.decided_by)
        else:
            pieces.append(Piece(a, b, d.people, d.decided_by))
    return pieces


def gaps(
    shape: ScheduleShape, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The stretches of [start, end) with nobody on call."""
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for p in final_schedule(shape, start, end):
        if p.people:
            continue
        if out and out[-1][1] == p.start:
            out[-1] = (out[-1][0], p.end)
        else:
            out.append((p.start, p.end))
    return out
