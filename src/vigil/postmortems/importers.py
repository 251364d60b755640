"""Timeline importers for gathering timeline data: git history and log files."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from vigil.errors import ValidationError
from vigil.postmortems.schemas import TimelineItemCreate
from vigil.validation import as_instant

__all__ = ["git_entries", "log_entries", "parse_log_time"]

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# Tried in order; each yields (time, rest of the line).
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)")
_CLF = re.compile(r"\[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")
_SYSLOG = re.compile(r"^(\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})")


def parse_log_time(line: str, year: int) -> dt.datetime | None:
    """Find a timestamp in a log line: ISO 8601 (also with a comma for milliseconds, as
    Python's logging writes), common log format ``[26/Dec/2025:14:30:15 +0000]`` or syslog
    ``Dec 26 14:30:15`` (year taken from the window). Times without an offset are UTC.

    Raises ValueError for a timestamp that cannot exist (e.g. 2025-02-30)."""
    match = _ISO.search(line)
    if match:
        text = match.group(1).replace(",", ".").replace("Z", "+00:00")
        if re.search(r"[+-]\d{4}$", text):
            text = text[:-2] + ":" + text[-2:]
        return as_instant(dt.datetime.fromisoformat(text))
    match = _CLF.search(line)
    if match:
        day, mon, yr, hh, mm, ss, off = match.groups()
        if mon.lower() not in _MONTHS:
            return None
        tz = dt.timezone(dt.timedelta(hours=int(off[:3]), minutes=int(off[0] + off[3:])))
        return dt.datetime(
            int(yr), _MONTHS[mon.lower()], int(day), int(hh), int(mm), int(ss), tzinfo=tz
        ).astimezone(dt.UTC)
    match = _SYSLOG.search(line)
    if match and match.group(1).lower() in _MONTHS:
        mon, day, hh, mm, ss = match.groups()
        return dt.datetime(
            year, _MONTHS[mon.lower()], int(day), int(hh), int(mm), int(ss), tzinfo=dt.UTC
        )
    return None


def log_entries(
    path: Path,
    *,
    since: dt.datetime,
    until: dt.datetime,
    pattern: str | None = None,
    component: str | None = None,
    skipped: list[str] | None = None,
) -> Iterator[TimelineItemCreate]:
    """Yield timestamped lines in [since, until] matching ``pattern``, with ``file:line`` evidence.

    A line whose timestamp cannot exist (30 February, hour 25) is left out and its
    ``file:line`` appended to ``skipped``.
    """
    if not path.is_file():
        raise ValidationError(f"log file {path} does not exist", field="file")
    try:
        regex = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise ValidationError(
            f"pattern {pattern!r} is not a valid regular expression: {exc}", field="pattern"
        ) from exc
    since, until = as_instant(since), as_instant(until)
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            text = line.rstrip("\n")
            if regex and not regex.search(text):
                continue
            try:
                when = parse_log_time(text, since.year)
            except (ValueError, OverflowError):
                if skipped is not None:
                    skipped.append(f"{path.name}:{number}")
                continue
            if when is None or not since <= when <= until:
                continue
            yield TimelineItemCreate(
                at=when,
                event=text.strip()[:500],
                component=component or path.stem,
                evidence=f"{path.name}:{number}",
            )


def git_entries(
    repo: Path, *, since: dt.datetime, until: dt.datetime
) -> Iterator[TimelineItemCreate]:
    """Yield commits made in [since, until] with their short hash as evidence."""
    since, until = as_instant(since), as_instant(until)
    result = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "log",
            f"--since={since.isoformat()}",
            f"--until={until.isoformat()}",
            "--pretty=format:%H%x09%cI%x09%an%x09%s",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ValidationError(f"git log failed in {repo}: {result.stderr.strip()}", field="repo")
    for line in result.stdout.splitlines():
        sha, when, author, subject = line.split("\t", 3)
        yield TimelineItemCreate(
            at=dt.datetime.fromisoformat(when),
            event=f"Commit: {subject}",
            component=f"git ({author})",
            evidence=f"`{sha[:7]}`",
        )
