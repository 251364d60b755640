"""The thread that runs due jobs in `vigil serve` and `vigil worker`."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence

from vigil.db import Store, owner_alive, utcnow
from vigil.jobs.models import JobState
from vigil.jobs.registry import Job, all_jobs
from vigil.jobs.service import claim_job, ensure_jobs, finish_job

__all__ = ["JobRunner", "runners_for"]

log = logging.getLogger("vigil.jobs")


class JobRunner:
    """Look for due jobs every ``tick`` seconds; run the ones this process claims."""

    def __init__(
        self, store: Store, jobs: Sequence[Job] | None = None, *, tick: float = 0.5
    ) -> None:
        self.store = store
        self.jobs = list(all_jobs() if jobs is None else jobs)
        self.tick = tick
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.runs = 0
        self.failures = 0
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self._wakeable = [j for j in self.jobs if j.wake_on_commit]
        if self._wakeable:
            store.after_change.append(self.wake)

    def wake(self) -> None:
        """Run the wake-on-commit jobs now rather than at the next tick."""
        self._woken.set()

    def start(self) -> None:
        """Run in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="vigil-jobs", daemon=True)
            self._thread.start()

    def run(self) -> None:
        """Run due jobs until :meth:`stop` (blocking)."""
        try:
            with self.store.write() as session:
                ensure_jobs(session=session, jobs=self.jobs, settings=self.store.settings)
        except Exception:
            log.exception("could not register the periodic jobs; retrying on the next tick")
        while not self._stop.is_set():
            if self._woken.wait(self.tick) and not self._stop.is_set():
                self._woken.clear()
                self.run_woken()
            if self._stop.is_set():
                break
            try:
                self.run_due()
            except Exception:
                # A busy or unreachable database must not end the loop: log, look again.
                log.exception("looking for due jobs failed; retrying on the next tick")

    def run_woken(self) -> None:
        """Run each wake-on-commit job once, outside the lease (its claims keep it safe)."""
        for job in self._wakeable:
            try:
                job.run(self.store)
            except Exception:
                log.exception("job %s failed (woken by a commit)", job.name)
                self.failures += 1

    def run_due(self) -> int:
        """Run every job that is due and not held elsewhere; return how many ran."""
        ran = 0
        try:
            with self.store.read() as session:
                states = {s.name: s for s in session.query(JobState)}
        except Exception:
            log.exception("could not read the job table")
            return 0
        now = utcnow()
        for job in self.jobs:
            state = states.get(job.name)
            if state is None:
                with self.store.write() as session:
                    ensure_jobs(session=session, jobs=[job], settings=self.store.settings)
                continue
            # A lease whose holder died on this host is taken over now (claim_job checks again).
            leased = (
                state.lease_until is not None
                and state.lease_until >= now
                and owner_alive(state.owner)
            )
            if state.next_due_at > now or leased:
                continue
            if self.run_one(job):
                ran += 1
        return ran

    def run_one(self, job: Job) -> bool:
        """Claim ``job`` and run it; False if another process holds it or it is not due."""
        lease = self.store.settings.job_lease_seconds
        with self.store.write() as session:
            if not claim_job(session=session, name=job.name, owner=self.owner, lease_seconds=lease):
                return False
        started, clock = utcnow(), time.perf_counter()
        try:
            summary, ok = job.run(self.store), True
        except Exception as exc:
            log.exception("job %s failed", job.name)
            summary, ok = f"{type(exc).__name__}: {exc}", False
            self.failures += 1
        self.runs += 1
        log.debug("job %s ran in %.3f s: %s", job.name, time.perf_counter() - clock, summary)
        try:
            with self.store.write() as session:
                finish_job(
                    session=session,
                    name=job.name,
                    owner=self.owner,
                    started=started,
                    ok=ok,
                    summary=summary,
                )
        except Exception:
            log.exception("could not record the run of job %s; its lease will expire", job.name)
        return True

    def stop(self) -> None:
        """Stop after the current job."""
        self._stop.set()
        self._woken.set()
        if self.wake in self.store.after_change:
            self.store.after_change.remove(self.wake)
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def runners_for(store: Store, jobs: Sequence[Job] | None = None) -> list[JobRunner]:
    """One runner for the jobs a commit wakes, one for the rest, so neither waits on the other."""
    chosen = list(all_jobs() if jobs is None else jobs)
    woken = [j for j in chosen if j.wake_on_commit]
    timed = [j for j in chosen if not j.wake_on_commit]
    return [JobRunner(store, part) for part in (timed, woken) if part]
