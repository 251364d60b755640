"""Human incident IDs from a template and a never-reused counter per prefix."""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.db import PreparedStatement
from vigil.incidents.models import IdSequence

__all__ = [
    "advance_sequence",
    "ensure_sequence_at_least",
    "next_human_id",
    "render_id",
    "scope_of",
    "template_pattern",
]


class _SeqMark:
    def __format__(self, spec: str) -> str:
        return "#"


def scope_of(template: str, when: dt.datetime) -> str:
    """Return the counter scope: the template rendered with the sequence left out."""
    return template.format(date=when, seq=_SeqMark())


def render_id(template: str, when: dt.datetime, seq: int) -> str:
    """Render a human ID."""
    return template.format(date=when, seq=seq)


def template_pattern(template: str, when: dt.datetime) -> re.Pattern[str]:
    """Return a regex matching IDs of ``template`` on ``when``'s date, capturing the counter."""
    parts = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name == "seq":
            parts.append(r"(\d+)")
        elif name == "date":
            parts.append(re.escape(format(when, spec or "")))
    return re.compile("^" + "".join(parts) + "$")


_UPSERTS: dict[str, PreparedStatement] = {}


def _upsert(dialect: str) -> PreparedStatement:
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = IdSequence.__table__
        ins: Any = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        ins = ins.values(scope=bindparam("scope"), value=bindparam("start"))
        # One statement that both creates and bumps the counter: the row lock (PostgreSQL)
        # or the database write lock (SQLite) serializes concurrent writers.
        stmt = PreparedStatement(
            ins.on_conflict_do_update(
                index_elements=[table.c.scope],
                set_={"value": table.c.value + bindparam("step")},
            ).returning(table.c.value)
        )
        _UPSERTS[dialect] = stmt
    return stmt


def advance_sequence(*, session: Session, scope: str, step: int = 1) -> int:
    """Advance the counter of ``scope`` by ``step`` and return its new value."""
    conn = session.connection()
    stmt = _upsert(conn.dialect.name)
    row = stmt.execute(conn, {"scope": scope, "start": step, "step": step}).fetchone()
    return int(row[0])


def next_human_id(*, session: Session, template: str, when: dt.datetime) -> str:
    """Reserve and return the next human ID for an incident detected at ``when``."""
    seq = advance_sequence(session=session, scope=scope_of(template, when))
    return render_id(template, when, seq)


def ensure_sequence_at_least(*, session: Session, scope: str, value: int) -> None:
    """Move the counter of ``scope`` up to ``value`` so imported IDs are never handed out."""
    current = session.execute(
        select(IdSequence.value).where(IdSequence.scope == scope)
    ).scalar_one_or_none()
    if current is None:
        advance_sequence(session=session, scope=scope, step=value)
    elif current < value:
        advance_sequence(session=session, scope=scope, step=value - current)
