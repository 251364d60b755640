"""``vigil token``: create, list and revoke API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli_output import JsonFlag, print_table
from vigil.cli_support import echo_json, get_store

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Shown on the timeline for every write.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read, write or admin; repeatable.")
    ] = None,
) -> None:
    """Create a token and print it (only this once)."""
    from vigil.auth import service

    with get_store(ctx).write() as session:
        token, secret = service.create_token(session=session, name=name, scopes=scope or ["read"])
        scopes = ",".join(token.scopes)
    typer.echo(secret)
    typer.echo(f"token {name!r} ({scopes}) created; store it now, it is not shown again", err=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List tokens (never their secrets)."""
    from vigil.auth import service
    from vigil.auth.schemas import TokenRead

    with get_store(ctx).read() as session:
        rows = [
            TokenRead.model_validate(t)
            for t in service.list_tokens(session=session, include_revoked=all_)
        ]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    from vigil.formats import instant

    print_table(
        ["Name", "Prefix", "Scopes", "Created", "Revoked"],
        [
            [
                r.name,
                r.prefix + "…",
                ",".join(r.scopes),
                instant(r.created_at),
                instant(r.revoked_at) if r.revoked_at else "-",
            ]
            for r in rows
        ],
    )


@app.command()
def revoke(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Revoke a token; requests with it fail from now on."""
    from vigil.auth import service

    with get_store(ctx).write() as session:
        service.revoke_token(session=session, name=name)
    typer.echo(f"token {name!r} revoked")
