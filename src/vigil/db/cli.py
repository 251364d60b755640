"""``vigil db``: upgrade, status, backup, restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli_output import JsonFlag
from vigil.cli_support import CliState, echo_json

app = typer.Typer(help="Database schema, backups and restores.", no_args_is_help=True)

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL or SQLite file path (overrides settings).")
]


def _store(ctx: typer.Context, db: str | None):  # type: ignore[no-untyped-def]
    from vigil.cli_support import get_store

    if db:
        root = ctx.find_root()
        if not isinstance(root.obj, CliState):
            root.obj = CliState()
        root.obj.db = db
    return get_store(ctx)


@app.command()
def upgrade(
    ctx: typer.Context,
    db: DbOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the SQL; change nothing.")
    ] = False,
    no_backup: Annotated[
        bool, typer.Option("--no-backup", help="Skip the automatic backup.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Run even if Vigil processes use the database.")
    ] = False,
    no_worker_check: Annotated[
        bool, typer.Option("--no-worker-check", help="Do not look for running Vigil processes.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Bring the schema up to date, safely and idempotently."""
    from vigil.db.migrate import run_upgrade

    store = _store(ctx, db)
    report = run_upgrade(
        store, dry_run=dry_run, backup=not no_backup, force=force, worker_check=not no_worker_check
    )
    if verbose:
        for line in report.log:
            typer.echo(line, err=True)
    if dry_run:
        typer.echo(report.sql or "-- nothing to do")
    elif report.changed:
        typer.echo(
            f"upgraded to {report.after}" + (f"; backup: {report.backup}" if report.backup else "")
        )
    else:
        typer.echo(f"already at {report.head}; nothing to do")


@app.command()
def status(
    ctx: typer.Context,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the database, its schema revision and whether an upgrade is pending."""
    from vigil.db.migrate import head_revision
    from vigil.db.runfiles import running_processes

    store = _store(ctx, db)
    current, head = store.current_revision(), head_revision()
    info = {
        "database": store.safe_url,
        "backend": store.backend,
        "current": current,
        "head": head,
        "up_to_date": current == head,
        "running_processes": [
            f"{p.kind}:{p.pid}" for p in running_processes(store.settings, store.url)
        ],
    }
    if as_json:
        echo_json(info)
        return
    for key, value in info.items():
        typer.echo(f"{key}: {value}")


@app.command()
def backup(
    ctx: typer.Context,
    db: DbOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (folders are created).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a consistent backup (SQLite backup API, or pg_dump on PostgreSQL)."""
    from vigil.db.migrate import backup_database

    path = backup_database(_store(ctx, db), dest=output, overwrite=force)
    typer.echo(str(path))


@app.command()
def restore(
    ctx: typer.Context,
    backup_file: Annotated[
        Path, typer.Argument(help="A backup written by `vigil db backup` or upgrade.")
    ],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Restore even if Vigil processes use the database.")
    ] = False,
) -> None:
    """Replace the SQLite database with a backup (the current file is backed up first)."""
    from vigil.db.migrate import restore_database

    safety = restore_database(_store(ctx, db), backup_file, force=force)
    typer.echo(f"restored {backup_file}; previous database saved as {safety}")
