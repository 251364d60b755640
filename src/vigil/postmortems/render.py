"""Render a postmortem as the post-incident review report: CommonMark (with tables) or HTML.

User text never becomes markup: every value passes through ``escape_md`` (or a code
span/fence), and HTML is produced by markdown-it with raw HTML disabled, so a ``<`` typed
by anyone comes out as ``&lt;``. The only tag not produced by markdown-it is the line
break inside table cells, which is written as a private-use placeholder and swapped for
``<br>`` after rendering.
"""

from __future__ import annotations

import html
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from sqlalchemy.orm import Session

from vigil.postmortems.actions import list_actions
from vigil.postmortems.schemas import Check, PreventionItem, Sections
from vigil.postmortems.service import get_postmortem, timeline_of
from vigil.validation import require_one_of

__all__ = ["escape_md", "markdown_to_html", "render_postmortem"]

# A private-use character stands for a line break in a table cell; user text cannot carry it.
_CELL_BREAK = "\ue000"
_INLINE = re.compile(r"([\\`*_\[\]<>|#!~&])")
_BULLET_START = re.compile(r"^(\s*)([-+*>=])")
_ORDERED_START = re.compile(r"^(\s*\d+)([.)])")
_DIGITS_ONLY = re.compile(r"^\d+$")

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


#: Inline code (`alembic upgrade head`) and links to http(s) pages written in free text stay
#: Markdown; everything else is escaped. A code span holding a | is escaped too (it would
#: split a table cell).
_KEPT = re.compile(
    r"(?P<fence>`+)(?P<code>[^`|\n]+?)(?P=fence)(?!`)"
    r"|\[(?P<label>[^\[\]\n]{1,200})\]\((?P<url>https?://[^\s()<>\\`]{1,2000})\)"
)


def _escape_keeping_code_and_links(line: str) -> str:
    out, pos = [], 0
    for m in _KEPT.finditer(line):
        out.append(_INLINE.sub(r"\\\1", line[pos : m.start()]))
        if m.group("fence"):
            out.append(m.group(0))
        else:
            label = _INLINE.sub(r"\\\1", m.group("label"))
            out.append(f"[{label}]({m.group('url')})")
        pos = m.end()
    out.append(_INLINE.sub(r"\\\1", line[pos:]))
    return "".join(out)


def escape_md(text: Any) -> str:
    """Escape user text so it stays inline text: no headings, lists, tables or HTML; inline
    code and links to http(s) pages are kept (markdown-it renders them with HTML disabled)."""
    lines = []
    # Blank lines would end the paragraph and leading spaces could start a code block.
    raw = [line.lstrip() for line in str(text or "").replace(_CELL_BREAK, "").splitlines()]
    for line in [line for line in raw if line] or [""]:
        line = _escape_keeping_code_and_links(line)
        if _DIGITS_ONLY.match(line):  # the template may follow it with '.' or ')': a list marker
            line = f"&#{ord(line[0])};{line[1:]}"
        line = _BULLET_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(_ORDERED_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return "  \n".join(lines)  # hard line breaks keep multi-line text in one paragraph


def _cell(text: Any) -> str:
    return escape_md(text).replace("  \n", _CELL_BREAK)


def _code(text: str, lang: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _inline_code(text: str) -> str:
    # A code span cannot hold a line break: one would end the list item it sits in.
    text = " ".join(str(text).replace(_CELL_BREAK, "").split()).strip("`")
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


def _number(action: Any) -> int:
    return int(str(action.id).rsplit("-", 1)[-1])


def _shown_by_data(pm: Any, s: Sections, timeline: list[Any], actions: list[Any]) -> set[str]:
    """Checklist items the postmortem's own content already shows done (ticked even if no
    one ticked them): a timeline, an impact, a root cause from the whys, a verified fix,
    prevention measures, action items that all have owners."""
    done = set()
    if timeline:
        done.add("timeline_reconstructed")
    if s.impact.users_affected or s.impact.operations or s.data_integrity.state:
        done.add("impact_assessed")
    if pm.whys and pm.root_cause:
        done.add("root_cause_identified")
    if s.fix.verification and all(c.done for c in s.fix.verification):
        done.add("fix_verified")
    if s.prevention.short_term or s.prevention.long_term:
        done.add("prevention_defined")
    if actions and all(a.owner for a in actions):
        done.add("action_items_assigned")
    return done


def render_postmortem(*, session: Session, ref: str, fmt: str = "markdown") -> str:
    """Render the postmortem of incident ``ref`` as ``markdown`` or ``html``."""
    require_one_of(fmt, ("markdown", "html"), field="format")
    incident, pm = get_postmortem(session=session, ref=ref)
    sections = Sections.model_validate(pm.sections)
    timeline = timeline_of(session=session, postmortem=pm)
    # Action items in the order they were written (AI-001, AI-002, ...).
    actions = sorted(list_actions(session=session, incident_ref=incident.human_id), key=_number)
    shown = _shown_by_data(pm, sections, timeline, actions)
    text = (
        _env()
        .get_template("report.md.j2")
        .render(
            incident=incident,
            pm=pm,
            s=sections,
            timeline=timeline,
            actions=actions,
            duration=_duration(incident),
            checklist=[
                (label, getattr(sections.checklist, name) or name in shown)
                for name, label in CHECKLIST
            ],
        )
    )
    text = re.sub(r"\n{3,}", "\n\n", text)
    if fmt == "markdown":
        return text.replace(_CELL_BREAK, "<br>")
    body = markdown_to_html(text).replace(_CELL_BREAK, "<br>")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(' '.join(str(pm.title).split()))}</title>"
        f"<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}"
        f"table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem}}</style>"
        f"</head><body>\n{body}</body></html>\n"
    )


def markdown_to_html(text: str) -> str:
    """Render CommonMark with tables to HTML; raw HTML in the input stays text."""
    return str(_MARKDOWN.render(text))


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
