"""`make test`: the whole suite as three pytest runs side by side (SQLite unit and API tests;
SQLite end-to-end and browser tests, which mostly wait; PostgreSQL).

Prints each run's output when both have finished and exits non-zero if either failed
(pytest's exit code 5, "no tests collected", counts as a failure).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = (
    ("not postgres and not own_run", "SQLite and backend-free tests"),
    ("own_run", "SQLite end-to-end and browser tests"),
    ("postgres", "PostgreSQL tests"),
)


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for i, (expression, title) in enumerate(RUNS):
            log = Path(tmp, f"run{i}.log")
            cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", expression]
            with log.open("w") as out:
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
            procs.append((title, log, proc))
        codes = []
        for title, log, proc in procs:
            codes.append(proc.wait())
            print(f"===== {title} (exit {codes[-1]}) =====")
            print(log.read_text(), end="")
    print(f"===== both runs took {time.monotonic() - started:.0f} s =====")
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
