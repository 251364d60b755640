"""`vigil prometheus rules` and `vigil grafana dashboard`: monitoring Vigil and its incidents."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

import typer

__all__ = ["app", "grafana_app", "register", "rules_text"]

app = typer.Typer(help="Prometheus: alerting rules for Vigil itself.", no_args_is_help=True)


def rules_text() -> str:
    """The rules file shipped in the package (a Prometheus ``rule_files`` entry)."""
    return resources.files("vigil.monitoring").joinpath("prometheus-rules.yml").read_text()


@app.command("rules")
def rules() -> None:
    """Print Vigil's alerting rules (notifications failing or queued, feed lag, jobs failing
    or not running, ingestion refusing requests, the database disk nearly full)."""
    typer.echo(rules_text(), nl=False)


grafana_app = typer.Typer(help="Grafana: Vigil's dashboard as code.", no_args_is_help=True)


@grafana_app.command("dashboard")
def dashboard(
    variant: Annotated[
        str,
        typer.Option(
            "--variant",
            help="sql (reads Vigil's PostgreSQL through its views) or prometheus (its metrics).",
        ),
    ] = "sql",
) -> None:
    """Print the dashboard as Grafana JSON: active incidents, availability with SLA colours,
    summary stats, the last 20 incidents, MTTA/MTTR and availability trends."""
    from vigil.cli_support import fail
    from vigil.monitoring.grafana import VARIANTS, dashboard_json

    if variant not in VARIANTS:
        fail(f"variant {variant!r} is not one of: {', '.join(VARIANTS)}", 2)
    typer.echo(dashboard_json(variant), nl=False)


def register(root: typer.Typer) -> None:
    """Mount ``vigil prometheus`` and ``vigil grafana`` on the root app."""
    root.add_typer(app, name="prometheus")
    root.add_typer(grafana_app, name="grafana")
