"""Journeys in a real browser (Debian's Chromium through Playwright) against `vigil serve`.

Every page is checked for console errors, requests to any other host and serious or
critical accessibility violations (axe-core, vendored from npm); each page's screenshot is
kept in ``test-artifacts/screenshots`` for a reviewer to open.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import Server, running
from vigil.config import Settings

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI", "").lower() != "true",
    reason="Debian's chromium is not installed (apt-get install -y chromium)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on a fresh SQLite file, refreshing its dashboard every second."""
    data = tmp_path_factory.mktemp("browser")
    settings = Settings(database_url=f"sqlite:///{data / 'vigil.db'}", data_dir=data)
    from vigil.db.migrate import upgrade_schema
    from vigil.db.store import Store

    store = Store(settings)
    upgrade_schema(store)
    store.close()
    with running(settings, env_extra={"VIGIL_PAGE_REFRESH_SECONDS": "1"}) as srv:
        assert srv.admin_password, "the first start prints an admin login"
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless; Playwright downloads nothing."""
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])  # fmt: skip
        yield chromium
        chromium.close()


class Watch:
    """A page's console errors and requests to anything but the server, as they happen."""

    def __init__(self, page: Any, base: str) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        host = urllib.parse.urlsplit(base).netloc
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        page.on(
            "request",
            lambda r: (
                urllib.parse.urlsplit(r.url).netloc not in (host, "") and self.foreign.append(r.url)
            ),
        )


def _log_in(page: Any, server: Server, handle: str, password: str) -> None:
    page.goto(f"{server.base}/login")
    page.fill("#handle", handle)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.base}/")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _axe(page: Any, server: Server, path: str) -> list[str]:
    """Serious and critical axe-core findings on ``path``, in a page of a context that
    bypasses the CSP (axe is injected as a script; the pages themselves allow none)."""
    page.goto(server.base + path)
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_first_run_admin_runs_an_incident_to_a_published_postmortem(
    server: Server, browser: Any
) -> None:
    if os.environ.get("CI") and SHOTS.exists():
        shutil.rmtree(SHOTS)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page, server.base)
    _log_in(page, server, "admin", server.admin_password)
    _shot(page, "01-dashboard-empty")

    page.goto(f"{server.base}/settings/people")
    page.fill("#f-handle", "rita")
    page.fill("#f-name", "Rita Responder")
    page.select_option("#f-role", "responder")
    page.fill("#f-password", "rita-password-1")
    page.click("text=Add person")
    page.wait_for_selector("text=Rita Responder")
    _shot(page, "02-settings-people")

    page.goto(f"{server.base}/incidents/new")
    page.fill("#f-title", "Checkout returns 502")
    page.fill("#f-description", "Payments API behind the load balancer answers 502.")
    page.select_option("#f-severity", "critical")
    page.fill("#f-service", "payments")
    page.fill("#f-resource", "lb-1")
    _shot(page, "03-declare")
    page.click("button:text('Declare')")
    page.wait_for_url(re.compile(r".*/incidents/INC_\d+$"))
    ref = page.url.rsplit("/", 1)[1]

    page.click("button:text('Acknowledge')")
    page.wait_for_selector("#incident-status:text('acknowledged')")
    page.fill("#f-text", "Rolled back release 42; 502s stopped.")
    page.click("button:text('Add note')")
    page.wait_for_selector("text=Rolled back release 42")
    page.click("button:text('Resolve')")
    page.wait_for_selector("#incident-status:text('resolved')")
    _shot(page, "04-incident-detail")

    page.goto(f"{server.base}/incidents/{ref}/postmortem")
    page.click("button:text('Start the postmortem')")
    page.wait_for_selector("#pm-form")
    page.fill("#f-summary", "Checkout failed for 12 minutes after release 42.")
    page.fill("#f-factors", "deployment: canary skipped")
    page.wait_for_selector("text=Draft saved at")
    page.fill("#f-problem", "Checkout answered 502")
    page.click("button:text('Start the five whys')")
    for n in range(1, 6):
        page.fill("#f-question", f"Why {n}?")
        page.fill("#f-answer", f"Because of cause {n}")
        page.click("button:text('Add why')")
        page.wait_for_selector(f"text=Because of cause {n}")
    for title in ("Make the canary mandatory", "Alert on 5xx rate"):
        page.fill("#f-a-title", title)
        page.fill("#f-a-owner", "rita")
        page.fill("#f-a-due", "2026-12-31")
        page.click("button:text('Add action item')")
        page.wait_for_selector(f"#actions >> text={title}")
    page.click("button:text('Send for review')")
    page.wait_for_selector("#pm-status:text('in review')")
    page.click("button:text('Publish')")
    page.wait_for_selector("#pm-status:text('published')")
    _shot(page, "05-postmortem-editor")
    report = page.request.get(f"{server.base}/incidents/{ref}/postmortem.html")
    assert report.status == 200 and "Because of cause 5" in report.text()
    assert "Make the canary mandatory" in report.text()
    assert watch.errors == [] and watch.foreign == []
    context.close()


def test_every_page_loads_clean_and_accessible(server: Server, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page, server.base)
    _log_in(page, server, "admin", server.admin_password)
    hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    created = httpx.post(
        f"{server.base}/api/v1/incidents",
        headers={"Authorization": f"Bearer {server.token}"},
        json={"title": hostile, "description": hostile, "severity": "high", "resource": hostile},
    )
    assert created.status_code == 201, created.text
    ref = created.json()["id"]
    state = context.storage_state()
    pages = {
        "dashboard": "/", "incidents": "/incidents", "incident": f"/incidents/{ref}",
        "declare": "/incidents/new", "search": "/search?q=checkout", "resources": "/resources",
        "reports": "/reports", "postmortem": f"/incidents/{ref}/postmortem", "actions": "/actions",
        "oncall": "/oncall", "settings": "/settings", "settings-people": "/settings/people",
        "settings-access": "/settings/access", "settings-channels": "/settings/channels",
        "settings-monitoring": "/settings/monitoring", "api-docs": "/docs", "login": "/login",
    }  # fmt: skip
    findings = {}
    axe_context = browser.new_context(bypass_csp=True, storage_state=state)
    axe_page = axe_context.new_page()
    for name, path in pages.items():
        page.goto(server.base + path)
        page.wait_for_load_state("load")
        _shot(page, f"page-{name}")
        assert page.evaluate("window.__xss") is None, name
        if name not in ("api-docs",):
            problems = _axe(axe_page, server, path)
            if problems:
                findings[name] = problems
    axe_context.close()
    assert findings == {}
    assert watch.failed == []
    assert watch.errors == [], watch.errors
    assert watch.foreign == []
    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=state)
    small = phone.new_page()
    small.goto(f"{server.base}/incidents/{ref}")
    width = small.evaluate("document.documentElement.scrollWidth")
    _shot(small, "phone-incident")
    assert width <= 400, f"the incident page scrolls sideways on a phone ({width}px)"
    phone.close()
    context.close()


def test_dashboard_refreshes_by_itself_when_an_event_opens_an_incident(
    server: Server, browser: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    _log_in(page, server, "admin", server.admin_password)
    page.wait_for_selector("#panel-active")
    sent = httpx.post(
        f"{server.base}/api/v1/events",
        headers={"Authorization": f"Bearer {server.token}"},
        json={"resource": "edge-router-7", "status": "down", "summary": "edge-router-7 is down"},
    )
    assert sent.status_code == 202, sent.text
    # No reload: the panel polls (every second in this server) and shows the new incident.
    page.wait_for_selector("#panel-active >> text=edge-router-7", timeout=10_000)
    context.close()


def test_viewer_sees_no_write_buttons_and_a_post_is_refused(server: Server, browser: Any) -> None:
    admin = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {server.token}"})
    ref = admin.post("/api/v1/incidents", json={"title": "Viewer check", "severity": "low"}).json()[
        "id"
    ]
    context = browser.new_context()
    page = context.new_page()
    _log_in(page, server, "admin", server.admin_password)
    page.goto(f"{server.base}/settings/people")
    page.fill("#f-handle", "vera")
    page.fill("#f-name", "Vera Viewer")
    page.select_option("#f-role", "viewer")
    page.fill("#f-password", "vera-password-1")
    page.click("text=Add person")
    page.wait_for_selector("text=Vera Viewer")
    context.close()

    context = browser.new_context()
    page = context.new_page()
    _log_in(page, server, "vera", "vera-password-1")
    page.goto(f"{server.base}/incidents/{ref}")
    assert page.locator("button:text('Acknowledge')").count() == 0
    assert page.locator("#f-text").count() == 0
    token = page.evaluate("document.body.getAttribute('hx-headers')")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', token)
    assert csrf
    answer = page.request.post(
        f"{server.base}/incidents/{ref}/transition",
        form={"target": "acknowledged", "csrf_token": csrf[1]},
    )
    assert answer.status == 403
    no_token = page.request.post(f"{server.base}/incidents/{ref}/notes", form={"text": "x"})
    assert no_token.status == 403
    _shot(page, "viewer-incident")
    context.close()
