"""``vigil serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from vigil.db import Store

from vigil.cli_support import get_settings


def bootstrap_admin_token(store: Store) -> str | None:
    """Create an admin token when none is active; return its secret (shown once)."""
    from vigil.auth import count_active_tokens, create_token

    with store.write() as session:
        if count_active_tokens(session=session):
            return None
        name = f"admin-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
        _token, secret = create_token(session=session, name=name, scopes=["admin"])
        return secret


def bootstrap_admin_login(store: Store) -> str | None:
    """Create the first admin login when nobody can log in; return its password (shown once)."""
    from vigil.oncall import people

    with store.write() as session:
        return people.ensure_first_admin(session=session)


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a long-running server.

    A batch of 1,000 events allocates tens of thousands of containers, so with the default
    threshold (700) the collector ran dozens of times per batch and older generations were
    swept often: measured, ~30 % of the process under ingestion load. Collecting the first
    generation every 50,000 allocations keeps that to a few percent; the app also freezes its
    start-up objects out of the collector's view (``create_app``'s lifespan).
    """
    import gc

    gc.set_threshold(50_000, 20, 100)


def _check_secret_key(store: Store) -> None:
    from vigil.notify import check_key_for_channels

    with store.read() as session:
        check_key_for_channels(session=session, settings=store.settings)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Default: VIGIL_HOST or 127.0.0.1.")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default: VIGIL_PORT or 8000.")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Run the web pages and the REST API (at /, OpenAPI docs at /docs)."""
    import uvicorn

    from vigil.app import create_app
    from vigil.db import Store, register_process
    from vigil.logs import uvicorn_log_config

    settings = get_settings(ctx)
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=updates)
    if bool(settings.tls_certfile) != bool(settings.tls_keyfile):
        from vigil.errors import ConfigurationError

        raise ConfigurationError("set both VIGIL_TLS_CERTFILE and VIGIL_TLS_KEYFILE, or neither")
    store = Store(settings)
    store.ensure_schema()
    _check_secret_key(store)
    secret = bootstrap_admin_token(store)
    if secret:
        typer.echo("No API token existed, so an admin token was created. It is shown only now:")
        typer.echo(f"  {secret}")
        typer.echo(
            "Use it as 'Authorization: Bearer <token>'; make narrower ones with `vigil token create`."
        )
    password = bootstrap_admin_login(store)
    if password:
        typer.echo("Nobody could log in to the web pages, so an admin login was created:")
        typer.echo(f"  open {settings.base_url}/ and log in as 'admin' with password {password}")
        typer.echo("It is shown only now; change it with `vigil people set-password admin`.")
    runfile = register_process(settings, store.url, "server")
    app = create_app(settings, store)
    tune_gc()
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            log_config=uvicorn_log_config(),
            # Idle keep-alive clients must not hold a stopping server open (TLS included).
            timeout_graceful_shutdown=5,
            ssl_certfile=str(settings.tls_certfile) if settings.tls_certfile else None,
            ssl_keyfile=str(settings.tls_keyfile) if settings.tls_keyfile else None,
        )
    finally:
        with contextlib.suppress(OSError):
            runfile.unlink()
        store.close()
