"""Report windows, flattening and rendering (table rows, JSON, CSV, Markdown), weekly report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from vigil.db import utcnow
from vigil.errors import ValidationError
from vigil.formats import label, report_cell, rounded
from vigil.validation import EARLIEST, as_instant, require_one_of

__all__ = [
    "FORMATS",
    "csv_safe",
    "flatten",
    "parse_window",
    "render",
    "weekly_report",
    "window_bounds",
]

FORMATS = ("table", "json", "csv", "markdown")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


_LONGEST_WINDOW = 36525 * 86400


def parse_window(text: str) -> dt.timedelta:
    """Parse ``24h``, ``7d``, ``30d``, ``2w`` or ``90m``."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise ValidationError(f"window {text!r} is not like 24h, 7d, 30d or 2w", field="window")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > _LONGEST_WINDOW:
        raise ValidationError(
            f"window {text!r} is longer than the longest allowed, 100 years (36525d)",
            field="window",
        )
    return dt.timedelta(seconds=seconds)


def window_bounds(
    window: str | None, start: dt.datetime | None, end: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime]:
    """Return [start, end): explicit bounds win; otherwise ``window`` back from now (default 7d)."""
    end = as_instant(end, field="end") if end else utcnow()
    if start is None:
        start = end - parse_window(window or "7d")
        if start < EARLIEST:
            raise ValidationError(f"window {window!r} reaches back before 1900", field="window")
    else:
        start = as_instant(start, field="start")
    if end <= start:
        raise ValidationError("the window end must be after its start", field="end")
    return start, end


def flatten(item: BaseModel | dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested models into one level of ``a_b`` keys (for tables and CSV)."""
    data = item.model_dump(mode="json") if isinstance(item, BaseModel) else item
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}_"))
        elif isinstance(value, list):
            out[name] = ", ".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def _md_text(value: Any) -> str:
    """A value inside a Markdown table row: pipes escaped, one line."""
    return ("" if value is None else str(value)).replace("|", "\\|").replace("\n", " ")


def _md_cell(column: str, value: Any) -> str:
    return _md_text(report_cell(column, value))


def render(rows: Sequence[BaseModel], fmt: str, columns: Sequence[str] | None = None) -> str:
    """Render rows as JSON, CSV or Markdown (``table`` renders Markdown too; the CLI draws it)."""
    require_one_of(fmt, FORMATS, field="format")
    if fmt == "json":
        return json.dumps([r.model_dump(mode="json") for r in rows], indent=2)
    flat = [flatten(r) for r in rows]
    cols = list(columns or (flat[0].keys() if flat else []))
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: csv_safe(rounded(v)) for k, v in f.items()} for f in flat)
        return buf.getvalue()
    lines = ["| " + " | ".join(label(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_md_cell(c, f.get(c)) for c in cols) + " |" for f in flat]
    return "\n".join(lines) + "\n"


def csv_safe(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)  # a negative number stays a number
        except ValueError:
            return "'" + value
    return value


def _budget(a: Any) -> str:
    """The error budget in words: what is left of it, or by how much it was overspent."""
    left = a.error_budget_remaining_seconds
    if left < 0:
        return f"overspent by {_hours(-left)} (of {_hours(a.error_budget_seconds)})"
    return f"{_hours(left)} of {_hours(a.error_budget_seconds)} left"


def _hours(seconds: float | None) -> str:
    return (
        "n/a"
        if seconds is None
        else f"{seconds / 3600:.1f} h"
        if seconds >= 3600
        else f"{seconds / 60:.1f} min"
    )


def weekly_report(
    *, session: Session, target_percent: float = 99.0, now: dt.datetime | None = None
) -> str:
    """Answer the five monitoring questions for the last 7 days in one Markdown page."""
    from vigil.analytics.panels import dashboard_panels, reliability_ranking
    from vigil.analytics.response import response_metrics

    end = now or utcnow()
    start = end - dt.timedelta(days=7)
    panels = dashboard_panels(session=session, window=dt.timedelta(days=7), now=end)
    metrics = response_metrics(session=session, start=start, end=end)
    overall = metrics[0] if metrics else None
    ranking = reliability_ranking(session=session, start=start, end=end)
    avail = panels.availability
    total_obs = sum(a.observed_seconds for a in avail)
    total_up = sum(a.uptime_seconds for a in avail)
    fleet = 100 * total_up / total_obs if total_obs else None
    meeting = [a for a in avail if a.meets_target]
    lines = [
        f"# Weekly reliability report, {start:%Y-%m-%d} to {end:%Y-%m-%d} (UTC)",
        "",
        "## 1. What is broken right now?",
        "",
    ]
    if panels.active:
        lines += ["| ID | Severity | Resource | Title | Open for |", "|---|---|---|---|---|"]
        lines += [
            f"| {i.id} | {i.severity} | {_md_text(i.resource)} | {_md_text(i.title)} | {_hours(i.duration_seconds)} |"
            for i in panels.active
        ]
    else:
        lines.append("Nothing: no open incidents.")
    lines += ["", "## 2. What was our uptime last week?", ""]
    lines.append(
        f"Fleet availability: {'n/a' if fleet is None else f'{fleet:.3f} %'} over {len(avail)} resources."
    )
    lines += ["", "## 3. How quickly do we resolve incidents?", ""]
    if overall is None:
        lines.append("No incidents were detected this week.")
    else:
        lines.append(
            f"{overall.incidents} incidents; MTTA median {_hours(overall.mtta.median)}, "
            f"MTTR mean {_hours(overall.mttr.mean)}, median {_hours(overall.mttr.median)}, "
            f"p90 {_hours(overall.mttr.p90)}; {overall.mttr.pending} still unresolved."
        )
    lines += ["", f"## 4. Are we meeting our {target_percent:g} % availability target?", ""]
    lines.append(f"{len(meeting)} of {len(avail)} resources meet it.")
    missing = [a for a in avail if a.meets_target is False]
    if missing:
        lines += ["", "| Resource | Availability | Band | Error budget |", "|---|---|---|---|"]
        lines += [
            f"| {_md_text(a.resource)} | {a.availability_percent:.3f} % | {a.sla_band} | {_budget(a)} |"
            for a in missing
            if a.availability_percent is not None
        ]
    lines += ["", "## 5. Which devices are most and least reliable?", ""]
    if ranking:
        lines += ["| | Resource | Availability | Incidents | MTBF |", "|---|---|---|---|---|"]
        most = ranking[:5]
        least = [r for r in ranking[::-1][:5] if r not in most]
        for label, r in [("most", x) for x in most] + [("least", x) for x in least]:
            pct = "n/a" if r.availability_percent is None else f"{r.availability_percent:.3f} %"
            lines.append(
                f"| {label} | {_md_text(r.resource)} | {pct} | {r.incidents} | {_hours(r.mtbf_seconds)} |"
            )
    else:
        lines.append("No resource reported any status this week.")
    return "\n".join(lines) + "\n"
