"""Statements compiled once and run on the raw DBAPI cursor, for hot paths only.

SQLAlchemy's per-execution bookkeeping costs more than SQLite's own work for a
small INSERT; the library's ``log_incident`` runs three of them per call. A
:class:`PreparedStatement` keeps Core as the single description of the SQL
and of each column's type conversion (``TypeEngine.bind_processor``) but
executes with the driver directly, inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

__all__ = ["PreparedStatement", "insert_all_columns"]


def insert_all_columns(table: Any) -> Any:
    """Return ``INSERT INTO table`` binding every column but ``id`` and the ones the database
    fills (generated columns, server defaults such as a transaction id)."""
    return insert(table).values(
        {
            c: bindparam(c.key)
            for c in table.c
            if c.key != "id" and c.computed is None and c.server_default is None
        }
    )


def _empty_json_first(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Serialize empty labels/details without a call into ``json`` (most events have none)."""

    def process(value: Any) -> Any:
        if value == {} and type(value) is dict:
            return "{}"
        return processor(value)

    return process


_MAX_BLOCK = 256  # rows per multi-row INSERT
# Binds per statement SQLite accepts (its default limit since 3.32; 999 before).
_MAX_BINDS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: dict[str, Callable[[Any], Any]]
    fixed: dict[str, Any]
    # SQLite INSERT ... VALUES (?, ...): the text of the same INSERT for n rows.
    multi_row: Callable[[int], str] | None = None


def _multi_row(sql: str) -> Callable[[int], str] | None:
    head, sep, group = sql.partition(" VALUES ")
    if not (sep and head.startswith("INSERT") and group.startswith("(") and group.endswith(")")):
        return None
    if ")" in group[:-1]:  # anything but one plain VALUES group (e.g. RETURNING)
        return None
    texts: dict[int, str] = {}

    def text(n: int) -> str:
        found = texts.get(n)
        if found is None:
            found = texts[n] = head + sep + ", ".join([group] * n)
        return found

    return text


class PreparedStatement:
    """A Core statement compiled once per dialect."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            # IN lists are expanded into one bind each, so the SQL text is final.
            done: Any = self.statement.compile(
                dialect=dialect, compile_kwargs={"render_postcompile": True}
            )
            processors = {}
            for name, bind in done.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    if dialect.name == "sqlite" and isinstance(bind.type, JSON):
                        processor = _empty_json_first(processor)
                    processors[name] = processor
            # Literal values in the statement (e.g. status='resolved', IN-list items) are
            # binds that already carry a value.
            fixed = {n: b.value for n, b in done.binds.items() if not b.required}
            for name, value in done.construct_params(_check=False).items():
                if name not in done.binds:
                    fixed[name] = value  # an expanded IN-list item, e.g. resource_1_1
            positional = bool(done.positional)
            names = tuple(done.positiontup or ()) if positional else tuple({*done.binds, *fixed})
            sql = str(done)
            multi = _multi_row(sql) if dialect.name == "sqlite" and positional else None
            compiled = _Compiled(sql, names, positional, processors, fixed, multi)
            self._by_dialect[dialect.name] = compiled
        return compiled

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run once per row of ``rows`` with the driver's ``executemany``; return the number
        of rows the statements changed (summed by both drivers)."""
        if not rows:
            return 0
        compiled = self._compile(conn.dialect)
        names = compiled.names
        if compiled.fixed:
            rows = [{**compiled.fixed, **row} for row in rows]
        get = itemgetter(*names)
        convert = [
            (i, compiled.processors[n]) for i, n in enumerate(names) if n in compiled.processors
        ]
        data: list[Any] = []
        for row in rows:
            values = list(get(row)) if len(names) > 1 else [get(row)]
            for i, process in convert:
                if values[i] is not None:
                    values[i] = process(values[i])
            data.append(
                tuple(values) if compiled.positional else dict(zip(names, values, strict=True))
            )
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(compiled.sql, data)
        return int(cursor.rowcount)

    def executemany_tuples(
        self, conn: Connection, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Like :meth:`executemany` for rows given as tuples in ``columns`` order (no dict
        per row: the ingest hot path writes a thousand event rows per batch)."""
        if not rows:
            return
        compiled = self._compile(conn.dialect)
        if compiled.fixed or set(columns) != set(compiled.names):
            raise ValueError(f"columns {columns} do not match the statement's binds")
        # Column by column: rows of a batch share values (a batch's times, empty labels),
        # so each distinct one is converted once.
        data_columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for i, name in enumerate(columns):
            process = compiled.processors.get(name)
            if process is not None:
                done: dict[Any, Any] = {}
                converted: list[Any] = []
                for value in data_columns[i]:
                    if value is None:
                        converted.append(None)
                        continue
                    key = id(value)
                    out = done.get(key)
                    if out is None:
                        out = done[key] = process(value)
                    converted.append(out)
                data_columns[i] = converted
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if not compiled.positional:
            data = [dict(zip(columns, row, strict=True)) for row in zip(*data_columns, strict=True)]
            cursor.executemany(compiled.sql, data)
            return
        ordered = [data_columns[columns.index(n)] for n in compiled.names]
        if compiled.multi_row is None:
            cursor.executemany(compiled.sql, list(zip(*ordered, strict=True)))
            return
        # SQLite: one INSERT per block of 2**k rows binds and steps a third faster than a
        # step per row; power-of-two blocks keep the set of statement texts (and so the
        # driver's statement cache) small.
        flat = [value for row in zip(*ordered, strict=True) for value in row]
        width, start, left = len(compiled.names), 0, len(rows)
        cap = 1 << (min(_MAX_BLOCK, _MAX_BINDS // width).bit_length() - 1)
        while left:
            block = min(cap, 1 << (left.bit_length() - 1))
            cursor.execute(compiled.multi_row(block), flat[start * width : (start + block) * width])
            start, left = start + block, left - block

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run with ``params`` in ``conn``'s transaction; return the DBAPI cursor."""
        compiled = self._compile(conn.dialect)
        procs = compiled.processors
        if compiled.fixed:
            params = {**compiled.fixed, **params}
        values = {
            name: (procs[name](params[name]) if name in procs else params[name])
            for name in compiled.names
        }
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if compiled.positional:
            cursor.execute(compiled.sql, tuple(values[n] for n in compiled.names))
        else:
            cursor.execute(compiled.sql, values)
        return cursor
