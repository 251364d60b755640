"""Followers read every committed change once, in an order no later commit can precede."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_incident
from vigil.db.store import Store
from vigil.feed import Position, advance, follower_lag, head, position_of, since
from vigil.incidents import changes, service
from vigil.incidents.models import TimelineEntry

LOG = "timeline_entries"


def _note(session: Session, store: Store, ref: str, text: str) -> int:
    incident = service.get_incident(session=session, ref=ref)
    applied = changes.apply_change(
        session=session, change=changes.note(incident.id, text, actor="t")
    )
    assert applied.entry_id is not None
    return applied.entry_id


def _follow(store: Store, follower: str, *, commit: bool = True) -> list[str]:
    """One pass of a follower: the messages past its position, then the new position."""
    with store.write() as session:
        low = position_of(session=session, follower=follower, log=LOG)
        high = head(session=session, log=LOG)
        window = since(session=session, log=LOG, low=low, high=high)
        e = TimelineEntry
        rows = session.execute(select(e.message).where(window).order_by(e.txid, e.id)).scalars()
        messages = list(rows)
        if commit:
            advance(session=session, follower=follower, log=LOG, to=high)
    return messages


def test_a_follower_resumes_where_it_committed(store: Store) -> None:
    ref = make_incident(store)
    assert _follow(store, "f") == _follow(store, "g") != []  # both start at the start
    with store.write() as session:
        _note(session, store, ref, "one")
    assert _follow(store, "f", commit=False) == ["one"]  # crashed before storing its position
    assert _follow(store, "f") == ["one"]  # so it reads it again: at least once
    assert _follow(store, "f") == []
    with store.read() as session:
        lags = {x.follower: x.rows for x in follower_lag(session=session)}
    assert lags == {"f": 0, "g": 1}  # g has not read "one" yet


@pytest.mark.parametrize("backend", ["postgresql"])
def test_commits_out_of_id_order_are_neither_missed_nor_read_twice(store: Store) -> None:
    ref, other = make_incident(store), make_incident(store, title="Another")
    _follow(store, "f")
    # Two incidents: text changes to one incident wait for each other (its search row).
    with store.write() as early:  # draws the lower id and commits last
        first_id = _note(early, store, ref, "early")
        with store.write() as late:
            second_id = _note(late, store, other, "late")
        assert second_id > first_id
        # "late" has committed, "early" has not: reading id > position now would pass
        # first_id for ever. The feed holds its head below the running transaction.
        assert _follow(store, "f") == []
        with store.read() as session:
            assert head(session=session, log=LOG) < Position(2**62, 0)
    assert _follow(store, "f") == ["early", "late"]
    assert _follow(store, "f") == []
