"""Postmortem rules: five whys, importers, escaping, quick report, actions, learning, CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from tests.factories import make_incident
from vigil.cli import app
from vigil.config import Settings
from vigil.db.store import Store
from vigil.errors import ConflictError, ValidationError
from vigil.postmortems import actions, service
from vigil.postmortems.importers import git_entries, log_entries, parse_log_time
from vigil.postmortems.render import escape_md, render_postmortem
from vigil.postmortems.schemas import ActionItemCreate, ActionItemUpdate, PostmortemUpdate

T = dt.datetime(2025, 12, 26, 14, 0, tzinfo=dt.UTC)


def _pm(store: Store, **fields: object) -> str:
    ref = make_incident(store, detected_at=T, **fields)
    with store.write() as session:
        service.create_postmortem(session=session, ref=ref, actor="t")
    return ref


def test_five_whys_rules(store: Store) -> None:
    ref = _pm(store)
    with store.write() as session, pytest.raises(ValidationError, match="at least one why"):
        service.set_root_cause(session=session, ref=ref, text="guess")
    with store.write() as session:
        service.start_five_whys(session=session, ref=ref, facilitator="Ana", problem="500s")
        for n in range(7):  # more than five is allowed
            service.add_why(
                session=session,
                ref=ref,
                question=f"Why {n}?",
                answer=f"Because {n}",
                answered_by="Bo",
            )
        service.set_root_cause(
            session=session, ref=ref, text="no migration check", category="process"
        )
    with store.read() as session:
        pm = service.read_postmortem(session=session, ref=ref)
    assert [w.number for w in pm.whys] == list(range(1, 8))
    assert pm.root_cause == "no migration check"
    with store.write() as session, pytest.raises(ConflictError, match="already has"):
        service.create_postmortem(session=session, ref=ref, actor="t")


def test_scaffold_takes_the_incident_timeline_and_status_flow(store: Store) -> None:
    ref = _pm(store, description="Pool exhausted", root_cause="missing index")
    with store.write() as session:
        pm = service.update_postmortem(
            session=session, ref=ref, data=PostmortemUpdate(status="in review")
        )
        assert pm.completed_at is None
        pm = service.update_postmortem(
            session=session, ref=ref, data=PostmortemUpdate(status="published")
        )
        assert pm.completed_at is not None
        with pytest.raises(ValidationError, match="draft, in_review, published"):
            service.update_postmortem(
                session=session, ref=ref, data=PostmortemUpdate(status="shipped")
            )
        with pytest.raises(ValidationError, match=r"sections\.fix\.type"):
            service.update_postmortem(
                session=session, ref=ref, data=PostmortemUpdate(sections={"fix": {"type": "MAGIC"}})
            )
    with store.read() as session:
        pm = service.read_postmortem(session=session, ref=ref)
    assert pm.summary == "Pool exhausted"
    assert pm.root_cause == "missing index"
    assert pm.timeline[0].source == "incident"
    assert pm.timeline[0].event.startswith("Declared")


def test_log_times_and_importer(tmp_path: Path) -> None:
    assert parse_log_time("2025-12-26T14:30:15Z ERROR x", 2025) == dt.datetime(
        2025, 12, 26, 14, 30, 15, tzinfo=dt.UTC
    )
    assert parse_log_time("2025-12-26 14:30:15,123 ERROR x", 2025) == dt.datetime(
        2025, 12, 26, 14, 30, 15, 123000, tzinfo=dt.UTC
    )
    assert parse_log_time("2025-12-26T16:30:15+02:00 x", 2025) == dt.datetime(
        2025, 12, 26, 14, 30, 15, tzinfo=dt.UTC
    )
    assert parse_log_time('1.2.3.4 - - [26/Dec/2025:14:30:15 +0000] "GET /"', 2025) == dt.datetime(
        2025, 12, 26, 14, 30, 15, tzinfo=dt.UTC
    )
    assert parse_log_time("Dec 26 14:30:15 host app[1]: boom", 2025) == dt.datetime(
        2025, 12, 26, 14, 30, 15, tzinfo=dt.UTC
    )
    assert parse_log_time("no time here", 2025) is None
    log = tmp_path / "backend.log"
    log.write_text(
        "2025-12-26 13:59:59 ERROR early\n2025-12-26 14:30:15 ERROR first 500\n2025-12-26 14:31:00 INFO ok\n"
        "garbage line\n2025-12-26 14:32:00 WARN pool at 95%\n"
    )
    got = list(log_entries(log, since=T, until=T + dt.timedelta(hours=1), pattern="ERROR|WARN"))
    assert [(e.event.split()[-1], e.evidence) for e in got] == [
        ("500", "backend.log:2"),
        ("95%", "backend.log:5"),
    ]
    with pytest.raises(ValidationError, match="regular expression"):
        list(log_entries(log, since=T, until=T, pattern="("))


def test_git_importer(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "d@x",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "d@x",
    }
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for when, msg in (
        ("2025-12-26T13:00:00Z", "before"),
        ("2025-12-26T14:42:00Z", "fix: add missing indexes"),
    ):
        (tmp_path / "f").write_text(msg)
        subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
        subprocess.run(
            ["git", "-C", str(tmp_path), "commit", "-q", "-m", msg],
            check=True,
            env={**env, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
        )
    got = list(git_entries(tmp_path, since=T, until=T + dt.timedelta(hours=1)))
    assert len(got) == 1
    assert got[0].event == "Commit: fix: add missing indexes"
    assert got[0].at == dt.datetime(2025, 12, 26, 14, 42, tzinfo=dt.UTC)
    assert got[0].evidence.startswith("`") and len(got[0].evidence) == 9


def test_user_text_cannot_break_the_markdown(store: Store) -> None:
    ref = _pm(store, title="a | b")
    with store.write() as session:
        service.update_postmortem(
            session=session,
            ref=ref,
            data=PostmortemUpdate(
                summary="# Not a heading\n- not a list | nor a table\n<script>x</script>",
                sections={
                    "contributing_factors": [
                        {"category": "pipe | here", "description": "## also not"}
                    ]
                },
            ),
        )
        actions.create_action(
            session=session, ref=ref, data=ActionItemCreate(title="x | y\nz", priority="high")
        )
        md = render_postmortem(session=session, ref=ref)
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert "Not a heading" not in " ".join(headings)
    assert "also not" not in " ".join(headings)
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 2 + 1 + 1  # timeline header + 1 entry, action items header + 1
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert "<script>" not in html
    assert escape_md("1. item") == "1\\. item"


def test_quick_report(store: Store) -> None:
    ref = make_incident(store, detected_at=T)
    with store.write() as session:
        service.create_postmortem(session=session, ref=ref, actor="t", kind="quick")
        service.update_postmortem(
            session=session,
            ref=ref,
            data=PostmortemUpdate(
                summary="Cron job failed",
                root_cause="expired credentials",
                sections={"quick_fix": "rotated", "quick_prevention": "alert on expiry"},
            ),
        )
        md = render_postmortem(session=session, ref=ref)
    for line in (
        "## Quick Incident Report",
        "**Issue**: Cron job failed",
        "**Time**: 2025-12-26 14:00:00 UTC",
        "**Root Cause**: expired credentials",
        "**Fix**: rotated",
        "**Prevention**: alert on expiry",
    ):
        assert line in md


def test_actions_overdue_rates_and_validation(store: Store) -> None:
    ref = make_incident(store)
    with store.write() as session:
        for title, owner, due in (
            ("a", "ana", dt.date(2020, 1, 1)),
            ("b", "ana", None),
            ("c", "bo", dt.date(2999, 1, 1)),
        ):
            actions.create_action(
                session=session,
                ref=ref,
                data=ActionItemCreate(title=title, owner=owner, due_date=due, type="Testing"),
            )
        actions.update_action(
            session=session, ref=f"{ref}/AI-002", data=ActionItemUpdate(status="done")
        )
        with pytest.raises(ValidationError, match="automation, monitoring"):
            actions.create_action(
                session=session, ref=ref, data=ActionItemCreate(title="x", type="vibes")
            )
        with pytest.raises(ValidationError, match="--incident"):
            actions.get_action(session=session, ref="AI-001")
    with store.read() as session:
        overdue = actions.list_actions(session=session, overdue=True)
        assert [a.id for a in overdue] == ["AI-001"]
        rates = {r["owner"]: r for r in actions.completion_rates(session=session)}
    assert rates["ana"]["completion_rate"] == 50.0
    assert rates["bo"]["completion_rate"] == 0.0


def test_cli_flow_and_learning_report(settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"VIGIL_DATA_DIR": str(settings.data_dir), "VIGIL_ACTOR": "tester"}

    def vigil(*args: str) -> str:
        result = runner.invoke(app, ["--db", str(settings.database_url), *args], env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    vigil("declare", "Pool exhausted", "-s", "high")
    vigil("postmortem", "new", "INC_001")
    vigil("whys", "start", "INC_001", "--facilitator", "Ana", "--problem", "500s")
    vigil("whys", "add", "INC_001", "Why 500?", "Pool exhausted", "--by", "Bo")
    vigil("whys", "root-cause", "INC_001", "No migration check", "--category", "process")
    data = tmp_path / "pm.json"
    data.write_text(
        json.dumps(
            {
                "sections": {
                    "contributing_factors": [{"category": "Lack of monitoring", "description": "x"}]
                }
            }
        )
    )
    vigil(
        "postmortem", "update", "INC_001", "--file", str(data), "--review-at", "2099-01-01T10:00:00"
    )
    vigil(
        "timeline",
        "add",
        "INC_001",
        "--at",
        "2025-12-26T14:30:15",
        "--event",
        "First error",
        "--evidence",
        "log:1",
    )
    assert (
        vigil(
            "actions", "add", "INC_001", "Add alert", "--type", "monitoring", "--due", "2099-01-02"
        ).strip()
        == "INC_001/AI-001"
    )
    assert "gh issue create" in vigil("actions", "export-github", "--repo", "acme/x", "--dry-run")
    assert "INC_001/AI-001: completed" in vigil(
        "actions", "update", "AI-001", "--incident", "INC_001", "--status", "completed"
    )
    assert "BEGIN:VCALENDAR" in vigil("calendar", "export")
    assert "### Contributing Factors" in vigil("postmortem", "render", "INC_001")
    assert "<table>" in vigil("postmortem", "render", "INC_001", "--format", "html")
    learning = json.loads(vigil("report", "learning", "--window", "90d", "--json"))
    assert learning["contributing_factors"] == [{"category": "lack of monitoring", "count": 1}]
    assert learning["root_cause_categories"] == [{"category": "process", "count": 1}]
    text = vigil("report", "learning", "--window", "90d").splitlines()
    factors = text.index("Contributing factors:")
    assert text[factors + 1].split() == ["category", "count"]
    assert text[factors + 2].split() == ["lack", "of", "monitoring", "1"]


def test_log_import_skips_and_reports_impossible_timestamps(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "2025-12-26T14:30:00Z ERROR first\n"
        "2025-02-30T14:31:00Z ERROR impossible day\n"
        "0001-01-01T00:00:00+01:00 ERROR before time\n"
        "2025-12-26T14:32:00Z ERROR second\n"
    )
    skipped: list[str] = []
    got = list(
        log_entries(
            log, since=T - dt.timedelta(days=400), until=T + dt.timedelta(hours=1), skipped=skipped
        )
    )
    assert [e.event.split()[-1] for e in got] == ["first", "second"]
    assert skipped == ["app.log:2", "app.log:3"]
