"""A small HTML client for page tests: logs in, finds CSRF tokens, posts forms."""

from __future__ import annotations

import re
from typing import Any

import html5lib
from fastapi.testclient import TestClient
from httpx import Response

from vigil.app import create_app
from vigil.db.store import Store
from vigil.oncall import people

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def first_admin(store: Store) -> str:
    """Create the first admin login of a new installation; return its password."""
    with store.write() as session:
        password = people.ensure_first_admin(session=session)
    assert password
    return password


class Browser:
    """A signed-in (or not) browser on an in-process app."""

    def __init__(self, store: Store) -> None:
        self.client = TestClient(create_app(store=store), headers=HTML)
        self.csrf = ""

    def get(self, path: str, **kw: Any) -> Response:
        """GET a page without following redirects."""
        return self.client.get(path, follow_redirects=False, **kw)

    def log_in(self, handle: str, password: str) -> Response:
        """Fill in and send the login form; remember the session's CSRF token."""
        page = self.get("/login")
        token = _CSRF.search(page.text)
        assert token, page.text
        answer = self.client.post(
            "/login",
            data={"handle": handle, "password": password, "csrf_token": token[1], "next": "/"},
            follow_redirects=False,
        )
        if answer.status_code == 303:
            self.csrf = csrf_of(self.get("/").text)
        return answer

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> Response:
        """Post a form (with the session's CSRF token unless ``csrf`` is false)."""
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return self.client.post(path, data=form, follow_redirects=False)


def csrf_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(page)
    assert found, page[:500]
    return found[1]


def elements(page: str) -> list[Any]:
    """Every element of a page, parsed as a browser would."""
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    return list(tree.iter())


def scripts_and_handlers(page: str) -> list[str]:
    """Inline scripts, event-handler attributes and javascript: URLs in a page."""
    found = []
    for el in elements(page):
        if el.tag == "script" and el.get("type") != "application/json" and not el.get("src"):
            found.append(f"inline script: {el.text!r}")
        if el.tag == "script" and el.get("src") and not el.get("src", "").startswith("/static/"):
            found.append(f"script from {el.get('src')}")
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{el.tag} {name}={value!r}")
            if name.lower() in ("href", "src", "action") and value.strip().lower().startswith(
                "javascript:"
            ):
                found.append(f"{el.tag} {name}={value!r}")
    return found
