"""The CLI's one output layer: tables for people, plain columns for pipes, JSON on request.

- On a terminal, a table is drawn to the terminal's width: short columns (IDs, states,
  times) never wrap or truncate, long text wraps inside its column.
- Piped or redirected, the same table is plain text: a header line, then one line per row,
  columns padded with two spaces, nothing truncated or wrapped (``grep`` and ``awk`` work).
- An empty table prints ``(none)``; a missing value prints ``-``.
- Every command that lists or shows takes ``--json`` (:data:`JsonFlag`): JSON with RFC 3339
  UTC times, for scripts.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer

from vigil.formats import duration, figure, instant, label

__all__ = ["JsonFlag", "print_fields", "print_records", "print_table", "text_of"]

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON (times in RFC 3339, UTC) instead of text.")
]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    """Control characters a value may carry (an escape sequence typed into a title) shown as
    ``\\x1b``, never sent to the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def text_of(value: Any) -> str:
    """Any value as people read it: labels as key=value, lists with commas, times in UTC."""
    if isinstance(value, str):
        return _visible(value)
    if isinstance(value, dt.datetime):
        return instant(value)
    if isinstance(value, dict):
        shown = [f"{k}={text_of(v)}" for k, v in value.items() if v not in (None, "", [], {})]
        return ", ".join(shown) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(text_of(v) for v in value) or "-"
    if hasattr(value, "model_dump"):
        return text_of(value.model_dump())
    return _visible(figure(value))


def _cell(value: Any) -> str:
    return text_of(value)


def _record(row: Any) -> dict[str, Any]:
    return dict(row.model_dump() if hasattr(row, "model_dump") else row)


def print_records(rows: Sequence[Any], columns: Sequence[str] | None = None, **kw: Any) -> None:
    """Print models (or dicts) as a table, one column per field (or per ``columns``); a field
    ending in ``_seconds`` reads as a duration."""
    records = [_record(r) for r in rows]
    names = list(columns or (records[0] if records else []))
    print_table(
        [label(n) for n in names] or ["(none)"],
        [
            [
                duration(r.get(n)) if n.endswith("_seconds") and r.get(n) is not None
                else text_of(r.get(n))
                for n in names
            ]
            for r in records
        ],
        **kw,
    )  # fmt: skip


def _to_terminal() -> bool:
    return sys.stdout.isatty()


def print_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    wrap: Sequence[str] = (),
) -> None:
    """Print rows under ``headers``. ``wrap`` names the columns that may wrap on a terminal
    (by default the last one); values that are not text go through :func:`figure`."""
    cells = [[_cell(v) for v in row] for row in rows]
    if not _to_terminal():
        if title:
            typer.echo(f"{title}:")
        if not cells:
            typer.echo("(none)")
            return
        flat = [[c.replace("\n", "; ") for c in row] for row in cells]
        widths = [max(len(h), *(len(r[i]) for r in flat)) for i, h in enumerate(headers)]
        for line in (list(headers), *flat):
            typer.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if not cells:
        if title:
            typer.echo(f"{title}:")
        typer.echo("(none)")
        return
    wrapping = set(wrap) or {headers[-1]}
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, no_wrap=header not in wrapping, overflow="fold")
    for row in cells:
        table.add_row(*(Text(c) for c in row))  # Text: a typed "[bold]" is not markup
    Console(highlight=False).print(table)


def print_fields(fields: Iterable[tuple[str, Any]]) -> None:
    """Print ``name  value`` lines (a record), skipping empty values; a name ending in
    ``_seconds`` reads as a duration."""
    shown = [
        (k, duration(v) if k.endswith("_seconds") and isinstance(v, int | float) else _cell(v))
        for k, v in fields
        if v not in (None, "", [], {})
    ]
    width = max((len(k) for k, _ in shown), default=0)
    for key, value in shown:
        lines = value.split("\n")
        typer.echo(f"{key.ljust(width)}  {lines[0]}")
        for more in lines[1:]:
            typer.echo(f"{'':{width}}  {more}")
