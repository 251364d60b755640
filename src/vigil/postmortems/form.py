"""The postmortem editor's form: every section of the review template as text fields.

Lists are written one item per line; items with several parts separate them with ``|``
(``action | owner | status | completion time``); a check item starts with ``[x]`` when done.
:func:`form_from_sections` and :func:`sections_from_form` are each other's inverse for
everything the form shows, so saving an untouched form changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vigil.postmortems.render import CHECKLIST
from vigil.postmortems.schemas import Sections

__all__ = [
    "CHECKLIST",
    "HEADER_FIELDS",
    "LINE_FORMATS",
    "form_from_sections",
    "header_from_form",
    "sections_from_form",
]

HEADER_FIELDS = ("title", "summary", "problem_statement", "root_cause", "whys_root_cause",
                 "root_cause_category", "reported_by", "affected_systems")  # fmt: skip
#: What one line of each list field holds (shown as the field's hint).
LINE_FORMATS = {
    "impact_operations": "[x] operation (one per line; [x] when it worked)",
    "data_findings": "[x] finding",
    "factors": "category: description",
    "resolution_steps": "one step per line, in order",
    "fix_changes": "one change per line",
    "fix_commits": "sha message",
    "fix_verification": "[x] check",
    "immediate_actions": "action | owner | status | completion time",
    "prevention_short": "measure | owner | due",
    "prevention_long": "measure | owner | due",
    "went_well": "one per line",
    "could_improve": "one per line",
    "knowledge_gained": "one per line",
    "lessons": "lesson | priority | category",
    "compliance": "name | MAINTAINED, AT RISK or VIOLATED | summary",
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _parts(line: str, count: int) -> list[str]:
    pieces = [p.strip() for p in line.split("|", count - 1)]
    return pieces + [""] * (count - len(pieces))


def _checks(text: str) -> list[dict[str, Any]]:
    out = []
    for line in _lines(text):
        done = line.lower().startswith("[x]")
        body = line[3:].strip() if line[:3].lower() in ("[x]", "[ ]") else line
        if body:
            out.append({"text": body, "done": done})
    return out


def _check_lines(items: list[Any]) -> str:
    return "\n".join(f"[{'x' if c.done else ' '}] {c.text}" for c in items)


def _joined(*parts: Any) -> str:
    text = " | ".join("" if p is None else str(p) for p in parts)
    return text.rstrip(" |")


def _measures(text: str) -> list[dict[str, Any]]:
    return [
        {"text": t, "owner": o or None, "due": d or None}
        for t, o, d in (_parts(line, 3) for line in _lines(text))
        if t
    ]


def sections_from_form(values: Mapping[str, str]) -> dict[str, Any]:
    """Build the ``sections`` of a postmortem update from the editor's fields."""
    get: Callable[[str], str] = lambda name: values.get(name, "")  # noqa: E731
    factors = []
    for line in _lines(get("factors")):
        category, _, description = line.partition(":")
        factors.append({"category": category.strip(), "description": description.strip()})
    commits = []
    for line in _lines(get("fix_commits")):
        sha, _, message = line.partition(" ")
        commits.append({"sha": sha, "message": message.strip()})
    return {
        "impact": {
            "users_affected": get("impact_users"),
            "operations": _checks(get("impact_operations")),
            "workaround": get("impact_workaround"),
            "workaround_available": bool(get("impact_workaround").strip()) or None,
        },
        "data_integrity": {
            "state": get("data_state") or None,
            "summary": get("data_summary"),
            "checks_performed": get("data_checks"),
            "findings": _checks(get("data_findings")),
            "remediation": get("data_remediation"),
            "remediation_required": bool(get("data_remediation").strip()) or None,
        },
        "compliance": [
            {"name": n or "Compliance", "status": (s.upper() or None), "summary": summary}
            for n, s, summary in (_parts(line, 3) for line in _lines(get("compliance")))
        ],
        "contributing_factors": factors,
        "resolution": _lines(get("resolution_steps")),
        "fix": {
            "type": get("fix_type") or None,
            "changes": _lines(get("fix_changes")),
            "commits": commits,
            "deployment_steps": get("fix_deployment"),
            "verification": _checks(get("fix_verification")),
        },
        "immediate_actions": [
            {"action": a, "owner": o, "status": s, "completion_time": t}
            for a, o, s, t in (_parts(line, 4) for line in _lines(get("immediate_actions")))
            if a
        ],
        "prevention": {
            "short_term": _measures(get("prevention_short")),
            "long_term": _measures(get("prevention_long")),
        },
        "lessons": {
            "went_well": _lines(get("went_well")),
            "could_improve": _lines(get("could_improve")),
            "knowledge_gained": _lines(get("knowledge_gained")),
            "lessons": [
                {"text": t, "priority": p or None, "category": c or None}
                for t, p, c in (_parts(line, 3) for line in _lines(get("lessons")))
                if t
            ],
        },
        "checklist": {name: values.get(f"check_{name}") == "on" for name, _label in CHECKLIST},
        "quick_fix": get("quick_fix"),
        "quick_prevention": get("quick_prevention"),
    }


def header_from_form(values: Mapping[str, str]) -> dict[str, Any]:
    """The postmortem's own fields from the editor (affected systems comma-separated)."""
    out: dict[str, Any] = {k: values[k] for k in HEADER_FIELDS if k in values}
    if "affected_systems" in out:
        out["affected_systems"] = [
            s.strip() for s in out["affected_systems"].split(",") if s.strip()
        ]
    if "root_cause_category" in out:
        out["root_cause_category"] = out["root_cause_category"].strip() or None
    if "title" in out:
        out["title"] = out["title"].strip()
    return out


def form_from_sections(pm: Any) -> dict[str, str]:
    """The editor's fields for a stored postmortem."""
    s = Sections.model_validate(pm.sections)
    values = {
        "title": pm.title, "summary": pm.summary, "problem_statement": pm.problem_statement,
        "root_cause": pm.root_cause, "whys_root_cause": pm.whys_root_cause,
        "root_cause_category": pm.root_cause_category or "",
        "reported_by": pm.reported_by, "affected_systems": ", ".join(pm.affected_systems),
        "impact_users": s.impact.users_affected,
        "impact_operations": _check_lines(s.impact.operations),
        "impact_workaround": s.impact.workaround,
        "data_state": s.data_integrity.state or "", "data_summary": s.data_integrity.summary,
        "data_checks": s.data_integrity.checks_performed,
        "data_findings": _check_lines(s.data_integrity.findings),
        "data_remediation": s.data_integrity.remediation,
        "compliance": "\n".join(_joined(c.name, c.status, c.summary) for c in s.compliance),
        "factors": "\n".join(f"{f.category}: {f.description}" for f in s.contributing_factors),
        "resolution_steps": "\n".join(s.resolution),
        "fix_type": s.fix.type or "", "fix_changes": "\n".join(s.fix.changes),
        "fix_commits": "\n".join(f"{c.sha} {c.message}".strip() for c in s.fix.commits),
        "fix_deployment": s.fix.deployment_steps,
        "fix_verification": _check_lines(s.fix.verification),
        "immediate_actions": "\n".join(
            _joined(a.action, a.owner, a.status, a.completion_time) for a in s.immediate_actions
        ),
        "prevention_short": "\n".join(_joined(m.text, m.owner, m.due) for m in s.prevention.short_term),
        "prevention_long": "\n".join(_joined(m.text, m.owner, m.due) for m in s.prevention.long_term),
        "went_well": "\n".join(s.lessons.went_well),
        "could_improve": "\n".join(s.lessons.could_improve),
        "knowledge_gained": "\n".join(s.lessons.knowledge_gained),
        "lessons": "\n".join(_joined(x.text, x.priority, x.category) for x in s.lessons.lessons),
        "quick_fix": s.quick_fix, "quick_prevention": s.quick_prevention,
    }  # fmt: skip
    for name, _label in CHECKLIST:
        values[f"check_{name}"] = "on" if getattr(s.checklist, name) else ""
    return values
