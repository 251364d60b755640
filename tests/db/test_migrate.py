"""Seed 001's migration safety features, on real files and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from tests.factories import make_incident
from vigil.config import Settings
from vigil.db import migrate
from vigil.db.registry import all_metadata
from vigil.db.runfiles import register_process
from vigil.db.schema import include_object
from vigil.db.store import SCHEMA_REVISION, Store
from vigil.errors import MigrationError, SchemaOutOfDateError


def _fresh(tmp_path: Path) -> Store:
    return Store(Settings(database_url=f"sqlite:///{tmp_path / 'v.db'}", data_dir=tmp_path))


def test_schema_revision_constant_is_the_alembic_head() -> None:
    assert migrate.head_revision() == SCHEMA_REVISION


def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, all_metadata())
    assert diff == []


def test_dry_run_prints_sql_and_changes_nothing(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    report = migrate.run_upgrade(store, dry_run=True)
    assert "CREATE TABLE incidents" in report.sql
    assert store.current_revision() is None and store.is_empty()


def test_upgrade_is_idempotent_and_backs_up_existing_file(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    first = migrate.run_upgrade(store)
    assert first.changed and first.after == SCHEMA_REVISION
    assert first.backup is None  # nothing to back up in a new database
    again = migrate.run_upgrade(store)
    assert not again.changed and "already up to date" in again.log[-1]


def test_backup_of_an_older_schema_before_upgrade(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    migrate.upgrade_schema(store)
    with store.engine.begin() as conn:  # pretend the database is one revision behind
        conn.execute(text("UPDATE alembic_version SET version_num = 'base0'"))
    with pytest.raises(SchemaOutOfDateError, match="vigil db upgrade"):
        make_incident(store)
    path = migrate.backup_database(store, label="x")
    assert sqlite3.connect(path).execute("SELECT version_num FROM alembic_version").fetchone() == (
        "base0",
    )


def test_worker_check_refuses_unless_forced(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    settings = store.settings
    other = tmp_path / "run"
    other.mkdir()
    runfile = register_process(settings, store.url, "worker")
    # A run file of our own pid is ignored, so claim the parent's pid (alive) instead.
    runfile.write_text(runfile.read_text().replace(str(os.getpid()), str(os.getppid())))
    with pytest.raises(MigrationError, match="--force"):
        migrate.run_upgrade(store)
    assert store.current_revision() is None
    assert migrate.run_upgrade(store, force=True).changed
    runfile.unlink()


def test_failed_upgrade_leaves_database_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _fresh(tmp_path)
    real = migrate.command.upgrade

    def broken(cfg, rev, **kw):  # type: ignore[no-untyped-def]
        real(cfg, rev, **kw)
        cfg.attributes["connection"].execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(migrate.command, "upgrade", broken)
    with pytest.raises(MigrationError, match="rolled back"):
        migrate.run_upgrade(store)
    assert store.current_revision() is None and store.is_empty()


def test_restore_brings_a_backup_back(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    make_incident(store)
    backup = migrate.backup_database(store)
    make_incident(store)
    safety = migrate.restore_database(store, backup)
    assert safety.exists()
    reopened = _fresh(tmp_path)
    with reopened.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 1
    with pytest.raises(MigrationError, match="not a SQLite database"):
        bad = tmp_path / "junk"
        bad.write_text("hello")
        migrate.restore_database(reopened, bad)


def test_timeline_is_append_only(store: Store) -> None:
    make_incident(store)
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("UPDATE timeline_entries SET message = 'rewritten'"))
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM timeline_entries"))


def test_restore_checks_the_file_it_restores_even_with_uri_characters(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    make_incident(store)
    odd = tmp_path / "we#ird%41 ?name.db"
    migrate.backup_database(store, dest=odd)
    # A junk file where the URI reading of the name would point must not be what is checked.
    (tmp_path / "we").write_text("junk")
    migrate.restore_database(store, odd)
    (tmp_path / "junk#1.db").write_text("not sqlite")
    with pytest.raises(MigrationError, match="not a SQLite database"):
        migrate.restore_database(_fresh(tmp_path), tmp_path / "junk#1.db")


def test_backup_creates_folders_and_refuses_to_overwrite(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    make_incident(store)
    target = tmp_path / "new" / "folder" / "copy.db"
    assert migrate.backup_database(store, dest=target) == target and target.exists()
    with pytest.raises(MigrationError, match="already exists; pass --force"):
        migrate.backup_database(store, dest=target)
    assert migrate.backup_database(store, dest=target, overwrite=True) == target


def test_upgrade_namespaces_the_keys_of_active_ingested_incidents(tmp_path: Path) -> None:
    from alembic import command

    from vigil.db.migrate import alembic_config

    store = _fresh(tmp_path)
    cfg = alembic_config(store.url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(
            text(
                "INSERT INTO incidents (human_id, uuid, title, description, category, severity, "
                "status, affected_records, labels, tags, source, occurrence_count, detected_at, "
                "last_seen_at, created_at, updated_at, dedup_key, reported_by) VALUES "
                "(:h, :u, 't', '', 'OTHER', 'high', :s, '[]', '{}', '[]', :src, 1, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', :k, 'monitor')"
            ),
            [
                {"h": "A", "u": "a" * 32, "s": "open", "src": "events", "k": "cam|ffmpeg"},
                {
                    "h": "B",
                    "u": "b" * 32,
                    "s": "open",
                    "src": "alertmanager",
                    "k": "alertmanager:fp",
                },
                {"h": "C", "u": "c" * 32, "s": "resolved", "src": "events", "k": "old|x"},
            ],
        )
    migrate.upgrade_schema(store)
    with store.engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT human_id, dedup_key FROM incidents")).all())
    assert keys == {
        "A": "events:monitor:cam|ffmpeg",
        "B": "alertmanager:monitor:fp",
        "C": "old|x",
    }


def test_upgrade_to_the_change_feed_keeps_history_and_the_refresh_position(store: Store) -> None:
    from alembic import command

    from tests.factories import make_incident
    from vigil.db.migrate import alembic_config
    from vigil.feed import Position, head, position_of

    make_incident(store)
    cfg = alembic_config(store.url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
        conn.execute(
            text("INSERT INTO analytics_watermarks (name, value) VALUES ('timeline_entries', 1)")
        )
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    make_incident(store)  # written with the feed in place
    with store.read() as session:
        assert position_of(
            session=session, follower="availability", log="timeline_entries"
        ) == Position(0, 1)
        top = head(session=session, log="timeline_entries")
        txids = (
            session.execute(text("SELECT txid FROM timeline_entries ORDER BY id")).scalars().all()
        )
    if store.backend == "postgresql":
        assert txids[0] == 0 and txids[1] > 0  # history first, then by transaction
        assert top.txid == txids[1]
    else:
        assert txids == [None, None] and top == Position(0, 2)
