"""Run `vigil` commands in forks of one process that has already imported Vigil (tests only).

A `vigil` process spends about a second importing before it does anything; tests that run
documented shell examples (dozens of `vigil` commands each) spent most of their time there.
`fork_server()` starts one process that imports the CLI and the libraries its commands load,
and puts a `vigil` launcher first on PATH. Each command is a fresh fork of that process:
its own pid, the caller's arguments, environment, working directory and standard streams
(passed over a Unix socket), and its exit code comes back to the caller. Signals sent to the
launcher (SIGTERM, SIGINT, SIGHUP) are passed on to the command. The command runs the same
code as the installed entry point; tests of the entry point itself run it directly.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

_LAUNCHER = """\
import array, json, os, signal, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect({sock!r})
msg = json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}).encode()
fds = array.array("i", [0, 1, 2])
s.sendmsg([struct.pack("!I", len(msg)) + msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
reply = s.makefile("r")
pid = int(reply.readline())
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, lambda n, _f: os.kill(pid, n))
line = reply.readline()
sys.exit(int(line) if line.strip() else 1)
"""


def _preload() -> None:
    """Import every Vigil module and the channel library, so a fork starts with them loaded
    (importing starts no threads: the forks are taken from a single-threaded process)."""
    import importlib
    import pkgutil

    import apprise  # noqa: F401

    import vigil

    for module in pkgutil.walk_packages(vigil.__path__, "vigil."):
        if not module.name.endswith("__main__") and ".migrations" not in module.name:
            importlib.import_module(module.name)


def _run_command(request: dict[str, object], fds: list[int]) -> None:
    """In the fork: become the caller's command, run it, exit with its code."""
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    for fd in fds:
        os.close(fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(request["env"])  # type: ignore[arg-type]
    sys.argv = ["vigil", *request["argv"]]  # type: ignore[misc]
    code = 1
    try:
        from vigil.cli import main

        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)


def _recv(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    fds = array.array("i")
    data, ancdata, _flags, _addr = conn.recvmsg(1 << 20, socket.CMSG_LEN(3 * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    (size,) = struct.unpack("!I", data[:4])
    body = data[4:]
    while len(body) < size:
        body += conn.recv(size - len(body))
    return json.loads(body), list(fds)


def serve(sock_path: str) -> None:
    """The fork server's loop: single-threaded, so every fork is taken from a quiet process."""
    _preload()
    server = socket.socket(socket.AF_UNIX)
    server.bind(sock_path)
    server.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ)
    waiting: dict[int, socket.socket] = {}
    while True:
        for _key, _mask in selector.select(timeout=0.02):
            conn, _ = server.accept()
            request, fds = _recv(conn)
            pid = os.fork()
            if pid == 0:
                server.close()
                conn.close()
                _run_command(request, fds)
            for fd in fds:
                os.close(fd)
            conn.sendall(f"{pid}\n".encode())
            waiting[pid] = conn
        while waiting:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            conn = waiting.pop(pid, None)
            if conn is not None:
                code = os.waitstatus_to_exitcode(status)
                code = 128 - code if code < 0 else code  # killed by a signal: as a shell says
                with contextlib.suppress(OSError):
                    conn.sendall(f"{code}\n".encode())
                conn.close()


@contextlib.contextmanager
def fork_server() -> Iterator[Path]:
    """Start a fork server; yield a folder holding a `vigil` launcher to put first on PATH."""
    folder = Path(tempfile.mkdtemp(prefix="vigil-fork-"))
    sock = folder / "fork.sock"
    launcher = folder / "vigil"
    launcher.write_text(f"#!{sys.executable} -S\n" + _LAUNCHER.format(sock=str(sock)))
    launcher.chmod(0o755)
    proc = subprocess.Popen([sys.executable, "-m", "tests.cli_fork_server", str(sock)])
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the vigil fork server did not start")
            time.sleep(0.02)
        yield folder
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for path in (launcher, sock):
            path.unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    serve(sys.argv[1])
