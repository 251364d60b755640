"""Applying the migrations shipped in the package to an engine (used by Store and migrate)."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

__all__ = ["MIGRATIONS_DIR", "alembic_config", "include_object", "upgrade_engine"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, other: object
) -> bool:
    """Leave the full-text index (FTS5's tables, the tsvector's index) out of comparisons:
    it is written by hand in the migrations, not described by the models."""
    return not (kind in ("table", "index") and (name or "").startswith(_SEARCH_INDEX))


_SEARCH_INDEX = ("incident_search", "ix_incident_search")


def alembic_config(url: str) -> Config:
    """Build an Alembic config pointing at the migrations inside the package."""
    cfg = Config(output_buffer=io.StringIO())
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_engine(engine: Engine, url: str) -> None:
    """Apply every pending migration in one write transaction (all or nothing)."""
    cfg = alembic_config(url)
    with engine.execution_options(vigil_write=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
