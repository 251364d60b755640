"""The ``vigil`` command: mounts each domain's commands."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.analytics import cli as analytics_cli
from vigil.analytics import report_cli
from vigil.auth import cli as auth_cli
from vigil.cli_support import CliState, VigilGroup
from vigil.db import cli as db_cli
from vigil.incidents import cli as incidents_cli
from vigil.incidents import import_cli
from vigil.ingest import cli as ingest_cli
from vigil.jobs import cli as jobs_cli
from vigil.monitoring import cli as monitoring_cli
from vigil.notify import cli as notify_cli
from vigil.oncall import PAGING_FOR_LEARNING
from vigil.oncall import cli as oncall_cli
from vigil.postmortems import cli as postmortems_cli
from vigil.postmortems import learning_sources
from vigil.server import serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="vigil",
    cls=VigilGroup,
    help="Vigil incident management: declare, track, resolve and learn from incidents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from vigil import __version__

        typer.echo(f"vigil {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL or SQLite path (default: VIGIL_DATABASE_URL)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Vigil incident management."""
    ctx.obj = CliState(db=db, debug=debug)


incidents_cli.register(app)
analytics_cli.register(app, db_cli.app)
app.command()(serve)
ingest_cli.register(app)
jobs_cli.register(app)
monitoring_cli.register(app)
notify_cli.register(app)
oncall_cli.register(app, report_cli.app)
learning_sources.add_learning_source(PAGING_FOR_LEARNING)
app.add_typer(db_cli.app, name="db")
app.add_typer(auth_cli.app, name="token")
app.add_typer(import_cli.app, name="import")
app.add_typer(report_cli.app, name="report")
postmortems_cli.register(app, report_cli.app)


def main() -> None:
    """Run the CLI."""
    app()
