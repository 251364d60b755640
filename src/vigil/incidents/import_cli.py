"""``vigil import``: bring incidents in from other stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli_output import JsonFlag
from vigil.cli_support import actor, echo_json, get_store

app = typer.Typer(help="Import incidents from other stores.", no_args_is_help=True)


@app.command("legacy-sqlite")
def legacy_sqlite(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="SQLite file with a legacy incidents table.")],
    as_json: JsonFlag = False,
) -> None:
    """Import the rows of an AI PM framework incidents table; re-running imports only new rows."""
    from vigil.incidents.legacy import import_legacy_sqlite

    store = get_store(ctx)
    with store.write() as session:
        report = import_legacy_sqlite(
            session=session, settings=store.settings, path=path, actor=actor()
        )
    if as_json:
        echo_json(
            {"imported": report.imported, "skipped": report.skipped, "renamed": report.renamed,
             "mapped": report.mapped}
        )  # fmt: skip
        return
    typer.echo(f"imported {len(report.imported)}, skipped {report.skipped} already imported")
    for old, new in report.renamed.items():
        typer.echo(f"  {old} was taken in Vigil; imported as {new}")
    for what, rows in sorted(report.mapped.items()):
        typer.echo(f"  {rows} row{'' if rows == 1 else 's'}: {what}")
    if any(w.startswith("category ") for w in report.mapped):
        typer.echo(
            "  to keep a category, add it to VIGIL_CATEGORIES and import into a fresh database"
        )
