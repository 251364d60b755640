"""The change feed: append-only logs read in commit order by named followers."""

from vigil.feed.service import (
    FEEDS,
    Lag,
    Position,
    advance,
    follower_lag,
    head,
    position_of,
    since,
)

__all__ = ["FEEDS", "Lag", "Position", "advance", "follower_lag", "head", "position_of", "since"]
