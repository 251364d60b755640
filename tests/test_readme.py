"""The README's examples, run in order on a fresh database as a new user would.

Python blocks run in one interpreter; shell blocks run with bash against a real `vigil serve`.
Only what cannot leave this machine is rewritten: the example mail server and webhook hosts
point at receivers on loopback, and the server's address and the printed token are filled in.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli_fork_server import fork_server
from tests.notify.receivers import smtp_receiver, webhook_receiver
from tests.server import running
from vigil.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(kind: str) -> list[tuple[str, str]]:
    """(section heading, code) of every ``kind`` block after the quick start, in order."""
    text = README.read_text().split("## Library", 1)[1]
    found = []
    for section in re.split(r"\n## ", text):
        heading = section.split("\n", 1)[0]
        found += [(heading, code) for code in re.findall(rf"```{kind}\n(.*?)```", section, re.S)]
    return found


def _sh(script: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"{script}\n--- out:\n{done.stdout}\n--- err:\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a new user's default
def test_readme_examples_run_in_order_on_a_fresh_database(
    settings: Settings, tmp_path: Path
) -> None:
    db = settings.data_dir / "vigil.db"
    db.unlink()  # as fresh as a new machine: the library creates it
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # the installed `vigil`
        "VIGIL_DATA_DIR": str(settings.data_dir),
        "VIGIL_DATABASE_URL": str(settings.database_url),
        "VIGIL_ACTOR": "readme",
    }
    python = "\n".join(code for _h, code in _blocks("python"))
    prelude = "def run_migration():\n    pass\n"  # the block it guards is the reader's own
    subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(python)],
        env=env, cwd=tmp_path, check=True, timeout=60,
    )  # fmt: skip
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "backend.log").write_text(
        "2025-12-26 14:05:00 ERROR pool exhausted\n2025-12-26 14:06:00 INFO ok\n"
    )
    with (
        smtp_receiver() as mailbox,
        webhook_receiver() as hook,
        running(settings) as server,
        fork_server() as bin_dir,
    ):
        env["TOKEN"] = server.token
        env["PATH"] = f"{bin_dir}:{env['PATH']}"  # the same commands, started as forks
        # One terminal, as a reader would use: what one section exports, the next one has.
        script = "".join(f"echo '::section::{h}'\n{code}" for h, code in _blocks("bash"))
        script = (
            script.replace("http://127.0.0.1:8000", server.base)
            .replace("TOKEN=vgl_...", "true")
            .replace(
                "'mailtos://user:app-password@smtp.example.com?to=oncall@example.com'",
                f"'{mailbox.url}'",
            )
            .replace("https://hooks.example.com/vigil", hook.url)
            .replace("https://hooks.example.com/ann", hook.url + "/ann")
            # It exits 1 when it finds something, as it does here (ann is not verified yet).
            .replace("vigil oncall check ", "vigil oncall check || true ")
        )
        said = _sh(script, env, tmp_path)
    outputs = {
        part.split("\n", 1)[0]: part.split("\n", 1)[1] if "\n" in part else ""
        for part in said.split("::section::")[1:]
    }
    assert '"error"' not in outputs["REST API"], outputs["REST API"]
    created, _end = json.JSONDecoder().raw_decode(outputs["REST API"].strip())
    assert created["id"] == "INC_003"
    assert '"INC_004"' in outputs["Detection"] and '"opened"' in outputs["Detection"]
    assert "delivered" in outputs["Notifications"] and len(mailbox.messages) == 1
    assert (tmp_path / "INC_002.md").read_text().count("The connection pool was exhausted") >= 1
