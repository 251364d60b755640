"""Run files: how ``vigil db upgrade`` knows a server or worker uses a database."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from vigil.config import Settings
from vigil.db.engine import normalize_database_url

__all__ = ["RunningProcess", "owner_alive", "register_process", "running_processes"]


@dataclass(frozen=True)
class RunningProcess:
    """A live Vigil process and the database it uses."""

    pid: int
    kind: str
    path: Path


def _db_key(url: str) -> str:
    return hashlib.sha256(normalize_database_url(url).encode()).hexdigest()[:16]


def _run_dir(settings: Settings) -> Path:
    return settings.data_dir / "run"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def register_process(settings: Settings, url: str, kind: str) -> Path:
    """Record this process as using ``url``; delete the returned file on exit."""
    directory = _run_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind}-{os.getpid()}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "kind": kind, "db": _db_key(url)}))
    return path


def running_processes(settings: Settings, url: str) -> list[RunningProcess]:
    """Return live Vigil processes using ``url``; stale run files are removed."""
    directory = _run_dir(settings)
    if not directory.is_dir():
        return []
    key = _db_key(url)
    found = []
    for path in directory.glob("*.json"):
        try:
            data = json.loads(path.read_text())
            pid = int(data["pid"])
        except (OSError, ValueError, KeyError):
            continue
        if not _alive(pid):
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        if data.get("db") == key and pid != os.getpid():
            found.append(RunningProcess(pid=pid, kind=str(data.get("kind")), path=path))
    return found


def owner_alive(owner: str | None) -> bool:
    """Whether the process named ``host:pid`` may still run: False only for a process on this
    host that is gone (one on another host, or unreadable, counts as alive)."""
    import os
    import socket

    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """A process that has exited but not been reaped by its parent yet (Linux: state Z)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rpartition(b")")[2][1:2] == b"Z"
