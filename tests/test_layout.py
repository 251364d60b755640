"""The package layout's rule: other packages import a domain's public names from the domain."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "vigil"
PACKAGES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists())
EXPORTED = {name: set(importlib.import_module(f"vigil.{name}").__all__) for name in PACKAGES}
SUBMODULES = {
    name: {p.stem for p in (SRC / name).glob("*.py")}
    | {p.name for p in (SRC / name).iterdir() if p.is_dir()}
    for name in PACKAGES
}


def violations(source: str, own: str | None, *, registry: bool = False) -> list[str]:
    """The imports in ``source`` (a module of package ``own``) that break the rule."""
    wrong = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and not registry:  # the schema registry loads models
            for alias in node.names:
                parts = alias.name.split(".")
                if len(parts) > 2 and parts[1] in PACKAGES and parts[1] != own:
                    wrong.append(f"import {alias.name}")
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        parts = node.module.split(".")
        if parts[0] != "vigil" or len(parts) < 2 or parts[1] not in PACKAGES or parts[1] == own:
            continue
        package = parts[1]
        if len(parts) > 2:
            wrong.append(f"from {node.module} import ...")
            continue
        for alias in node.names:
            if alias.name not in EXPORTED[package] | SUBMODULES[package]:
                wrong.append(f"{alias.name} is not in vigil.{package}.__all__")
    return wrong


def test_packages_are_entered_through_their_public_names() -> None:
    found = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if "migrations" in rel.parts:
            continue
        own = rel.parts[0] if len(rel.parts) > 1 else None
        bad = violations(path.read_text(), own, registry=path.name == "registry.py")
        if bad:
            found[str(rel)] = bad
    assert found == {}


def test_the_rule_refuses_deep_and_private_imports() -> None:
    assert violations("from vigil.incidents.models import Incident\n", "notify") == [
        "from vigil.incidents.models import ..."
    ]
    assert violations("from vigil.incidents import _private\n", "notify") == [
        "_private is not in vigil.incidents.__all__"
    ]
    assert violations("import vigil.incidents.models\n", None) == ["import vigil.incidents.models"]
    assert violations("from vigil.incidents import Incident, service\n", "notify") == []
    assert violations("from vigil.incidents.models import Incident\n", "incidents") == []


def test_every_exported_name_resolves() -> None:
    for name in PACKAGES:
        package = importlib.import_module(f"vigil.{name}")
        for public in package.__all__:
            assert getattr(package, public) is not None, (name, public)
