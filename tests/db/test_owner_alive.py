"""Whether a lease holder on this host still runs: a killed process not yet reaped is gone."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

from vigil.db import owner_alive


def test_a_killed_process_is_gone_even_before_its_parent_reaps_it() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    owner = f"{socket.gethostname()}:{proc.pid}"
    try:
        assert owner_alive(owner)
        proc.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while owner_alive(owner) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not owner_alive(owner)  # a zombie until wait() below: its claims are free
    finally:
        proc.wait()
    assert not owner_alive(owner)
    assert owner_alive(f"another-host:{proc.pid}") and owner_alive(None)
