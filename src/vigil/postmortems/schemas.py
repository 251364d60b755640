"""Shapes of postmortems (the review report's sections), five whys and action items."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.validation import LONG_TEXT, Instant, PatchModel, Tags

__all__ = [
    "ActionItemCreate",
    "ActionItemRead",
    "ActionItemUpdate",
    "Check",
    "Checklist",
    "Commit",
    "ComplianceImpact",
    "ContributingFactor",
    "DataIntegrity",
    "Fix",
    "ImmediateAction",
    "Impact",
    "Lesson",
    "Lessons",
    "PostmortemRead",
    "PostmortemUpdate",
    "Prevention",
    "PreventionItem",
    "Sections",
    "TimelineItemCreate",
    "TimelineItemRead",
    "UserGroup",
    "Why",
    "WhyCreate",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Model):
    """A checklist line: ``- [x] text``."""

    text: str
    done: bool = False


class UserGroup(_Model):
    """Users of one kind affected, e.g. Faculty: 12 / 40."""

    name: str
    affected: str
    total: str | None = None


class Impact(_Model):
    """The report's User Impact block."""

    users_affected: str = ""
    user_groups: list[UserGroup] = Field(default_factory=list)
    operations: list[Check] = Field(default_factory=list)
    workaround_available: bool | None = None
    workaround: str = ""


class DataIntegrity(_Model):
    """The report's Data Integrity Assessment."""

    state: Literal["INTACT", "INCONSISTENT", "CORRUPTED"] | None = None
    summary: str = ""
    checks_performed: str = Field(default="", description="Queries or commands, shown as code.")
    findings: list[Check] = Field(default_factory=list)
    remediation_required: bool | None = None
    remediation: str = ""


class ComplianceImpact(_Model):
    """A compliance (or other) impact check list, e.g. ACGME."""

    name: str = "Compliance"
    status: Literal["MAINTAINED", "AT RISK", "VIOLATED"] | None = None
    summary: str = ""
    checks: list[Check] = Field(default_factory=list)
    violations: str = ""
    corrective_actions: str = ""


class ContributingFactor(_Model):
    """What made it worse or easier to happen."""

    category: str
    description: str


class Commit(_Model):
    """A commit of the fix."""

    sha: str
    message: str = ""


class Fix(_Model):
    """The report's Fix Applied section."""

    type: Literal["CODE", "CONFIG", "DATABASE", "INFRASTRUCTURE"] | None = None
    changes: list[str] = Field(default_factory=list)
    commits: list[Commit] = Field(default_factory=list)
    deployment_steps: str = ""
    verification: list[Check] = Field(default_factory=list)


class ImmediateAction(_Model):
    """A row of the Immediate Actions Taken table."""

    action: str
    owner: str = ""
    status: str = ""
    completion_time: str = ""


class PreventionItem(_Model):
    """A prevention measure with its details."""

    text: str
    details: list[str] = Field(default_factory=list)
    owner: str | None = None
    due: str | None = None
    done: bool = False


class Prevention(_Model):
    """Short-term (< 1 week) and long-term measures."""

    short_term: list[PreventionItem] = Field(default_factory=list)
    long_term: list[PreventionItem] = Field(default_factory=list)


class Lesson(_Model):
    """A lesson learned with a priority and a category."""

    text: str
    priority: str | None = None
    category: str | None = None


class Lessons(_Model):
    """What went well, what could be improved, knowledge gained, and lessons."""

    went_well: list[str] = Field(default_factory=list)
    could_improve: list[str] = Field(default_factory=list)
    knowledge_gained: list[str] = Field(default_factory=list)
    lessons: list[Lesson] = Field(default_factory=list)


class Checklist(_Model):
    """The report's Investigation Checklist."""

    timeline_reconstructed: bool = False
    impact_assessed: bool = False
    root_cause_identified: bool = False
    fix_verified: bool = False
    prevention_defined: bool = False
    action_items_assigned: bool = False
    documentation_updated: bool = False
    team_notified: bool = False


class Sections(_Model):
    """Every structured section of the report."""

    impact: Impact = Field(default_factory=Impact)
    data_integrity: DataIntegrity = Field(default_factory=DataIntegrity)
    compliance: list[ComplianceImpact] = Field(default_factory=list)
    contributing_factors: list[ContributingFactor] = Field(default_factory=list)
    resolution: list[str] = Field(default_factory=list, description="Steps taken, in order.")
    fix: Fix = Field(default_factory=Fix)
    immediate_actions: list[ImmediateAction] = Field(default_factory=list)
    prevention: Prevention = Field(default_factory=Prevention)
    lessons: Lessons = Field(default_factory=Lessons)
    checklist: Checklist = Field(default_factory=Checklist)
    quick_fix: str = Field(default="", description="Quick report: what was done.")
    quick_prevention: str = Field(default="", description="Quick report: one action.")


class PostmortemUpdate(_Model, PatchModel):
    """Fields to change; ``sections`` replaces only the sections it names."""

    clearable = frozenset({"root_cause_category", "review_at", "sections"})

    title: str | None = Field(default=None, min_length=1, max_length=300)
    kind: Literal["full", "quick"] | None = None
    status: str | None = Field(default=None, max_length=16)
    summary: str | None = Field(default=None, max_length=LONG_TEXT)
    reported_by: str | None = Field(default=None, max_length=200)
    affected_systems: Tags | None = None
    problem_statement: str | None = Field(default=None, max_length=LONG_TEXT)
    root_cause: str | None = Field(default=None, max_length=LONG_TEXT)
    whys_root_cause: str | None = Field(default=None, max_length=LONG_TEXT)
    root_cause_category: str | None = Field(default=None, max_length=100)
    review_at: Instant | None = None
    sections: dict[str, object] | None = None


class Why(BaseModel):
    """One step of the five whys."""

    number: int
    question: str
    answer: str
    answered_by: str
    at: dt.datetime


class WhyCreate(_Model):
    """A why and its answer."""

    question: str = Field(min_length=1, max_length=LONG_TEXT)
    answer: str = Field(min_length=1, max_length=LONG_TEXT)
    answered_by: str | None = Field(
        default=None, min_length=1, max_length=200, description="Default: whoever is acting."
    )


class WhysStart(_Model):
    """The start of a five whys analysis."""

    problem: str = Field(default="", max_length=LONG_TEXT, description="The symptom people saw.")
    facilitator: str | None = Field(
        default=None, min_length=1, max_length=200, description="Default: whoever is acting."
    )


class RootCauseMark(_Model):
    """The root cause the whys led to."""

    text: str = Field(min_length=1, max_length=LONG_TEXT)
    category: str | None = Field(default=None, max_length=100)


class TimelineItemCreate(_Model):
    """A manual timeline entry (a row of the report's timeline table)."""

    at: Instant
    event: str = Field(min_length=1, max_length=LONG_TEXT)
    component: str = Field(default="", max_length=200)
    evidence: str = Field(default="", max_length=LONG_TEXT)


class TimelineItemRead(BaseModel):
    """A reconstructed timeline entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Names the row to edit or remove it.")
    at: dt.datetime
    event: str
    component: str
    evidence: str
    source: str


class TimelineItemUpdate(_Model, PatchModel):
    """Fields of a postmortem timeline row to change (the incident's own timeline stays)."""

    at: Instant | None = None
    event: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)
    component: str | None = Field(default=None, max_length=200)
    evidence: str | None = Field(default=None, max_length=LONG_TEXT)


class ActionItemCreate(_Model):
    """A new action item."""

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=LONG_TEXT)
    type: str = Field(default="other", max_length=32)
    priority: str = Field(default="medium", max_length=16)
    owner: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=200)
    due_date: dt.date | None = None
    status: str = Field(default="open", max_length=16)


class ActionItemUpdate(_Model, PatchModel):
    """Fields of an action item to change; ``null`` clears owner, team or due date."""

    clearable = frozenset({"owner", "team", "due_date"})

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    type: str | None = Field(default=None, max_length=32)
    priority: str | None = Field(default=None, max_length=16)
    owner: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=200)
    due_date: dt.date | None = None
    status: str | None = Field(default=None, max_length=16)


class ActionItemRead(BaseModel):
    """An action item; ``ref`` is ``<incident>/AI-001``."""

    ref: str
    id: str
    incident_id: str
    title: str
    description: str
    type: str
    priority: str
    owner: str | None
    team: str | None
    due_date: dt.date | None
    status: str
    completed_at: dt.datetime | None
    github_url: str | None
    overdue: bool


class PostmortemRead(BaseModel):
    """A postmortem with its timeline, whys and action items."""

    incident_id: str
    kind: str
    title: str
    status: str
    summary: str
    reported_by: str
    affected_systems: list[str]
    problem_statement: str
    facilitator: str | None
    whys: list[Why]
    root_cause: str = Field(description="The report's Root Cause paragraph.")
    whys_root_cause: str = Field(default="", description="Where the five whys ended.")
    root_cause_category: str | None
    sections: Sections
    review_at: dt.datetime | None
    completed_at: dt.datetime | None
    timeline: list[TimelineItemRead]
    action_items: list[ActionItemRead]
