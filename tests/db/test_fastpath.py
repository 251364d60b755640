"""Prepared statements on the raw driver: the rows written are exactly the rows given."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from vigil.db.store import Store
from vigil.ingest.models import Event
from vigil.ingest.service import _EVENT_COLUMNS, _INSERT_EVENT

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("count", [1, 7, 256, 1003])
def test_tuples_insert_every_row_in_order_with_conversions(store: Store, count: int) -> None:
    shared = T0 + dt.timedelta(hours=1)  # one object in many rows, converted once
    rows = [
        (
            shared,
            T0 + dt.timedelta(seconds=i),
            "events",
            "bench",
            f"r{i}",
            "ffmpeg",
            None if i % 2 else f"h{i}",
            "stuck",
            None,
            "",
            f"r{i}|ffmpeg",
            {} if i % 3 else {"zone": str(i)},
            {},
            None,
            "recorded",
        )
        for i in range(count)
    ]
    with store.write() as session:
        _INSERT_EVENT.executemany_tuples(session.connection(), _EVENT_COLUMNS, rows)
    with store.read() as session:
        got = session.execute(
            select(
                Event.resource, Event.occurred_at, Event.received_at, Event.host, Event.labels
            ).order_by(Event.id)
        ).all()
    assert [tuple(g) for g in got] == [(r[4], r[1], r[0], r[6], r[11]) for r in rows]


def test_tuples_refuse_columns_the_statement_does_not_bind(store: Store) -> None:
    with store.write() as session, pytest.raises(ValueError, match="do not match"):
        _INSERT_EVENT.executemany_tuples(session.connection(), ("resource",), [("r",)])
