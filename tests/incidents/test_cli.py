"""The CLI through Typer's runner, on both backends."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli import app
from vigil.config import Settings

runner = CliRunner()


def vigil(settings: Settings, *args: str) -> tuple[int, str, str]:
    env = {"VIGIL_DATA_DIR": str(settings.data_dir), "VIGIL_ACTOR": "tester"}
    result = runner.invoke(app, ["--db", str(settings.database_url), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_declare_ack_resolve_show_json(settings: Settings) -> None:
    code, out, _ = vigil(
        settings, "declare", "Disk full", "-s", "HIGH", "-c", "system_error", "--label", "env=prod"
    )
    assert (code, out.strip()) == (0, "INC_001")
    assert vigil(settings, "ack", "INC_001", "-m", "on it")[0] == 0
    assert vigil(settings, "resolve", "INC_001", "-r", "cleaned /var")[0] == 0
    code, out, _ = vigil(settings, "show", "INC_001", "--json")
    data = json.loads(out)
    assert data["status"] == "resolved" and data["labels"] == {"env": "prod"}
    assert [e["kind"] for e in data["timeline"]] == ["created", "status_changed", "status_changed"]
    assert {e["actor"] for e in data["timeline"]} == {"tester"}


def test_list_filters_and_json(settings: Settings) -> None:
    vigil(settings, "declare", "a", "-s", "low", "--resource", "cam-1")
    vigil(settings, "declare", "b", "-s", "critical", "--project", "p9")
    code, out, _ = vigil(settings, "list", "--severity", "critical", "--json")
    assert code == 0
    assert [i["title"] for i in json.loads(out)["items"]] == ["b"]
    code, out, _ = vigil(settings, "list", "--resource", "cam-1")
    assert code == 0 and "INC_001" in out and "INC_002" not in out
    code, out, _ = vigil(settings, "list", "-q", "b", "--json")
    assert [i["id"] for i in json.loads(out)["items"]] == ["INC_002"]


def test_update_note_close_reopen_summary_recurrence(settings: Settings) -> None:
    vigil(settings, "declare", "x", "-c", "WORKER_FAILURE")
    assert vigil(settings, "update", "INC_001", "--root-cause", "OOM", "-s", "critical")[0] == 0
    assert vigil(settings, "note", "INC_001", "raised memory")[0] == 0
    for cmd in ("investigate", "resolve", "close", "reopen"):
        assert vigil(settings, cmd, "INC_001")[0] == 0, cmd
    code, out, _ = vigil(settings, "summary", "--json")
    assert json.loads(out)["by_severity"] == {"critical": 1}
    code, out, _ = vigil(settings, "recurrence", "worker_failure", "--days", "7", "--json")
    assert json.loads(out)["total_incidents"] == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("declare", "x", "-s", "apocalyptic"), 2, "critical, high, medium, low"),
        (("show", "INC_404"), 4, "INC_404"),
        (("close", "INC_001"), 5, "can go to"),
        (("list", "--status", "sleeping"), 2, "status 'sleeping' is not one of"),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    settings: Settings, args: tuple[str, ...], code: int, message: str
) -> None:
    vigil(settings, "declare", "seed")
    got, out, err = vigil(settings, *args)
    assert got == code
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_tokens(settings: Settings) -> None:
    code, out, err = vigil(settings, "token", "create", "ci", "--scope", "write")
    assert code == 0 and out.strip().startswith("vgl_") and "not shown again" in err
    code, out, _ = vigil(settings, "token", "list", "--json")
    assert [t["name"] for t in json.loads(out)] == ["ci"] and out.count("vgl_") == 1
    assert vigil(settings, "token", "revoke", "ci")[0] == 0
    assert json.loads(vigil(settings, "token", "list", "--json")[1]) == []
    assert vigil(settings, "token", "create", "x", "--scope", "root")[0] == 2


def _legacy_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE incidents (
            incident_id TEXT PRIMARY KEY, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
            project_id TEXT, order_id TEXT, task_id TEXT, category TEXT NOT NULL,
            severity TEXT NOT NULL DEFAULT 'MEDIUM', description TEXT NOT NULL,
            root_cause TEXT, resolution TEXT, affected_records TEXT,
            created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
        INSERT INTO incidents VALUES ('INC_001', '2026-02-06 10:00:00', 'ai_pm_manager', 'ORDER_088',
            NULL, 'MIGRATION_ERROR', 'HIGH', 'Schema migration failed', 'Missing FK', 'Added FK',
            '["TASK_917", "TASK_918"]', '2026-02-06 10:00:00');
        INSERT INTO incidents VALUES ('INC_002', '2026-02-07 11:30:00', NULL, NULL, 'TASK_920',
            'WORKER_FAILURE', 'LOW', 'Worker crashed', NULL, NULL, NULL, '2026-02-07 11:30:00');
        INSERT INTO incidents VALUES ('INC_003', '2026-02-08 09:00:00', NULL, NULL, NULL,
            'NETWORK', 'MEDIUM', 'Switch lost uplink', NULL, NULL, NULL, '2026-02-08 09:00:00');
        """
    )
    conn.commit()
    conn.close()


def test_import_legacy_sqlite_is_idempotent_and_keeps_ids(
    settings: Settings, tmp_path: Path
) -> None:
    legacy = tmp_path / "aipm.db"
    _legacy_db(legacy)
    code, out, _ = vigil(settings, "import", "legacy-sqlite", str(legacy), "--json")
    first = json.loads(out)
    assert code == 0 and first["imported"] == ["INC_001", "INC_002", "INC_003"]
    assert first["mapped"] == {"category NETWORK -> OTHER (kept as label legacy_category)": 1}
    code, out, _ = vigil(settings, "import", "legacy-sqlite", str(legacy), "--json")
    assert json.loads(out) == {"imported": [], "skipped": 3, "renamed": {}, "mapped": {}}
    data = json.loads(vigil(settings, "show", "INC_001", "--json")[1])
    assert data["affected_records"] == ["TASK_917", "TASK_918"]
    assert data["detected_at"].startswith("2026-02-06T10:00:00")
    assert data["status"] == "resolved" and data["severity"] == "high"
    assert vigil(settings, "declare", "new one")[1].strip() == "INC_004"
    assert vigil(settings, "import", "legacy-sqlite", str(tmp_path / "missing.db"))[0] == 2


def test_db_commands(settings: Settings, tmp_path: Path) -> None:
    code, out, _ = vigil(settings, "db", "status", "--json")
    assert json.loads(out)["up_to_date"] is True
    code, out, _ = vigil(settings, "db", "upgrade", "-v")
    assert code == 0 and "nothing to do" in out
    if settings.database_url and settings.database_url.startswith("sqlite"):
        vigil(settings, "declare", "keep me")
        code, out, _ = vigil(settings, "db", "backup", "-o", str(tmp_path / "b.db"))
        assert code == 0
        vigil(settings, "declare", "lose me")
        assert vigil(settings, "db", "restore", str(tmp_path / "b.db"))[0] == 0
        items = json.loads(vigil(settings, "list", "--json")[1])["items"]
        assert [i["title"] for i in items] == ["keep me"]


def test_upgrade_dry_run_on_new_file(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    result = runner.invoke(
        app, ["db", "upgrade", "--dry-run", "--db", str(db)], env={"VIGIL_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0 and "CREATE TABLE incidents" in result.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
