"""Full-text search over incidents: the index the writer keeps, ranked queries, highlights.

Each incident has one row in ``incident_search`` holding three texts: its title, its other
text (description, root cause, resolution and every note) and its postmortem's text. On
SQLite the table is FTS5 (rowid = the incident's id, BM25 ranking with the title weighted
highest); on PostgreSQL a generated, weighted ``tsvector`` with a GIN index (``ts_rank_cd``).
Only the incidents writer (:mod:`vigil.incidents.changes`) and the postmortem service (through
:func:`index_postmortem`) write it.

A query is split into words; every word must match (the last one also as a prefix, so a
search box finds "datab" while it is being typed). Matches are marked in the returned
title and snippet with two private-use characters that :func:`marked_html` turns into
``<mark>`` around HTML-escaped text, so highlighting never lets markup through.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.orm import Session

from vigil.db import PreparedStatement

__all__ = [
    "MARK_END",
    "MARK_START",
    "SearchHit",
    "index_incidents",
    "index_new_incident",
    "index_postmortem",
    "marked_html",
    "matching_ids_sql",
    "search_incidents",
]

MARK_START = "\ue000"
MARK_END = "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKS = str.maketrans("", "", MARK_START + MARK_END)
#: The most text one incident contributes (notes included); the rest is not searchable.
MAX_INDEXED_CHARS = 400_000


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One incident that matched, best first, with its matches marked."""

    incident_id: int
    rank: float
    title: str
    snippet: str


def _clean(value: str | None) -> str:
    return (value or "").translate(_MARKS)[:MAX_INDEXED_CHARS]


def _words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)][:16]


def _fts5_query(words: Sequence[str]) -> str:
    # Each word quoted as a phrase: FTS5's operators typed by a user stay plain words.
    parts = [f'"{w}"' for w in words]
    parts[-1] += "*"
    return " ".join(parts)


def _tsquery(words: Sequence[str]) -> str:
    parts = [f"'{w}'" for w in words]
    parts[-1] += ":*"
    return " & ".join(parts)


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _upsert(conn: Connection, rows: list[dict[str, object]]) -> None:
    if _is_postgres(conn):
        conn.execute(
            text(
                "INSERT INTO incident_search (incident_id, title, body) VALUES (:pk, :title, :body) "
                "ON CONFLICT (incident_id) DO UPDATE SET title = excluded.title, body = excluded.body"
            ),
            rows,
        )
        return
    # FTS5 has no upsert; the postmortem text is carried over from the old row.
    conn.execute(
        text(
            "INSERT OR REPLACE INTO incident_search (rowid, title, body, postmortem) VALUES "
            "(:pk, :title, :body, coalesce((SELECT postmortem FROM incident_search "
            "WHERE rowid = :pk), ''))"
        ),
        rows,
    )


_NEW_ROW = {
    "postgresql": PreparedStatement(
        text("INSERT INTO incident_search (incident_id, title, body) VALUES (:pk, :title, :body)")
    ),
    "sqlite": PreparedStatement(
        text(
            "INSERT INTO incident_search (rowid, title, body, postmortem) "
            "VALUES (:pk, :title, :body, '')"
        )
    ),
}


def index_new_incident(conn: Connection, pk: int, title: str, body: str) -> None:
    """Index an incident the writer has just inserted (a prepared statement: this runs for
    every incident ingestion or the library opens)."""
    row = {"pk": pk, "title": _clean(title), "body": _clean(body)}
    _NEW_ROW[conn.dialect.name].execute(conn, row)


def index_incidents(conn: Connection, ids: Iterable[int]) -> None:
    """Rebuild the title and text of incidents whose text or notes changed."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    rows = conn.execute(
        text(
            "SELECT id, title, description, root_cause, resolution FROM incidents WHERE id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": wanted},
    ).all()
    notes: dict[int, list[str]] = {}
    for incident_id, message in conn.execute(
        text(
            "SELECT incident_id, message FROM timeline_entries WHERE kind = 'note' "
            "AND incident_id IN :ids ORDER BY id"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": wanted},
    ):
        notes.setdefault(incident_id, []).append(message)
    _upsert(
        conn,
        [
            {
                "pk": pk,
                "title": _clean(title),
                "body": _clean(
                    " ".join([description or "", root or "", resolution or "", *notes.get(pk, [])])
                ),
            }
            for pk, title, description, root, resolution in rows
        ],
    )


def index_postmortem(*, session: Session, incident_id: int, texts: Iterable[str]) -> None:
    """Replace the postmortem text indexed for an incident."""
    body = _clean(" ".join(t for t in texts if t))
    conn = session.connection()
    column = "incident_id" if _is_postgres(conn) else "rowid"
    conn.execute(
        text(f"UPDATE incident_search SET postmortem = :body WHERE {column} = :pk"),
        {"body": body, "pk": incident_id},
    )


def matching_ids_sql(session: Session, query: str) -> tuple[str, dict[str, str]] | None:
    """Return SQL selecting the ids of incidents matching ``query`` (None: no words in it)."""
    words = _words(query)
    if not words:
        return None
    if _is_postgres(session.connection()):
        return (
            "SELECT incident_id FROM incident_search WHERE document @@ to_tsquery('english', :fts)",
            {"fts": _tsquery(words)},
        )
    return "SELECT rowid FROM incident_search WHERE incident_search MATCH :fts", {
        "fts": _fts5_query(words)
    }


_SQLITE_SEARCH = text(
    "SELECT rowid, bm25(incident_search, 10.0, 2.0, 1.0) AS rank, "
    f"highlight(incident_search, 0, '{MARK_START}', '{MARK_END}'), "
    f"snippet(incident_search, -1, '{MARK_START}', '{MARK_END}', '…', 24) "
    "FROM incident_search WHERE incident_search MATCH :fts ORDER BY rank LIMIT :limit OFFSET :offset"
)
_PG_SEARCH = text(
    "WITH q AS (SELECT to_tsquery('english', :fts) AS query), "
    "best AS (SELECT s.incident_id, s.title, s.body, s.postmortem, "
    "ts_rank_cd(s.document, q.query) AS rank FROM incident_search s, q "
    "WHERE s.document @@ q.query ORDER BY rank DESC, s.incident_id DESC "
    "LIMIT :limit OFFSET :offset) "
    "SELECT best.incident_id, best.rank, "
    f"ts_headline('english', best.title, q.query, 'StartSel={MARK_START}, StopSel={MARK_END}, "
    "HighlightAll=true'), "
    "ts_headline('english', left(best.body || ' ' || best.postmortem, 20000), q.query, "
    f"'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=10, MaxFragments=2') "
    "FROM best, q ORDER BY best.rank DESC, best.incident_id DESC"
)


def search_incidents(
    *, session: Session, query: str, limit: int = 20, offset: int = 0
) -> list[SearchHit]:
    """Return the incidents best matching ``query``, ranked, with their matches marked."""
    words = _words(query)
    if not words:
        return []
    conn = session.connection()
    if _is_postgres(conn):
        stmt, fts = _PG_SEARCH, _tsquery(words)
    else:
        stmt, fts = _SQLITE_SEARCH, _fts5_query(words)
    rows = conn.execute(stmt, {"fts": fts, "limit": limit, "offset": offset}).all()
    return [SearchHit(int(r[0]), float(r[1]), r[2] or "", r[3] or "") for r in rows]


def marked_html(value: str) -> Markup:
    """Escape ``value`` for HTML and turn the match markers into ``<mark>`` elements."""
    out: list[str] = []
    open_ = False
    for part in re.split(f"([{MARK_START}{MARK_END}])", value):
        if part == MARK_START and not open_:
            out.append("<mark>")
            open_ = True
        elif part == MARK_END and open_:
            out.append("</mark>")
            open_ = False
        elif part not in (MARK_START, MARK_END):
            out.append(html.escape(part, quote=True))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))
