"""What every CLI module shares: state, the store, output and the one error mapper.

Kept free of heavy imports so ``vigil --help`` starts fast.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from vigil.config import Settings
    from vigil.db import Store

__all__ = [
    "CliState",
    "VigilGroup",
    "actor",
    "echo_json",
    "fail",
    "get_settings",
    "get_store",
    "parse_labels",
]


@dataclass
class CliState:
    """Options given to the root command."""

    db: str | None = None
    debug: bool = False
    store: Store | None = None


def _state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def get_settings(ctx: typer.Context) -> Settings:
    """Build the settings, applying ``--db``."""
    from vigil.config import Settings

    state = _state(ctx)
    settings = Settings()
    if state.db:
        from vigil.db import normalize_database_url

        settings = settings.model_copy(update={"database_url": normalize_database_url(state.db)})
    return settings


def get_store(ctx: typer.Context) -> Store:
    """Open (once per invocation) the store the command works on."""
    state = _state(ctx)
    if state.store is None:
        from vigil.db import Store

        state.store = Store(get_settings(ctx))
        ctx.find_root().call_on_close(state.store.close)
    return state.store


def actor() -> str:
    """Return who the CLI acts as: ``$VIGIL_ACTOR`` or ``cli:<login>``."""
    name = os.environ.get("VIGIL_ACTOR")
    if name:
        return name
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def parse_labels(values: list[str] | None) -> dict[str, str] | None:
    """Turn repeated ``--label KEY=VALUE`` options into a dict (None when none were given)."""
    if values is None:
        return None
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            from vigil.errors import ValidationError

            raise ValidationError(f"label {item!r} must look like KEY=VALUE", field="label")
        out[key.strip()] = value.strip()
    return out


def echo_json(data: Any) -> None:
    """Print JSON to stdout."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


class VigilGroup(TyperGroup):
    """Root command group that maps every error to one line on stderr and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command, translating errors."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            debug = isinstance(ctx.obj, CliState) and ctx.obj.debug
            if debug:
                traceback.print_exc()
            from vigil.errors import VigilError

            if isinstance(exc, VigilError):
                typer.echo(f"error: {exc.message}", err=True)
                sys.exit(exc.exit_code)
            name = type(exc).__name__
            hint = "" if debug else " (run with --debug for the traceback)"
            typer.echo(f"error: unexpected {name}: {exc}{hint}", err=True)
            sys.exit(70)
