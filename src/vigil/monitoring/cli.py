"""`vigil prometheus rules`: the alerting rules Vigil ships for monitoring itself."""

from __future__ import annotations

from importlib import resources

import typer

__all__ = ["app", "register", "rules_text"]

app = typer.Typer(help="Prometheus: alerting rules for Vigil itself.", no_args_is_help=True)


def rules_text() -> str:
    """The rules file shipped in the package (a Prometheus ``rule_files`` entry)."""
    return resources.files("vigil.monitoring").joinpath("prometheus-rules.yml").read_text()


@app.command("rules")
def rules() -> None:
    """Print Vigil's alerting rules (notifications failing or queued, feed lag, jobs failing
    or not running, ingestion refusing requests, the database disk nearly full)."""
    typer.echo(rules_text(), nl=False)


def register(root: typer.Typer) -> None:
    """Mount ``vigil prometheus`` on the root app."""
    root.add_typer(app, name="prometheus")
