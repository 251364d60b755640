"""The schedule algebra against an independent minute-by-minute simulation across DST.

The simulation never converts a wall-clock time into an instant. It walks the minutes,
reads each one's wall clock, and applies the written rules directly: a shift or window has
started once the wall clock has read its start time or later (first occurrence; a skipped
time starts when the clocks jump); a window has ended once the wall clock has read its end
time or later and will never read the end time or earlier again (last occurrence).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from vigil.oncall.final import Override, ScheduleShape, final_schedule, gaps, on_call_at
from vigil.oncall.rotation import Restriction, Rotation
from vigil.oncall.wallclock import instant, local, zone

UTC = dt.UTC
MIN = dt.timedelta(minutes=1)
#: (zone, a DST change in 2026): forward and back in each, Lord Howe by 30 minutes.
CHANGES = [
    ("Europe/Berlin", dt.date(2026, 3, 29)),
    ("Europe/Berlin", dt.date(2026, 10, 25)),
    ("America/New_York", dt.date(2026, 3, 8)),
    ("America/New_York", dt.date(2026, 11, 1)),
    ("Australia/Lord_Howe", dt.date(2026, 4, 5)),
    ("Australia/Lord_Howe", dt.date(2026, 10, 4)),
]
PEOPLE = ("ann", "bob", "cy")


def _simulate(shape_spec: dict, start: dt.datetime, minutes: int) -> list[tuple[str, ...]]:
    tz = zone(shape_spec["tz"])
    pad = 24 * 60
    walls = [local(start + (m - pad) * MIN, tz) for m in range(minutes + 2 * pad)]
    prefix_max = []
    top = walls[0]
    for w in walls:
        top = max(top, w)
        prefix_max.append(top)
    later_min = [dt.datetime.max] * len(walls)  # min over strictly later minutes
    low = dt.datetime.max
    for m in range(len(walls) - 1, -1, -1):
        later_min[m] = low
        low = min(low, walls[m])

    def layer_person(layer: dict, m: int) -> str | None:
        reached = prefix_max[m]
        if reached < layer["handoff"]:
            return None
        k = int((reached - layer["handoff"]) // layer["length"])
        if layer["restrictions"]:
            inside = False
            today = walls[m].date()
            for d in range(-2, 2):
                day = today + dt.timedelta(days=d)
                for days, s, e in layer["restrictions"]:
                    if day.weekday() not in days:
                        continue
                    begin = dt.datetime.combine(day, s)
                    finish = dt.datetime.combine(day + dt.timedelta(days=1) if e <= s else day, e)
                    ended = reached >= finish and later_min[m] > finish
                    if reached >= begin and not ended:
                        inside = True
            if not inside:
                return None
        people = layer["people"]
        return people[k % len(people)]

    out = []
    for i in range(minutes):
        m = i + pad
        at = start + i * MIN
        chosen = None
        for n in range(len(shape_spec["layers"]) - 1, -1, -1):
            person = layer_person(shape_spec["layers"][n], m)
            if person is None:
                continue
            gone = False
            for kind, a, b, who, replaces in shape_spec["overrides"]:
                if a <= at < b:
                    if kind == "replace" and replaces == person:
                        person = who
                    elif kind == "remove" and who == person:
                        gone = True
            if not gone:
                chosen = person
                break
        people = [chosen] if chosen else []
        for kind, a, b, who, _ in shape_spec["overrides"]:
            if kind == "add" and a <= at < b and who not in people:
                people.append(who)
        out.append(tuple(people))
    return out


def _shape(spec: dict) -> ScheduleShape:
    tz = zone(spec["tz"])
    layers = tuple(
        Rotation(
            f"layer{n}",
            tz,
            tuple(layer["people"]),
            layer["handoff"],
            layer["length"],
            tuple(Restriction(frozenset(d), s, e) for d, s, e in layer["restrictions"]),
        )
        for n, layer in enumerate(spec["layers"])
    )
    overrides = tuple(
        Override(i, kind, a, b, who, replaces)
        for i, (kind, a, b, who, replaces) in enumerate(spec["overrides"])
    )
    return ScheduleShape("s", layers, overrides)


quarter = st.integers(0, 95).map(lambda q: dt.time(q // 4, q % 4 * 15))
near_change = st.sampled_from([1, 2, 3]).map(lambda h: dt.time(h)) | st.sampled_from(
    [dt.time(1, 30), dt.time(2, 15), dt.time(2, 30), dt.time(2, 45)]
)
times = near_change | quarter
lengths = st.sampled_from(
    [dt.timedelta(hours=h) for h in (1, 2, 3, 8, 12)]
    + [dt.timedelta(minutes=90), dt.timedelta(days=1), dt.timedelta(days=2), dt.timedelta(weeks=1)]
)


@st.composite
def specs(draw: st.DrawFn) -> dict:
    tz, change = draw(st.sampled_from(CHANGES))
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        day = change + dt.timedelta(days=draw(st.integers(-3, 1)))
        layers.append(
            {
                "people": draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3)),
                "handoff": dt.datetime.combine(day, draw(times)),
                "length": draw(lengths),
                "restrictions": draw(
                    st.lists(
                        st.tuples(
                            st.frozensets(st.integers(0, 6), min_size=1), times, times
                        ).filter(lambda r: r[1] != r[2]),
                        max_size=2,
                    )
                ),
            }
        )
    base = dt.datetime.combine(change, dt.time(), tzinfo=UTC) - dt.timedelta(days=1)
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        a = base + dt.timedelta(minutes=15 * draw(st.integers(0, 190)))
        b = a + dt.timedelta(minutes=15 * draw(st.integers(1, 40)))
        kind = draw(st.sampled_from(["add", "remove", "replace"]))
        who = draw(st.sampled_from((*PEOPLE, "dee")))
        overrides.append(
            (kind, a, b, who, draw(st.sampled_from(PEOPLE)) if kind == "replace" else None)
        )
    return {"tz": tz, "change": change, "layers": layers, "overrides": overrides}


def _expand(shape: ScheduleShape, start: dt.datetime, minutes: int) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for piece in final_schedule(shape, start, start + minutes * MIN):
        length = int((piece.end - piece.start) / MIN)
        assert piece.start == start + len(out) * MIN, "pieces must be contiguous on minutes"
        out.extend([piece.people] * length)
    return out


BERLIN_BACK = {
    "tz": "Europe/Berlin",
    "change": dt.date(2026, 10, 25),
    "layers": [
        {
            "people": ["ann", "bob"],
            "handoff": dt.datetime(2026, 10, 24, 2, 30),
            "length": dt.timedelta(hours=1),
            "restrictions": [(frozenset(range(7)), dt.time(1, 0), dt.time(2, 0))],
        }
    ],
    "overrides": [],
}


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs())
@example(spec=BERLIN_BACK)
def test_final_schedule_and_on_call_at_match_a_minute_by_minute_simulation(spec: dict) -> None:
    start = dt.datetime.combine(spec["change"], dt.time(), tzinfo=UTC) - dt.timedelta(days=1)
    minutes = 3 * 24 * 60
    shape = _shape(spec)
    expected = _simulate(spec, start, minutes)
    assert _expand(shape, start, minutes) == expected
    for i in range(0, minutes, 37):
        assert on_call_at(shape, start + i * MIN).people == expected[i], start + i * MIN
    holes = gaps(shape, start, start + minutes * MIN)
    assert sum(int((b - a) / MIN) for a, b in holes) == sum(1 for e in expected if not e)


def test_the_written_rules_on_each_kind_of_wall_clock_time() -> None:
    berlin = zone("Europe/Berlin")
    # Skipped (clocks jump 02:00 → 03:00): the moment of the jump.
    assert instant(dt.datetime(2026, 3, 29, 2, 30), berlin) == dt.datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    # Repeated (03:00 → 02:00): a start is the first occurrence, a window's end the last.
    assert instant(dt.datetime(2026, 10, 25, 2, 30), berlin) == dt.datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert instant(dt.datetime(2026, 10, 25, 2, 30), berlin, last=True) == dt.datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
    lord_howe = zone("Australia/Lord_Howe")  # 02:00 → 02:30
    assert instant(dt.datetime(2026, 10, 4, 2, 15), lord_howe) == dt.datetime(
        2026, 10, 3, 15, 30, tzinfo=UTC
    )


def test_a_daily_rotation_hands_off_at_the_same_wall_clock_time_across_a_change() -> None:
    ny = zone("America/New_York")
    rotation = Rotation(
        "daily", ny, ("ann", "bob"), dt.datetime(2026, 3, 6, 9), dt.timedelta(days=1)
    )
    before = dt.datetime(2026, 3, 7, 14, tzinfo=UTC)  # 09:00 EST
    after = dt.datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT
    assert rotation.person_at(before) == "bob" and rotation.person_at(before - MIN) == "ann"
    assert rotation.person_at(after) == "bob" and rotation.person_at(after - MIN) == "ann"


def test_a_removed_primary_falls_through_to_the_lower_layer_and_pieces_name_the_decider() -> None:
    tz = zone("UTC")
    secondary = Rotation("secondary", tz, ("bob",), dt.datetime(2026, 1, 1), dt.timedelta(weeks=1))
    primary = Rotation("primary", tz, ("ann",), dt.datetime(2026, 1, 1), dt.timedelta(weeks=1))
    holiday = Override(
        7, "remove", dt.datetime(2026, 1, 2, tzinfo=UTC), dt.datetime(2026, 1, 3, tzinfo=UTC), "ann"
    )
    shape = ScheduleShape("s", (secondary, primary), (holiday,))
    pieces = final_schedule(
        shape, dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 1, 4, tzinfo=UTC)
    )
    assert [(p.people, p.decided_by) for p in pieces] == [
        (("ann",), ("primary",)),
        (("bob",), ("secondary",)),
        (("ann",), ("primary",)),
    ]


def test_overlapping_imported_events_the_later_start_wins_and_gaps_stay_empty() -> None:
    from vigil.oncall.rotation import ImportedLayer, Segment

    def at(h: int) -> dt.datetime:
        return dt.datetime(2026, 12, 7, h, tzinfo=UTC)

    layer = ImportedLayer(
        "cal",
        (
            Segment(at(8), at(18), "ann", "cal"),
            Segment(at(12), at(14), "bob", "cal"),
            Segment(at(20), at(22), "cy", "cal"),
        ),
    )
    assert [(p.start.hour, p.end.hour, p.person) for p in layer.pieces] == [
        (8, 12, "ann"),
        (12, 14, "bob"),
        (14, 18, "ann"),
        (20, 22, "cy"),
    ]
    assert layer.person_at(at(19)) is None and layer.person_at(at(13)) == "bob"
