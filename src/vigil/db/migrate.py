"""Schema upgrades with safety features: dry run, backup, worker check."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from vigil.db.engine import sqlite_path
from vigil.db.runfiles import running_processes
from vigil.db.schema import alembic_config, upgrade_engine
from vigil.db.store import Store
from vigil.errors import MigrationError

__all__ = [
    "UpgradeReport",
    "alembic_config",
    "backup_database",
    "head_revision",
    "restore_database",
    "run_upgrade",
    "upgrade_schema",
]


def head_revision() -> str:
    """Return the newest migration revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def upgrade_schema(store: Store) -> None:
    """Apply every pending migration in one transaction (all or nothing)."""
    upgrade_engine(store.engine, store.url)


def pending_sql(store: Store, current: str | None) -> str:
    """Return the SQL an upgrade from ``current`` to head would run, changing nothing."""
    cfg = alembic_config(store.url)
    start = f"{current}:head" if current else "head"
    command.upgrade(cfg, start, sql=True)
    buf = cfg.output_buffer
    assert isinstance(buf, io.StringIO)
    return buf.getvalue()


@dataclass
class UpgradeReport:
    """What ``vigil db upgrade`` did or would do."""

    before: str | None
    after: str | None
    head: str
    dry_run: bool
    backup: Path | None = None
    sql: str = ""
    log: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Return True when the schema revision moved."""
        return self.before != self.after


def run_upgrade(
    store: Store,
    *,
    dry_run: bool = False,
    backup: bool = True,
    force: bool = False,
    worker_check: bool = True,
) -> UpgradeReport:
    """Upgrade the schema to head, safely; idempotent when already at head."""
    head = head_revision()
    before = store.current_revision()
    report = UpgradeReport(before=before, after=before, head=head, dry_run=dry_run)
    report.log.append(f"database: {store.safe_url}")
    report.log.append(f"current revision: {before or 'none'}; head: {head}")
    if before == head:
        report.log.append("already up to date; nothing to do")
        return report
    if worker_check:
        running = running_processes(store.settings, store.url)
        if running:
            pids = ", ".join(f"{p.kind} pid {p.pid}" for p in running)
            if not force:
                raise MigrationError(
                    f"Vigil processes are using this database ({pids}); stop them or pass "
                    "--force (or --no-worker-check to skip this check)"
                )
            report.log.append(f"warning: proceeding with running processes ({pids}) (--force)")
    if dry_run:
        report.sql = pending_sql(store, before)
        report.log.append("dry run: nothing was changed")
        return report
    path = sqlite_path(store.url)
    if backup and path is not None and path.exists() and before is not None:
        report.backup = backup_database(store, label=f"upgrade_{before}")
        report.log.append(f"backup written to {report.backup}")
    try:
        upgrade_schema(store)
    except Exception as exc:
        raise MigrationError(
            f"upgrade failed and was rolled back; the database is unchanged: {exc}"
        ) from exc
    report.after = store.current_revision()
    report.log.append(f"upgraded {before or 'none'} -> {report.after}")
    return report


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d_%H%M%S_%f")


def backup_database(
    store: Store, *, label: str = "manual", dest: Path | None = None, overwrite: bool = False
) -> Path:
    """Write a consistent copy of the database and return its path."""
    if dest is not None:
        if dest.is_dir():
            raise MigrationError(f"{dest} is a folder; give the backup file's path")
        if dest.exists() and not overwrite:
            raise MigrationError(f"{dest} already exists; pass --force to overwrite it")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            dest.unlink()
    path = sqlite_path(store.url)
    if path is None:
        return _pg_dump(store, label=label, dest=dest)
    if not path.exists():
        raise MigrationError(f"database file {path} does not exist; nothing to back up")
    directory = store.settings.backup_dir or path.parent
    directory.mkdir(parents=True, exist_ok=True)
    target = dest or directory / f"{path.name}.backup_{label}_{_timestamp()}"
    _sqlite_copy(path, target)
    return target


def _sqlite_copy(source: Path, target: Path) -> None:
    # The backup API copies a consistent snapshot even while WAL writers are active.
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_dump(store: Store, *, label: str, dest: Path | None) -> Path:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise MigrationError("pg_dump is not on PATH; install the PostgreSQL client tools")
    directory = store.settings.backup_dir or store.settings.data_dir / "backups"
    directory.mkdir(parents=True, exist_ok=True)
    name = store.engine.url.database or "vigil"
    target = dest or directory / f"{name}.backup_{label}_{_timestamp()}.sql"
    libpq = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run(
        [exe, "--no-owner", "--file", str(target), libpq],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MigrationError(f"pg_dump failed: {result.stderr.strip()}")
    return target


def restore_database(store: Store, backup: Path, *, force: bool = False) -> Path:
    """Replace the SQLite database with ``backup``; the current one is backed up first."""
    path = sqlite_path(store.url)
    if path is None:
        raise MigrationError(
            "restore works on SQLite files; restore a PostgreSQL dump with "
            "`psql -f BACKUP.sql DATABASE` into an empty database"
        )
    if not backup.is_file():
        raise MigrationError(f"backup file {backup} does not exist")
    try:
        # as_uri() percent-encodes '#', '%' and '?', so the file checked is the file restored.
        probe = sqlite3.connect(backup.resolve().as_uri() + "?mode=ro", uri=True)
        ok = probe.execute("PRAGMA integrity_check").fetchone()
        probe.close()
    except sqlite3.DatabaseError as exc:
        raise MigrationError(f"{backup} is not a SQLite database: {exc}") from exc
    if not ok or ok[0] != "ok":
        raise MigrationError(f"{backup} failed the integrity check: {ok}")
    running = running_processes(store.settings, store.url)
    if running and not force:
        raise MigrationError("Vigil processes are using this database; stop them or pass --force")
    store.close()
    safety = backup_database(store, label="before_restore") if path.exists() else path
    _sqlite_copy(backup, path)
    return safety
