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
    "load_settings",
    "parse_labels",
    "parse_time",
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
    state = _state(ctx)
    settings = load_settings()
    if state.db:
        from vigil.db import normalize_database_url

        settings = settings.model_copy(update={"database_url": normalize_database_url(state.db)})
    return settings


def load_settings() -> Settings:
    """Read the settings from the environment; a bad one is one line naming it."""
    from pydantic import ValidationError as PydanticValidationError

    from vigil.config import Settings
    from vigil.errors import ConfigurationError

    try:
        return Settings()
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        name = "VIGIL_" + ".".join(str(p) for p in err.get("loc", ())).upper()
        given = err.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        raise ConfigurationError(f"setting {name}: {message}{shown}", field=name) from None


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
    typer.echo(json.dumps(data, indent=2, default=_json_value, ensure_ascii=False))


def _json_value(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        from vigil.validation import rfc3339

        return rfc3339(value)
    return str(value)


class TimeParam:
    """A command-line time: ISO 8601 (UTC unless an offset is given) or yesterday, 2h ago, -7d."""

    def __call__(self, value: Any) -> Any:
        """Parse ``value`` (already parsed values pass through)."""
        import datetime as dt

        from vigil.errors import ValidationError
        from vigil.validation import parse_instant

        if value is None or isinstance(value, dt.datetime):
            return value
        try:
            return parse_instant(str(value), field="time")
        except ValidationError as exc:
            raise typer.BadParameter(exc.message.removeprefix("time: ")) from None


#: Use as ``typer.Option("--since", parser=parse_time, metavar="TIME")``.
parse_time = TimeParam()


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


_TYPE_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH"}


def _help_type(param: Any, ctx: Any) -> str | None:
    """The value column of ``--help``: what to type (TEXT, INTEGER, a|b, a METAVAR), nothing
    for a flag, instead of Python annotations such as ``<str>`` or ``<bool>``."""
    if getattr(param, "is_flag", False):
        return None
    if param.metavar is not None:
        return str(param.metavar)
    label = _UPSTREAM_TYPE(param, ctx).strip("<>").removeprefix("list[").removesuffix("]")
    if "|" in label:
        return label
    return _TYPE_WORDS.get(label, label.upper())


def _usage_name(param: Any) -> str:
    """An argument in the usage line: REF when required, [REF] when not."""
    name = (param.metavar or param.name or "").upper()
    name = name if param.required else f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


def _plain_help_names() -> None:
    from typer import core

    core.TyperOption.display_type_rich = _help_type  # type: ignore[method-assign,assignment]
    core.TyperArgument.display_type_rich = _help_type  # type: ignore[method-assign,assignment]
    core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign,assignment]


_UPSTREAM_TYPE = typer.core._TyperParameter.display_type
_plain_help_names()

# Typer carries its own copy of click; its exception classes are reached through the one
# it exports (BadParameter) rather than through its private modules.
_USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)
_CLICK_EXCEPTION: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


class VigilGroup(TyperGroup):
    """Root command group that maps every error to one line on stderr and an exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the CLI; a usage error (bad option, bad time) is one line, exit code 2."""
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except _USAGE_ERROR as exc:
            ctx = getattr(exc, "ctx", None)
            where = f" (see `{ctx.command_path} --help`)" if ctx else ""
            typer.echo(f"error: {exc.format_message()}{where}", err=True)  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        except _CLICK_EXCEPTION as exc:
            typer.echo(f"error: {exc.format_message()}", err=True)  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

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
