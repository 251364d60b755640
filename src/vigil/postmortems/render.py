"""Render a postmortem as seed 004's report: CommonMark (with tables) or HTML."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from sqlalchemy.orm import Session

from vigil.postmortems.actions import list_actions
from vigil.postmortems.schemas import Check, PreventionItem, Sections
from vigil.postmortems.service import get_postmortem, timeline_of
from vigil.validation import require_one_of

__all__ = ["escape_md", "render_postmortem"]

_INLINE = re.compile(r"([\\`*_\[\]<>|#!~&])")
_BULLET_START = re.compile(r"^(\s*)([-+*>=])")
_ORDERED_START = re.compile(r"^(\s*\d+)([.)])")

CHECKLIST = (
    ("timeline_reconstructed", "Timeline reconstructed with evidence"),
    ("impact_assessed", "Impact assessed (users, data, compliance)"),
    ("root_cause_identified", "Root cause identified using 5-whys"),
    ("fix_verified", "Fix verified and tested"),
    ("prevention_defined", "Prevention measures defined"),
    ("action_items_assigned", "Action items created and assigned"),
    ("documentation_updated", "Documentation updated"),
    ("team_notified", "Team notified"),
)


def escape_md(text: Any) -> str:
    """Escape user text so it stays inline text: no headings, lists, tables or HTML."""
    lines = []
    for line in str(text or "").splitlines() or [""]:
        line = _INLINE.sub(r"\\\1", line)
        line = _BULLET_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(_ORDERED_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return "  \n".join(lines)  # hard line breaks keep multi-line text in one paragraph


def _cell(text: Any) -> str:
    return escape_md(text).replace("  \n", "<br>")


def _code(text: str, lang: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _inline_code(text: str) -> str:
    text = str(text).strip("`")
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{text}{fence}"


def _check(item: Check) -> str:
    return f"- [{'x' if item.done else ' '}] {escape_md(item.text)}"


def _measure(item: PreventionItem) -> str:
    lines = [f"- [{'x' if item.done else ' '}] {escape_md(item.text)}"]
    lines += [f"  - {escape_md(d)}" for d in item.details]
    if item.owner:
        lines.append(f"  - Owner: {escape_md(item.owner)}")
    if item.due:
        lines.append(f"  - Due: {escape_md(item.due)}")
    return "\n".join(lines)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("vigil.postmortems", "templates"),
        autoescape=False,  # Markdown output: user text goes through the md/cell filters instead
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=escape_md,
        cell=_cell,
        code=_code,
        inline_code=_inline_code,
        check=_check,
        measure=_measure,
    )
    return env


def _duration(incident: Any) -> str:
    if incident.resolved_at is None:
        return "ongoing"
    minutes = round((incident.resolved_at - incident.detected_at).total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''} (detection to resolution)"
    return f"{minutes / 60:.1f} hours (detection to resolution)"


def render_postmortem(*, session: Session, ref: str, fmt: str = "markdown") -> str:
    """Render the postmortem of incident ``ref`` as ``markdown`` or ``html``."""
    require_one_of(fmt, ("markdown", "html"), field="format")
    incident, pm = get_postmortem(session=session, ref=ref)
    sections = Sections.model_validate(pm.sections)
    text = (
        _env()
        .get_template("report.md.j2")
        .render(
            incident=incident,
            pm=pm,
            s=sections,
            timeline=timeline_of(session=session, postmortem=pm),
            actions=list_actions(session=session, incident_ref=incident.human_id),
            duration=_duration(incident),
            checklist=[(label, getattr(sections.checklist, name)) for name, label in CHECKLIST],
        )
    )
    text = re.sub(r"\n{3,}", "\n\n", text)
    if fmt == "markdown":
        return text
    # User text is escaped above (including '<'), so the only raw HTML is our own <br>.
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    title = escape_md(pm.title).replace("\\", "")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{_html(title)}</title>'
        f"<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}"
        f"table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem}}</style>"
        f"</head><body>\n{body}</body></html>\n"
    )


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
