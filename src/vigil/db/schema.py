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
    """Leave what the migrations write by hand, not the models, out of comparisons: the
    full-text index (FTS5's tables, the tsvector's index) and the PostgreSQL read interface's
    indexes (expressions on incidents and resource_downtime)."""
    return not (kind in ("table", "index") and (name or "").startswith(_HAND_WRITTEN))


_HAND_WRITTEN = (
    "incident_search",
    "ix_incident_search",
    "ix_incidents_active_rank",
    "ix_resource_downtime_end",
)


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
