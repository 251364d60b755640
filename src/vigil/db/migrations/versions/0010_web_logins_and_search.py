"""Web logins (accounts with argon2 password hashes and roles, browser sessions, failed
logins) and the full-text search index over incidents.

The search index lives outside the ORM metadata: on SQLite it is an FTS5 table whose rowid
is the incident's id; on PostgreSQL a table with a generated, weighted ``tsvector`` and a
GIN index. Both hold the incident's title, its other text (description, root cause,
resolution, notes) and its postmortem's text, written by the incidents writer.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PG_INDEX = """
CREATE TABLE incident_search (
    incident_id integer PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    title text NOT NULL DEFAULT '',
    body text NOT NULL DEFAULT '',
    postmortem text NOT NULL DEFAULT '',
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', left(body, 200000)), 'B')
        || setweight(to_tsvector('english', left(postmortem, 200000)), 'C')
    ) STORED
)
"""

_NOTES = (
    "SELECT {agg}(t.message, {sep}) FROM timeline_entries t "
    "WHERE t.incident_id = i.id AND t.kind = 'note'"
)
_POSTMORTEM = (
    "SELECT p.summary || ' ' || p.problem_statement || ' ' || p.root_cause || ' ' "
    "|| CAST(p.sections AS {cast}) FROM postmortems p WHERE p.incident_id = i.id"
)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("updated_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_accounts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_web_sessions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"])
        batch_op.create_index(batch_op.f("ix_web_sessions_person_id"), ["person_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=50), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_account"), ["account"])
        batch_op.create_index(batch_op.f("ix_login_failures_address"), ["address"])
        batch_op.create_index(batch_op.f("ix_login_failures_at"), ["at"])

    bind = op.get_bind()
    postmortem = _POSTMORTEM.format(cast="text")
    if bind.dialect.name == "postgresql":
        notes = _NOTES.format(sep="' '", agg="string_agg")
        op.execute(_PG_INDEX)
        op.execute(
            "CREATE INDEX ix_incident_search_document ON incident_search USING gin (document)"
        )
        op.execute(
            "INSERT INTO incident_search (incident_id, title, body, postmortem) "
            "SELECT i.id, i.title, concat_ws(' ', i.description, i.root_cause, i.resolution, "
            f"({notes})), coalesce(({postmortem}), '') FROM incidents i"
        )
    else:
        notes = _NOTES.format(sep="' '", agg="group_concat")
        op.execute(
            "CREATE VIRTUAL TABLE incident_search USING fts5("
            "title, body, postmortem, tokenize = 'porter unicode61')"
        )
        op.execute(
            "INSERT INTO incident_search (rowid, title, body, postmortem) "
            "SELECT i.id, i.title, i.description || ' ' || coalesce(i.root_cause, '') || ' ' "
            f"|| coalesce(i.resolution, '') || ' ' || coalesce(({notes}), ''), "
            f"coalesce(({postmortem}), '') FROM incidents i"
        )


def downgrade() -> None:
    op.execute("DROP TABLE incident_search")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_at"))
        batch_op.drop_index(batch_op.f("ix_login_failures_address"))
        batch_op.drop_index(batch_op.f("ix_login_failures_account"))
    op.drop_table("login_failures")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_person_id"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))
    op.drop_table("web_sessions")
    op.drop_table("accounts")
