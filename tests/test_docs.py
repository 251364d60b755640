"""Tests that fail when a command, setting or endpoint is undocumented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from vigil.app import create_app
from vigil.cli import app
from vigil.config import Settings, settings_reference

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands(group: Any, prefix: str = "vigil") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(cmd, "commands"):
            out += _commands(cmd, path)
        else:
            out.append(path)
    return out


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    root = typer.main.get_command(app)
    commands = _commands(root)
    assert len(commands) > 20
    missing = [c for c in commands if f"`{c}" not in text]
    assert missing == []


def test_every_setting_is_documented_and_table_is_current() -> None:
    text = (DOCS / "configuration.md").read_text()
    table = re.search(r"<!-- settings-table:start -->\n(.*)<!-- settings-table:end -->", text, re.S)
    assert table is not None
    assert table.group(1) == settings_reference()
    for name, info in Settings.model_fields.items():
        assert info.description, name
        assert f"VIGIL_{name.upper()}" in text


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    text = (DOCS / "api.md").read_text()
    fastapi_app = create_app(Settings(data_dir=tmp_path))
    # The OpenAPI paths: routers included into the app are not listed in ``app.routes``.
    paths = fastapi_app.openapi()["paths"]
    assert len(paths) > 50
    missing = []
    for path, operations in paths.items():
        if not path.startswith(("/api/", "/healthz")):
            continue
        for method in sorted(m.upper() for m in operations):
            if "{action}" in path:
                shown = path.replace("{action}", "")
                for action in ("acknowledge", "investigate", "resolve", "close", "reopen"):
                    if f"`{method} {shown}{action}`" not in text:
                        missing.append(f"{method} {shown}{action}")
            elif f"`{method} {path}`" not in text:
                missing.append(f"{method} {path}")
    assert missing == []


def test_readme_quick_start_is_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == [
        "make run",
        "make test",
    ]


#: Project history: "issue 3", "stop 8", "seed 002", "seed documents", "the seed's fields"
#: (a random seed is fine).
_HISTORY = re.compile(
    r"\b(?:issues? \d+|stops? \d+|seeds? ?\d+|seed-\d+|seed documents?|the seeds?\b|seed's)",
    re.IGNORECASE,
)


def test_docs_and_help_name_things_not_project_history() -> None:
    """Docs, CLI help and API descriptions speak of features, not of how they were planned."""
    texts = {str(p.relative_to(DOCS.parent)): p.read_text() for p in DOCS.glob("*.md")}
    texts["README.md"] = (DOCS.parent / "README.md").read_text()
    for name, cmd in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        texts[f"vigil {name} --help"] = " ".join(
            str(c.help or "") for c in getattr(cmd, "commands", {name: cmd}).values()
        )
    texts["openapi"] = str(create_app(Settings(database_url="sqlite://")).openapi())
    found = {where: _HISTORY.findall(text) for where, text in texts.items()}
    assert {where: hits for where, hits in found.items() if hits} == {}
