"""The web pages in-process, on both backends: login, roles, CSRF, forms, escaping, search."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.factories import make_incident
from tests.web.browser import Browser, csrf_of, first_admin, scripts_and_handlers
from vigil.auth import set_password
from vigil.db.store import Store
from vigil.incidents import service as incidents
from vigil.oncall import people

#: Page rendering does not depend on the backend; what does (search, filters, the journeys'
#: writes, throttling counts) runs on both.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&{{7*7}}javascript:alert(3)"


@pytest.fixture
def admin(store: Store) -> Browser:
    """A browser signed in as the first-run admin."""
    browser = Browser(store)
    assert browser.log_in("admin", first_admin(store)).status_code == 303
    return browser


def _person(store: Store, handle: str, role: str) -> str:
    password = f"{handle}-password-1"
    with store.write() as session:
        people.add_person(session=session, handle=handle, name=handle.title())
        set_password(session=session, handle=handle, password=password, role=role)
    return password


@SQLITE_ONLY
def test_pages_need_a_login_and_logout_ends_the_session(store: Store, admin: Browser) -> None:
    anonymous = Browser(store)
    answer = anonymous.get("/incidents?severity=high")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fincidents%3Fseverity%3Dhigh"
    cookie = admin.client.cookies.get("vigil_session")
    assert cookie and admin.get("/").status_code == 200
    assert admin.post("/logout").status_code == 303
    # The old cookie no longer opens anything, even if a browser kept it.
    stale = Browser(store)
    stale.client.cookies.set("vigil_session", cookie)
    assert stale.get("/").status_code == 303


@SQLITE_ONLY
def test_session_cookie_is_httponly_and_samesite(store: Store) -> None:
    browser = Browser(store)
    answer = browser.log_in("admin", first_admin(store))
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie


@SQLITE_ONLY
def test_login_redirect_never_leaves_the_site(store: Store) -> None:
    browser = Browser(store)
    page = browser.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text


def test_failed_logins_are_throttled_per_account(store: Store) -> None:
    password = first_admin(store)
    browser = Browser(store)
    for _ in range(5):
        answer = browser.log_in("admin", "not-the-password")
        assert answer.status_code == 401 and "Wrong handle or password" in answer.text
    # Past the limit even the right password waits: guessing gets nothing out of it.
    answer = browser.log_in("admin", password)
    assert answer.status_code == 429 and "too many failed logins" in answer.text
    assert browser.log_in("nobody", "whatever-else").status_code == 401


@SQLITE_ONLY
def test_form_without_csrf_token_is_refused_and_changes_nothing(
    store: Store, admin: Browser
) -> None:
    ref = make_incident(store)
    answer = admin.post(f"/incidents/{ref}/transition", {"target": "acknowledged"}, csrf=False)
    assert answer.status_code == 403 and "CSRF" in answer.text
    forged = admin.client.post(
        f"/incidents/{ref}/notes",
        data={"text": "forged", "csrf_token": "0" * 43},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    odd = admin.client.post(
        f"/incidents/{ref}/notes",
        data={"text": "x", "csrf_token": "ünïcode"},
        follow_redirects=False,
    )
    assert odd.status_code == 403  # compared as bytes: never a 500
    stranger = Browser(store)
    stranger.client.cookies.set("vigil_login_csrf", "abc")
    login = stranger.client.post(
        "/login", data={"handle": "admin", "password": "x" * 12, "csrf_token": "ü"},
        follow_redirects=False,
    )  # fmt: skip
    assert login.status_code == 403
    with store.read() as session:
        incident = incidents.get_incident(session=session, ref=ref)
        assert incident.status == "open"
        assert all(e.kind != "note" for e in incidents.list_timeline(session=session, ref=ref))


@SQLITE_ONLY
def test_viewer_sees_no_write_buttons_and_is_refused_if_posting(store: Store) -> None:
    ref = make_incident(store)
    viewer = Browser(store)
    assert viewer.log_in("vic", _person(store, "vic", "viewer")).status_code == 303
    page = viewer.get(f"/incidents/{ref}")
    assert page.status_code == 200
    assert f'action="/incidents/{ref}/transition"' not in page.text
    assert "Declare an incident" not in viewer.get("/").text
    answer = viewer.post(f"/incidents/{ref}/transition", {"target": "acknowledged"})
    assert answer.status_code == 403 and "viewer" in answer.text
    assert viewer.get("/settings").status_code == 403
    assert viewer.get("/incidents/new").status_code == 403


@SQLITE_ONLY
def test_declare_with_bad_input_shows_the_error_by_the_field_and_keeps_the_text(
    admin: Browser,
) -> None:
    answer = admin.post(
        "/incidents",
        {"title": "Payments slow", "severity": "apocalyptic", "category": "OTHER"},
    )
    assert answer.status_code == 422
    assert 'id="e-severity"' in answer.text and "apocalyptic" in answer.text
    assert 'value="Payments slow"' in answer.text


def test_running_an_incident_from_the_browser_names_the_person(
    store: Store, admin: Browser
) -> None:
    answer = admin.post(
        "/incidents",
        {"title": "Checkout errors", "description": "5xx on /pay", "severity": "critical",
         "category": "OTHER", "service": "payments"},
    )  # fmt: skip
    assert answer.status_code == 303
    ref = answer.headers["location"].rsplit("/", 1)[1]
    for target in ("acknowledged", "resolved"):
        if target == "resolved":
            assert admin.post(f"/incidents/{ref}/notes", {"text": "rolled back"}).status_code == 303
        answer = admin.post(f"/incidents/{ref}/transition", {"target": target})
        assert answer.status_code == 303, answer.text
    refused = admin.post(f"/incidents/{ref}/transition", {"target": "acknowledged"})
    assert refused.status_code == 409 and "from &#39;resolved&#39; it can go to" in refused.text
    edited = admin.post(f"/incidents/{ref}/edit", {"title": "Checkout errors", "severity": "high"})
    assert edited.status_code == 303
    page = admin.get(f"/incidents/{ref}").text
    assert "critical</del> → <ins>high" in page.replace("\n", "")
    with store.read() as session:
        entries = incidents.list_timeline(session=session, ref=ref)
    assert {e.actor for e in entries} == {"admin"}
    assert [e.kind for e in entries if e.kind == "note"] == ["note"]


def test_postmortem_written_in_the_browser_is_published_and_rendered(
    store: Store, admin: Browser
) -> None:
    ref = make_incident(store, title="Replica lag")
    assert admin.post(f"/incidents/{ref}/postmortem/start").status_code == 303
    editor = admin.get(f"/incidents/{ref}/postmortem")
    assert editor.status_code == 200 and "Five whys" in editor.text
    saved = admin.client.post(
        f"/incidents/{ref}/postmortem",
        data={"csrf_token": admin.csrf, "title": "Postmortem: replica lag",
              "summary": "Reads were stale for 20 minutes.",
              "factors": "monitoring: no alert on replica lag", "went_well": "quick failover",
              "resolution_steps": "promoted replica\nrebuilt old primary",
              "check_fix_verified": "on"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert saved.status_code == 200 and "Draft saved" in saved.text
    assert saved.headers["hx-trigger"] == "postmortem-saved"
    admin.post(f"/incidents/{ref}/postmortem/whys", {"step": "start", "problem": "stale reads"})
    for n in range(1, 6):
        answer = admin.post(
            f"/incidents/{ref}/postmortem/whys",
            {"step": "why", "question": f"Why {n}?", "answer": f"Because {n}"},
        )
        assert answer.status_code == 303
    admin.post(f"/incidents/{ref}/postmortem/whys",
               {"step": "root_cause", "root_cause_text": "no lag alert", "category": "monitoring"})  # fmt: skip
    for title in ("Alert on replica lag", "Runbook for failover"):
        answer = admin.post(
            f"/incidents/{ref}/postmortem/actions",
            {"title": title, "owner": "admin", "due_date": "2026-12-31"},
        )
        assert answer.status_code == 303
    bad = admin.post(f"/incidents/{ref}/postmortem/actions", {"title": "x", "due_date": "soon"})
    assert bad.status_code == 422 and "valid date" in bad.text
    for status in ("in_review", "published"):
        assert (
            admin.post(f"/incidents/{ref}/postmortem/status", {"status": status}).status_code == 303
        )
    markdown = admin.get(f"/incidents/{ref}/postmortem.md").text
    assert "no alert on replica lag" in markdown and "Because 5" in markdown
    assert "Alert on replica lag" in markdown and "Runbook for failover" in markdown
    # What the data shows is ticked; the header keeps one field per line; items in ID order.
    assert "- [x] Root cause identified using 5-whys" in markdown
    assert "- [x] Action items created and assigned" in markdown
    assert "- [x] Fix verified and tested" in markdown  # ticked by hand in the editor
    assert re.search(r"\*\*Duration\*\*: .*  \n", markdown)
    assert markdown.index("AI-001") < markdown.index("AI-002")
    page = admin.get(f"/incidents/{ref}/postmortem").text
    assert 'id="pm-status" class="status">published' in page
    assert "Runbook for failover" in admin.get("/actions").text
    with store.read() as session:
        kinds = [e.kind for e in incidents.list_timeline(session=session, ref=ref)]
    assert "postmortem_published" in kinds


@SQLITE_ONLY
def test_hostile_text_displays_as_text_on_every_page(store: Store, admin: Browser) -> None:
    ref = make_incident(
        store, title=HOSTILE, description=HOSTILE, service=HOSTILE, resource=HOSTILE,
        component=HOSTILE, labels={"team": HOSTILE}, tags=["x"],
    )  # fmt: skip
    with store.write() as session:
        incidents.add_note(session=session, ref=ref, text=HOSTILE, actor="admin")
    admin.post(f"/incidents/{ref}/postmortem/start")
    admin.client.post(
        f"/incidents/{ref}/postmortem",
        data={"csrf_token": admin.csrf, "title": HOSTILE, "summary": HOSTILE, "factors": f"{HOSTILE}: {HOSTILE}",
              "fix_commits": f"abc\n\n{HOSTILE}", "lessons": HOSTILE},
    )  # fmt: skip
    admin.post(f"/incidents/{ref}/postmortem/actions", {"title": HOSTILE, "owner": HOSTILE})
    pages = [
        "/", "/dashboard/active", "/dashboard/other", "/incidents", f"/incidents/{ref}",
        f"/incidents/{ref}/live", f"/incidents/{ref}/postmortem", "/actions", "/resources",
        "/reports", "/oncall", "/search?q=alert", f"/search?q={HOSTILE}", "/settings/people",
        "/settings/access", "/settings/channels", "/settings/monitoring",
        f"/incidents?q={HOSTILE}", f"/incidents?since={HOSTILE}",
    ]  # fmt: skip
    for path in pages:
        page = admin.get(path)
        assert page.status_code in (200, 422), (path, page.status_code)
        assert scripts_and_handlers(page.text) == [], path
    detail = admin.get(f"/incidents/{ref}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail and "{{7*7}}" in detail


def test_search_finds_notes_and_postmortems_ranked_with_highlights(
    store: Store, admin: Browser
) -> None:
    title_hit = make_incident(store, title="Disk full on the billing database")
    note_hit = make_incident(store, title="Slow pages", description="nothing to see")
    make_incident(store, title="Unrelated printer jam")
    with store.write() as session:
        incidents.add_note(session=session, ref=note_hit, text="the billing database was slow",
                           actor="admin")  # fmt: skip
    page = admin.get("/search?q=billing datab").text
    first, second = re.findall(r'<a href="/incidents/(INC_\d+)">', page)[:2]
    assert (first, second) == (title_hit, note_hit)
    assert "<mark>billing</mark>" in page and "printer" not in page
    api = admin.client.get(
        "/api/v1/incidents", params={"q": "billing database"}, headers={"Authorization": "x"}
    )
    assert api.status_code == 401  # the API keeps its bearer tokens; cookies open pages only


def test_api_q_uses_the_search_index(store: Store) -> None:
    from fastapi.testclient import TestClient

    from vigil.app import create_app
    from vigil.auth import create_token

    with store.write() as session:
        _t, secret = create_token(session=session, name="r", scopes=["read"])
    wanted = make_incident(store, title="Kafka consumer lag")
    other = make_incident(store, title="Kafka broker down")
    with store.write() as session:
        incidents.add_note(session=session, ref=other, text="consumer restarted", actor="x")
    client = TestClient(create_app(store=store))
    auth = {"Authorization": f"Bearer {secret}"}
    found = client.get("/api/v1/incidents", params={"q": "consumer lag"}, headers=auth).json()
    assert [i["id"] for i in found["items"]] == [wanted]
    by_id = client.get("/api/v1/incidents", params={"q": wanted.lower()}, headers=auth).json()
    assert [i["id"] for i in by_id["items"]] == [wanted]
    literal = client.get("/api/v1/incidents", params={"q": '"AND OR * NEAR('}, headers=auth)
    assert literal.status_code == 200


def test_incident_list_filters_sort_pages_and_csv(store: Store, admin: Browser) -> None:
    for n in range(7):
        make_incident(store, title=f"=cmd|' /C calc'!A{n}", severity="low" if n % 2 else "critical")
    page = admin.get("/incidents?severity=critical&sort=oldest&per_page=2").text
    assert "4 incidents, page 1 of 2" in page
    assert "severity=critical" in page and "page=2" in page
    sheet = admin.get("/incidents.csv?severity=critical").text
    rows = list(csv.reader(io.StringIO(sheet)))
    assert rows[0][:3] == ["id", "title", "severity"] and len(rows) == 5
    assert all(r[1].startswith("'=") for r in rows[1:])
    bad = admin.get("/incidents?since=26/12/2025")
    assert bad.status_code == 422 and "ISO 8601, e.g. 2025-12-26" in bad.text
    assert admin.get("/incidents?sort=sideways").status_code == 422


@SQLITE_ONLY
def test_settings_show_a_new_secret_once_and_add_people(store: Store, admin: Browser) -> None:
    made = admin.post("/settings/tokens", {"name": "ci", "scope": "write"})
    assert made.status_code == 200
    secret = re.search(r'value="(vgl_[^"]+)"', made.text)
    assert secret
    assert secret[1] not in admin.get("/settings/access").text
    added = admin.post(
        "/settings/people",
        {"handle": "rita", "name": "Rita", "role": "responder", "password": "rita-password-1"},
    )
    assert added.status_code == 303
    rita = Browser(store)
    assert rita.log_in("rita", "rita-password-1").status_code == 303
    short = admin.post("/settings/people/rita/login", {"role": "admin", "password": "short"})
    assert short.status_code == 422 and "10 to 200 characters" in short.text


@SQLITE_ONLY
def test_error_pages_for_browsers_json_for_the_api(store: Store, admin: Browser) -> None:
    missing = admin.get("/incidents/INC_999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "INC_999" in missing.text and "Content-Security-Policy" in missing.headers
    ref = make_incident(store)
    assert admin.get(f"/incidents/{ref.lower()}").status_code == 200  # IDs in any case
    api = admin.client.get("/api/v1/incidents/INC_999", headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json()["error"]["code"] == "unauthorized"


@SQLITE_ONLY
def test_pages_forbid_loading_anything_from_elsewhere(store: Store, admin: Browser) -> None:
    page = admin.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert re.findall(r'(?:src|href)="(https?:)?//', page.text) == []
    assert admin.get("/static/vendor/htmx-2.0.11/htmx.min.js").status_code == 200
    docs = admin.get("/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui-5.35.0/" in docs.text
    assert "cdn" not in docs.text.lower()
    assert csrf_of(page.text) == admin.csrf
