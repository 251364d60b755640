"""Periodic jobs: one registry, leases so each due job runs once per period."""

from vigil.jobs.registry import Job, all_jobs, scheduled

__all__ = ["Job", "all_jobs", "scheduled"]
