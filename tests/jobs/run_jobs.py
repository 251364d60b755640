"""A process that runs one test job through the job runner (used by tests/jobs)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from vigil.config import Settings
from vigil.db.store import Store
from vigil.jobs.registry import Job
from vigil.jobs.runner import JobRunner


def main() -> None:
    url, out, period, duration, seconds = sys.argv[1:6]
    log = Path(out)

    def work(_store: Store) -> str:
        with log.open("a") as f:
            f.write(f"start {os.getpid()} {time.time()}\n")
        time.sleep(float(duration))
        with log.open("a") as f:
            f.write(f"end {os.getpid()} {time.time()}\n")
        return "ok"

    settings = Settings(database_url=url, job_lease_seconds=float(os.environ["LEASE"]))
    store = Store(settings)
    runner = JobRunner(store, [Job("test.tick", lambda _s: float(period), work, "")], tick=0.05)
    runner.start()
    time.sleep(float(seconds))
    runner.stop()
    store.close()


if __name__ == "__main__":
    main()
