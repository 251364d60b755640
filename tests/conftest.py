"""Shared fixtures: every store-backed test runs on a real SQLite file and on PostgreSQL.

PostgreSQL: one fresh database per test run (unique name, dropped at the end),
tables truncated between tests. SQLite: a migrated template file copied per test.
With CI=true, a skipped test fails the run: nothing may be silently skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from vigil.config import Settings
from vigil.db.migrate import upgrade_schema
from vigil.db.registry import all_metadata
from vigil.db.store import Store

PG_ADMIN_URL = os.environ.get("VIGIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# CI is derandomized and bounded: the same examples every run, no time spent shrinking
# something new. Counterexamples found anywhere are kept in the tests as @example.
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=50,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile("dev", deadline=None, max_examples=50)
hypothesis_settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _share_route_builds() -> None:
    """Build each API route's request handling once per test process, not once per app.

    Tests build a fresh app for every test; FastAPI builds every route's parameter models
    again for each app on its first request (about 0.45 s for Vigil's 150 routes). What it
    builds depends on the route and on how its router was included (prefix, tags,
    responses), never on the app itself (Vigil uses no dependency overrides), so the build
    is reused across apps. Production builds one app per process and is unaffected.
    """
    from fastapi import routing

    context = getattr(routing, "_EffectiveRouteContext", None)
    build = getattr(context, "from_api_route", None)
    if context is None or build is None:  # pragma: no cover - another FastAPI version
        return
    built: dict[tuple[object, ...], Any] = {}

    def from_api_route(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        key = (
            id(original_route),
            id(include_context.included_router),
            include_context.path_for(original_route),
            tuple(str(tag) for tag in include_context.tags),
            tuple(id(dep) for dep in include_context.dependencies),
            tuple(sorted(str(code) for code in include_context.responses)),
            include_context.include_in_schema,
            include_context.max_body_size,
        )
        hit = built.get(key)
        if hit is None:
            hit = built[key] = (
                build(original_route=original_route, include_context=include_context),
                original_route,  # keeps the id in the key from being reused
            )
        return hit[0]

    context.from_api_route = classmethod(from_api_route)


_share_route_builds()


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:
        return str(exc)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Create a uniquely named PostgreSQL database for this run; drop it afterwards."""
    import psycopg

    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"vigil_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def _pg_migrated(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    settings = Settings(database_url=pg_url, data_dir=tmp_path_factory.mktemp("pgdata"))
    store = Store(settings)
    upgrade_schema(store)
    store.close()
    return pg_url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "vigil.db"
    store = Store(Settings(database_url=f"sqlite:///{path}", data_dir=path.parent))
    upgrade_schema(store)
    store.close()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a test runs on."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings pointing at a fresh, migrated database of ``backend``."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if backend == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        db = data_dir / "vigil.db"
        shutil.copy(template, db)
        return Settings(database_url=f"sqlite:///{db}", data_dir=data_dir)
    url = request.getfixturevalue("_pg_migrated")
    settings = Settings(database_url=url, data_dir=data_dir)
    store = Store(settings)
    _empty_postgres(store)
    store.close()
    return settings


def _empty_postgres(store: Store) -> None:
    """Empty every table (the schema's version excepted) and restart every sequence, as TRUNCATE … RESTART IDENTITY would,
    in a tenth of its time (TRUNCATE makes new files for 37 tables and their indexes). The
    replica role lets the DELETEs past the timeline's append-only trigger and the foreign
    keys, which the tests' owner (a superuser) may do."""
    with store.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).all()
        assert {t.name for t in all_metadata().sorted_tables} <= set(tables)
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        conn.execute(
            text(
                "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """An open store on the test database."""
    store = Store(settings)
    yield store
    store.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, fail the run if anything was skipped."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(
            f"CI: {skipped} test(s) skipped; nothing may be skipped in CI", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test that uses PostgreSQL, so ``-m postgres`` / ``-m "not postgres"`` split
    the suite into runs that `make test` starts side by side (SQLite end-to-end and browser
    tests, which mostly wait, are marked ``own_run`` and get a run of their own).

    One PostgreSQL run at a time: the change feed's head waits for the oldest transaction
    writing anywhere in the cluster (``pg_snapshot_xmin``), so PostgreSQL tests in parallel
    would hold each other's feeds back.
    """
    callspec = getattr(item, "callspec", None)
    uses_pg = callspec is not None and callspec.params.get("backend") == "postgresql"
    if uses_pg or "pg_url" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.postgres)
    elif item.path.name in _OWN_RUN:
        item.add_marker(pytest.mark.own_run)


#: Tests that mostly wait (a browser, CLI processes): a third run beside the other two.
_OWN_RUN = frozenset(
    {
        "test_browser.py",
        "test_worked_example.py",
        "test_e2e.py",
        "test_readme.py",
        "test_prometheus.py",
    }
)
