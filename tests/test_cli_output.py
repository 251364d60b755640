"""The CLI's one output layer: readable tables, plain columns when piped, JSON on request,
durations and figures people read at a glance, help that names what to type."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from vigil.cli import app
from vigil.cli_output import print_table
from vigil.config import Settings
from vigil.formats import duration, figure, report_cell

runner = CliRunner()
LONG_TITLE = "Database connection pool exhausted on the primary cluster right after the deploy"

#: Commands that list or show something; each must offer --json (reports offer -f json).
_READERS = {
    "list", "show", "stats", "now", "log", "resources", "summary", "recurrence", "status",
    "dashboard", "learning", "paging", "final",
}  # fmt: skip
#: Documents rather than lists: the weekly report is Markdown, the dashboard Grafana's JSON.
_DOCUMENTS = {"report weekly", "grafana dashboard"}


def vigil(settings: Settings, *args: str) -> str:
    env = {"VIGIL_DATA_DIR": str(settings.data_dir), "VIGIL_ACTOR": "tester"}
    result = runner.invoke(app, ["--db", str(settings.database_url), *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def _commands() -> Iterator[tuple[list[str], typer.core.TyperCommand]]:
    def walk(group: object, path: list[str]) -> Iterator[tuple[list[str], object]]:
        for name, command in getattr(group, "commands", {}).items():
            if getattr(command, "commands", None):
                yield from walk(command, [*path, name])
            else:
                yield [*path, name], command

    yield from walk(typer.main.get_command(app), [])  # type: ignore[misc]


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # output, not storage
def test_piped_tables_are_header_and_columns_never_wrapped_or_truncated(
    settings: Settings,
) -> None:
    vigil(settings, "declare", LONG_TITLE, "-s", "high", "-c", "CONCURRENCY_ERROR")
    vigil(settings, "declare", "Disk full", "-s", "low", "--service", "api")
    header, *rows = vigil(settings, "list").splitlines()
    assert _columns(header) == ["ID", "Severity", "Status", "Category", "Detected", "Title"]
    assert len(rows) == 2  # one line per incident: nothing wrapped
    first = _columns(rows[1])
    assert first[0] == "INC_001" and first[3] == "CONCURRENCY_ERROR" and first[5] == LONG_TITLE
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", first[4])
    assert vigil(settings, "actions", "list").strip() == "(none)"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_show_reads_as_text_with_human_durations(settings: Settings) -> None:
    vigil(settings, "declare", "Disk full", "-s", "high", "-l", "site=lab", "-l", "rack=4")
    vigil(settings, "ack", "INC_001")
    vigil(settings, "resolve", "INC_001", "--at", "now")
    out = vigil(settings, "show", "INC_001")
    assert "{" not in out and "'" not in out  # no Python dict or list text
    fields = dict(_columns(line) for line in out.split("\n\n")[0].splitlines())
    assert fields["labels"] == "site=lab, rack=4"
    assert re.fullmatch(r"\d+(\.\d)?s", fields["total_duration_seconds"])
    assert "Timeline:" in out and "Status open → acknowledged" in out


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_reports_name_empty_groups_use_durations_and_round_csv(settings: Settings) -> None:
    vigil(settings, "declare", "a", "-s", "high", "--service", "api")
    vigil(settings, "declare", "b", "-s", "high")
    for ref in ("INC_001", "INC_002"):
        vigil(settings, "ack", ref)
    header, *rows = vigil(settings, "report", "response", "--group-by", "service").splitlines()
    assert _columns(header)[:3] == ["group", "incidents", "mtta median"]
    groups = {_columns(r)[0]: _columns(r) for r in rows}
    assert set(groups) == {"api", "(none)"}
    assert re.fullmatch(r"\d+(\.\d)?s", groups["api"][2])
    table = list(csv.DictReader(io.StringIO(vigil(settings, "report", "response", "-f", "csv"))))
    mean = table[0]["mtta_mean"]
    assert mean and len(mean.partition(".")[2]) <= 3, mean
    markdown = vigil(settings, "report", "response", "--group-by", "service", "-f", "markdown")
    assert "| (none) |" in markdown and "| mtta median |" in markdown


def test_every_command_that_lists_or_shows_offers_json() -> None:
    missing = []
    for path, command in _commands():
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        reader = path[-1] in _READERS or path[0] == "report"
        if reader and " ".join(path) not in _DOCUMENTS and not {"--json", "--format"} & options:
            missing.append(" ".join(path))
    assert not missing, ", ".join(missing)


def test_help_names_what_to_type_not_python_types() -> None:
    leaks = {}
    for path, _command in _commands():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, (path, result.output)
        found = re.findall(r"<(?:str|bool|int|float|list\[[^\]]*\])>|\{[a-z_]+\}", result.output)
        if found:
            leaks[" ".join(path)] = found
    assert not leaks, leaks
    help_text = runner.invoke(app, ["show", "--help"], env={"COLUMNS": "100"}).output
    assert "vigil show [OPTIONS] REF" in help_text


def test_on_a_terminal_typed_markup_stays_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stdout", screen)
    monkeypatch.setenv("COLUMNS", "60")
    print_table(["ID", "Title"], [["INC_001", "[bold red]boom[/] " + "x" * 80]])
    drawn = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue())  # colours aside
    assert "[bold red]boom[/]" in drawn  # shown as typed, not as a style
    assert "INC_001" in drawn and max(len(line) for line in drawn.splitlines()) <= 60
    monkeypatch.setattr("sys.stdout", io.StringIO())  # piped: the same escaping
    print_table(["Title"], [["\x1b[2Jwiped \x07"]])
    assert capsys.readouterr().out == "" and "\\x1b[2Jwiped \\x07" in sys.stdout.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"), (0, "0s"), (1.161, "1.2s"), (42, "42s"), (903, "15m 3s"), (900, "15m"),
        (15_120, "4.2 h"), (26_242_779.279, "303.7 d"), (-3_600, "-1.0 h"),
    ],
)  # fmt: skip
def test_durations_read_at_a_glance(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_figures_are_rounded_and_cells_named() -> None:
    assert figure(99.95349) == "99.953" and figure(0.0) == "0" and figure(12345) == "12,345"
    assert report_cell("mttr_p90", 5400.0) == "1.5 h" and report_cell("mttr_count", 3) == "3"
    assert report_cell("group", None) == "(none)"
    assert report_cell("detected_at", "2026-12-03T14:05:09Z") == "2026-12-03 14:05 UTC"
    assert json.loads(json.dumps(figure(None))) == "-"
