"""Export action items as GitHub issues (REST API, or the equivalent `gh` commands)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session

from vigil.errors import ConfigurationError
from vigil.postmortems.actions import get_action, list_actions
from vigil.postmortems.schemas import ActionItemRead

__all__ = ["ExportResult", "export_to_github"]


@dataclass
class ExportResult:
    """One exported (or, in a dry run, printable) item."""

    ref: str
    url: str | None
    command: str
    error: str | None = None


def _issue(item: ActionItemRead) -> tuple[str, str, list[str]]:
    title = f"[Post-Incident] {item.title}"
    body = f"From incident {item.incident_id} ({item.id}). See incident report for details."
    if item.description:
        body += f"\n\n{item.description}"
    labels = ["incident-response", f"{item.priority}-priority"]
    return title, body, labels


def export_to_github(
    *,
    session: Session,
    repo: str,
    api_url: str,
    token: str | None,
    dry_run: bool = False,
    incident_ref: str | None = None,
) -> list[ExportResult]:
    """Create one issue per open item not exported yet and record its URL (re-runs skip it).

    A refusal stops the export; the last result carries the error and earlier URLs stay
    recorded once the caller commits.
    """
    if "/" not in repo:
        raise ConfigurationError(f"repository {repo!r} must look like owner/name")
    items = [
        i
        for i in list_actions(
            session=session, incident_ref=incident_ref, status=["open", "in_progress"]
        )
        if not i.github_url
    ]
    items.sort(key=lambda i: (i.incident_id, i.id))  # issue numbers follow AI-001, AI-002, …
    results = []
    client = (
        None
        if dry_run
        else httpx.Client(
            base_url=api_url.rstrip("/"),
            timeout=30,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
    )
    if client is not None and not token:
        raise ConfigurationError("set VIGIL_GITHUB_TOKEN (or GITHUB_TOKEN) to export action items")
    try:
        for item in items:
            title, body, labels = _issue(item)
            command = (
                f"gh issue create --repo {shlex.quote(repo)} --title {shlex.quote(title)} "
                f"--body {shlex.quote(body)} --label {shlex.quote(','.join(labels))}"
            )
            if client is None:
                results.append(ExportResult(item.ref, None, command))
                continue
            response = client.post(
                f"/repos/{repo}/issues", json={"title": title, "body": body, "labels": labels}
            )
            if response.status_code != 201:
                # Stop here but keep what was created: the caller commits the recorded URLs.
                error = (
                    f"GitHub refused {item.ref}: HTTP {response.status_code} {response.text[:200]}"
                )
                results.append(ExportResult(item.ref, None, command, error))
                break
            url = str(response.json().get("html_url") or response.json().get("url"))
            stored, _incident = get_action(session=session, ref=item.ref)
            stored.github_url = url
            session.flush()  # recorded per item: a failure later keeps the ones already created
            results.append(ExportResult(item.ref, url, command))
    finally:
        if client is not None:
            client.close()
    return results
