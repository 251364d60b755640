"""A process killed right after log_incident returns loses nothing it reported."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from vigil.config import Settings
from vigil.db.store import Store
from vigil.incidents.models import Incident

CHILD = """
import os, signal, sys
from vigil import log_incident
for i in range(200):
    print(log_incident(category="WORKER_FAILURE", description=f"crash {i}"), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sigkill_after_return_keeps_every_reported_incident(settings: Settings) -> None:
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -9
    reported = proc.stdout.split()
    assert len(reported) == 200
    store = Store(settings)
    try:
        with store.read() as session:
            stored = set(session.execute(select(Incident.human_id)).scalars())
    finally:
        store.close()
    assert set(reported) <= stored
