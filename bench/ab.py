"""The write paths of this checkout against an earlier commit, measured in the same minutes.

    python -m bench.ab BASE [ROUNDS]     # e.g. python -m bench.ab abe9b04 5
    BENCH_CASES=log_incident,raw_sqlite BENCH_TMPDIR=/dev/shm python -m bench.ab BASE

``BENCH_TMPDIR`` puts the SQLite files on another filesystem (tmpfs takes the disk out of
log_incident's per-commit cost, leaving Vigil's own work); ``BENCH_CASES`` picks cases.

BASE is checked out into a temporary worktree; each round runs every case on both
checkouts in alternating order, each on a fresh database (SQLite file, or a PostgreSQL
database on 127.0.0.1, dropped afterwards), in its own process. Prints medians and ratios.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from pathlib import Path

from bench.databases import PG_ADMIN

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    ("batch", "sqlite"),
    ("batch", "postgresql"),
    ("single", "sqlite"),
    ("single", "postgresql"),
    ("log_incident", "sqlite"),
    ("raw_sqlite", "sqlite"),
]


def _database(backend: str, tmp: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'vigil.db'}", None
    import psycopg

    name = f"vigil_ab_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", name


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _measure(tree: Path, case: str, backend: str) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="vigil-ab-", dir=os.environ.get("BENCH_TMPDIR")))
    url, pg_name = _database(backend, tmp)
    try:
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "ab_worker.py"), case, backend, url, str(tmp)],
            env={**os.environ, "PYTHONPATH": str(tree / "src")},
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        return float(json.loads(out.stdout.strip().splitlines()[-1])["rate"])
    finally:
        if pg_name:
            _drop(pg_name)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> None:
    base_rev = argv[0] if argv else "HEAD~1"
    rounds = int(argv[1]) if len(argv) > 1 else 5
    worktree = Path(tempfile.mkdtemp(prefix="vigil-base-")) / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), base_rev],
        check=True,
        capture_output=True,
    )
    trees = {"base": worktree, "this": ROOT}
    rates: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    chosen = os.environ.get("BENCH_CASES")
    cases = [c for c in CASES if chosen is None or c[0] in chosen.split(",")]
    try:
        for r in range(rounds):
            order = ["base", "this"] if r % 2 == 0 else ["this", "base"]
            for case, backend in cases:
                for name in order:
                    rates[(case, backend, name)].append(_measure(trees[name], case, backend))
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=False
        )
    print(f"A/B: base {base_rev} vs this checkout, {rounds} rounds, medians")
    for case, backend in cases:
        b = statistics.median(rates[(case, backend, "base")])
        t = statistics.median(rates[(case, backend, "this")])
        print(
            f"  {case:13s} {backend:10s} base {b:10,.0f}/s  this {t:10,.0f}/s  this/base {t / b:.3f}"
        )
    for name in ("base", "this") if ("raw_sqlite", "sqlite") in cases else ():
        ratios = [
            li / raw
            for li, raw in zip(
                rates[("log_incident", "sqlite", name)],
                rates[("raw_sqlite", "sqlite", name)],
                strict=True,
            )
        ]
        print(f"  log_incident / raw sqlite3, {name}: {statistics.median(ratios):.3f}x (per round)")


if __name__ == "__main__":
    main(sys.argv[1:])
