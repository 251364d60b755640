"""`make test`: the whole suite as two pytest runs side by side (SQLite and the rest; PostgreSQL).

Prints each run's output when both have finished and exits non-zero if either failed
(pytest's exit code 5, "no tests collected", counts as a failure).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time

RUNS = (("not postgres", "SQLite and backend-free tests"), ("postgres", "PostgreSQL tests"))


def main() -> int:
    started = time.monotonic()
    procs = []
    files = contextlib.ExitStack()
    for expression, title in RUNS:
        out = files.enter_context(tempfile.TemporaryFile(mode="w+"))
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", expression]
        procs.append(
            (title, out, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True))
        )
    codes = []
    for title, out, proc in procs:
        codes.append(proc.wait())
        out.seek(0)
        print(f"===== {title} (exit {codes[-1]}) =====")
        print(out.read(), end="")
    files.close()
    print(f"===== both runs took {time.monotonic() - started:.0f} s =====")
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
