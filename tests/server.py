"""Start a real `vigil serve` on loopback for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from vigil.config import Settings


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    token: str
    proc: subprocess.Popen[str]
    admin_password: str = ""


def start(
    settings: Settings,
    port: int | None = None,
    tls: tuple[str, str] | None = None,
    env_extra: dict[str, str] | None = None,
) -> Server:
    """Start a server (HTTPS when ``tls`` = (cert, key)) and wait until it answers /healthz."""
    port = port or free_port()
    env = {
        **os.environ,
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_DATA_DIR": str(settings.data_dir),
        **(env_extra or {}),
    }
    if tls:
        env.update(VIGIL_TLS_CERTFILE=tls[0], VIGIL_TLS_KEYFILE=tls[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.extend(stdout), daemon=True).start()
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    verify: str | bool = tls[0] if tls else True
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            token = next((line.strip() for line in lines if line.strip().startswith("vgl_")), "")
            try:
                if httpx.get(f"{base}/healthz", timeout=1, verify=verify).status_code == 200:
                    said = re.search(r"with password (\S+)", "".join(lines))
                    return Server(base, token, proc, said[1] if said else "")
            except httpx.TransportError:
                time.sleep(0.05)
            if proc.poll() is not None:
                raise RuntimeError(f"vigil serve exited: {''.join(lines)}")
        raise RuntimeError(f"vigil serve did not start: {''.join(lines)}")
    except BaseException:
        # Never leave a server behind when starting fails, whatever the reason.
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise


def stop(server: Server) -> None:
    """Stop a server with SIGTERM (SIGKILL if it hangs)."""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def self_signed(directory: str) -> tuple[str, str]:
    """Write a certificate for 127.0.0.1 and its key; return their paths."""
    cert, key = f"{directory}/cert.pem", f"{directory}/key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def running(
    settings: Settings,
    tls: tuple[str, str] | None = None,
    env_extra: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run a server for the duration of a ``with`` block."""
    server = start(settings, tls=tls, env_extra=env_extra)
    try:
        yield server
    finally:
        stop(server)
