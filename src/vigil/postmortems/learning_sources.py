"""Other domains' parts of the learning report, as ``module:function`` names.

The composition roots (the app and the CLI) register them; the report loads them when it is
made, so postmortems imports none of those domains (on-call adds paging statistics).
"""

from __future__ import annotations

__all__ = ["LEARNING_SOURCES", "add_learning_source"]

LEARNING_SOURCES: list[str] = []


def add_learning_source(name: str) -> None:
    """Add ``module:function`` (called with session, start, end; returns report keys)."""
    if name not in LEARNING_SOURCES:
        LEARNING_SOURCES.append(name)
