"""The change feed: append-only logs read in commit order by named followers.

Other packages import these names from here (a test holds them to it); each loads on first
use, so importing the package stays cheap (``vigil --help`` loads no database code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.lazy import lazy_exports

if TYPE_CHECKING:
    from vigil.feed.service import (
        FEEDS,
        Lag,
        Position,
        advance,
        follower_lag,
        has_news,
        head,
        position_of,
        since,
    )

__all__ = [
    "FEEDS",
    "Lag",
    "Position",
    "advance",
    "follower_lag",
    "has_news",
    "head",
    "position_of",
    "since",
]

_EXPORTS = {
    "FEEDS": "service",
    "Lag": "service",
    "Position": "service",
    "advance": "service",
    "follower_lag": "service",
    "has_news": "service",
    "head": "service",
    "position_of": "service",
    "since": "service",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
