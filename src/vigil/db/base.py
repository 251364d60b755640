"""Declarative base, naming convention and portable column types."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from typing import Any

from sqlalchemy import DateTime, Float, Integer, MetaData, bindparam, case
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

__all__ = [
    "INCIDENTS_CHANGED",
    "Base",
    "UTCDateTime",
    "elapsed_bucket",
    "epoch_diff",
    "epoch_seconds",
    "later_of",
    "utcnow",
    "uuid7",
]

# Named constraints let Alembic batch migrations alter tables on SQLite and PostgreSQL alike.
#: Set in ``session.info`` by the one incident writer; the Store's commit then calls its
#: ``after_change`` hooks (which wake notification delivery).
INCIDENTS_CHANGED = "vigil.incidents_changed"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every Vigil model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def uuid7() -> uuid.UUID:
    """Return a time-ordered UUID (RFC 9562 version 7: 48-bit Unix milliseconds, then random).

    Incidents get these rather than random version 4 UUIDs so the unique index on ``uuid``
    grows at its end: random keys dirtied a different index page for every new incident.
    """
    ms = time.time_ns() // 1_000_000
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10))
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend.

    SQLite has no time zone type: values are stored as naive UTC text, which
    sorts correctly; PostgreSQL gets ``timestamptz``. Naive input is refused
    so local times never slip in unconverted.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Pick the column type per backend."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(DateTime(timezone=False))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Convert an aware datetime to what the backend stores."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Vigil stores aware UTC datetimes only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, format straight to SQLAlchemy's DATETIME text (hot in bulk ingestion)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # Rows of a batch share their datetimes (received_at, "now"): format each one once.
        # One (value, text) pair, replaced whole, so threads never see half of one.
        last: list[tuple[dt.datetime | None, str]] = [(None, "")]

        def process(value: dt.datetime | None) -> str | None:
            if value is None:
                return None
            seen, text = last[0]
            if value is seen:
                return text
            if value.tzinfo is None:
                raise ValueError("naive datetime given; Vigil stores aware UTC datetimes only")
            text = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            last[0] = (value, text)
            return text

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite, parse the stored text with ``fromisoformat`` (C speed)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | dt.datetime | None) -> dt.datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            return (
                value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
            )

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return stored values as aware UTC datetimes."""
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


class elapsed_bucket(FunctionElement[int]):  # noqa: N801 - reads like the SQL it emits
    """``floor((column - start) / width_seconds)``: the index of a fixed-width time bucket."""

    type = Integer()
    inherit_cache = True


@compiles(elapsed_bucket, "sqlite")
def _elapsed_bucket_sqlite(element: elapsed_bucket, compiler: Any, **kw: Any) -> str:
    col, start, width = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST((julianday({col}) - julianday({start})) * 86400.0 / {width} AS INTEGER)"


@compiles(elapsed_bucket, "postgresql")
def _elapsed_bucket_pg(element: elapsed_bucket, compiler: Any, **kw: Any) -> str:
    col, start, width = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(extract(epoch FROM ({col} - {start})) / {width}) AS INTEGER)"


class epoch_seconds(FunctionElement[float]):  # noqa: N801 - reads like the SQL it emits
    """Seconds since 1970 of a timestamp column, rounded to the millisecond, per backend."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (col,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"round((julianday({col}) - 2440587.5) * 86400.0, 3)"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (col,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"round(CAST(extract(epoch FROM {col}) AS numeric), 3)::float8"


class epoch_diff(FunctionElement[float]):  # noqa: N801 - reads like the SQL it emits
    """Seconds from the second timestamp to the first, rounded to the millisecond, per backend.

    Deterministic on both backends, so it can define generated columns and indexes.
    """

    type = Float()
    inherit_cache = True


@compiles(epoch_diff, "sqlite")
def _diff_sqlite(element: epoch_diff, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


@compiles(epoch_diff, "postgresql")
def _diff_pg(element: epoch_diff, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"round(CAST(extract(epoch FROM {later} - {earlier}) AS numeric), 3)::float8"


def later_of(column: Any, param: str) -> Any:
    """``column`` moved to ``:param`` only if that is later: never backwards."""
    value = bindparam(param, type_=column.type)
    return case((column > value, column), else_=value)
