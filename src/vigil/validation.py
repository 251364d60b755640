"""Rules every input path shares: enumerated values and the range of instants Vigil stores."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)

from vigil.errors import InstantOutOfRangeError, ValidationError

__all__ = [
    "EARLIEST",
    "LATEST",
    "LONG_TEXT",
    "MAX_ID",
    "Instant",
    "LabelValue",
    "Labels",
    "PatchModel",
    "Records",
    "RowId",
    "ShortText",
    "Tags",
    "as_instant",
    "parse_instant",
    "require_name",
    "require_one_of",
    "rfc3339",
]

#: Instants outside these bounds are refused: converting them to UTC or adding a window to
#: them would overflow, and no incident or event happens there.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)


def rfc3339(value: dt.datetime) -> str:
    """Write an instant the one way Vigil writes them in JSON: UTC, RFC 3339, ending in Z."""
    utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return utc.isoformat().replace("+00:00", "Z")


def as_instant(value: dt.datetime, *, field: str | None = None) -> dt.datetime:
    """Return ``value`` in UTC (naive means UTC) or raise if it lies outside the stored range."""
    try:
        utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise InstantOutOfRangeError(
            f"{field + ' ' if field else ''}{value.isoformat()} is out of range: "
            "times must lie between 1900-01-01 and 9999-12-30 (UTC)",
            field=field,
        )
    return utc


_RELATIVE = re.compile(r"^(?:-\s*)?(\d{1,6})\s*(m|min|h|d|w|y)\s*(?:ago)?$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
INSTANT_FORMATS = (
    "ISO 8601, e.g. 2025-12-26 or 2025-12-26T14:30Z, or now, today, yesterday, 2h ago, -7d"
)


def parse_instant(text: str, *, field: str, now: dt.datetime | None = None) -> dt.datetime:
    """Read a time typed by a person: ISO 8601 (naive = UTC) or a relative form."""
    value = text.strip().lower()
    now = now or dt.datetime.now(dt.UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"now": now, "today": midnight, "yesterday": midnight - dt.timedelta(days=1)}
    if value in named:
        return named[value]
    relative = _RELATIVE.match(value)
    if relative:
        return as_instant(
            now - dt.timedelta(seconds=int(relative[1]) * _UNITS[relative[2]]), field=field
        )
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{field}: {text[:60]!r} is not a time; use {INSTANT_FORMATS}", field=field
        ) from None
    return as_instant(parsed, field=field)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def require_name(name: str, *, field: str = "name") -> str:
    """Return ``name`` if it is a short name (channels, schedules, layers, policies), else
    raise naming the field and what is allowed."""
    if not _NAME.match(name):
        raise ValidationError(
            f"{field}: 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit",
            field=field,
        )
    return name


#: The largest row id any backend stores (PostgreSQL's integer); larger ids cannot exist.
MAX_ID = 2**31 - 1
#: A row id in a path or query: a positive integer that fits the column.
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _iso_only(value: Any) -> Any:
    """Refuse numbers: pydantic would read ``0.5`` as seconds since 1970."""
    if isinstance(value, int | float) or (isinstance(value, str) and _reads_as_number(value)):
        raise ValueError("must be an ISO 8601 time, e.g. 2025-12-26 or 2025-12-26T14:30Z")
    return value


def _reads_as_number(text: str) -> bool:
    """True for any text Python reads as a number (``12``, ``-6.9e-126``, ``inf``)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


#: A datetime input: ISO 8601 with any offset, stored in UTC, within [EARLIEST, LATEST].
Instant = Annotated[dt.datetime, BeforeValidator(_iso_only), AfterValidator(as_instant)]


def require_one_of(
    canonical: str,
    allowed: Sequence[str],
    *,
    field: str,
    given: object = None,
    hint: str = "",
    shown: Sequence[str] | None = None,
) -> str:
    """Return ``canonical`` if it is in ``allowed``, else raise naming the field and the choices.

    ``given`` is what the user typed (shown in the message; default ``canonical``), ``shown``
    the choices to list when they differ from ``allowed`` (e.g. with aliases).
    """
    if canonical in allowed:
        return canonical
    choices = list(shown if shown is not None else allowed)
    typed = canonical if given is None else given
    raise ValidationError(
        f"{field} {typed!r} is not one of: {', '.join(choices)}{hint}", field=field, allowed=choices
    )


#: Bounded shapes of free-form maps and lists, the same on SQLite and PostgreSQL.
ShortText = Annotated[str, StringConstraints(max_length=200)]
LabelValue = Annotated[str, StringConstraints(max_length=500)]
Labels = Annotated[dict[ShortText, LabelValue], Field(max_length=64)]
Tags = Annotated[list[ShortText], Field(max_length=64)]
Records = Annotated[list[ShortText], Field(max_length=1000)]
#: Free text stored in TEXT columns (descriptions, root causes, notes).
LONG_TEXT = 100_000


class PatchModel(BaseModel):
    """A partial update: omitted fields stay, ``null`` clears only the fields in ``clearable``."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None and name in cls.model_fields and name not in cls.clearable:
                    raise ValidationError(
                        f"{name} cannot be null; omit it to leave it unchanged", field=name
                    )
        return data
