"""The HTML report carries no markup but its own, whatever users typed into any field."""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, Literal

import html5lib
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from vigil.config import Settings
from vigil.db.store import Store
from vigil.incidents import service as incidents
from vigil.incidents.schemas import IncidentCreate
from vigil.postmortems import actions, service
from vigil.postmortems.render import render_postmortem
from vigil.postmortems.schemas import (
    ActionItemCreate,
    PostmortemUpdate,
    Sections,
    TimelineItemCreate,
)

FMT = "html"
T = dt.datetime(2025, 12, 26, 14, 0, tzinfo=dt.UTC)

# Every element and attribute the report template and markdown-it can produce themselves.
OWN_ELEMENTS = {
    "html", "head", "body", "meta", "title", "style", "h2", "h3", "h4", "p", "strong", "em",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "br", "code", "pre", "a",
}  # fmt: skip
#: Free text may link to http(s) pages (and hold inline code); nothing else of a user's.
OWN_ATTRIBUTES = {("html", "lang"), ("meta", "charset"), ("code", "class"), ("a", "href")}
OWN_CLASSES = {"language-sql", "language-bash"}

HOSTILE = [
    "abc\n\n<script>alert(1)</script>",
    "<img src=x onerror=alert(7)>",
    "`x`\n\n<svg onload=alert(1)>",
    "[a](javascript:alert(1))",
    "<javascript:alert(1)>",
    "| a | b |\n|---|---|\n| <b>x</b> |",
    "&lt;script&gt;",
    "```\n</pre><script>x</script>",
    "\ue000<b>x</b>",
    '"><iframe src=//x>',
]

text_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40),
)


def _filled(model: type[BaseModel], text: str) -> dict[str, Any]:
    """Return a value for every field of ``model``, with ``text`` in every string."""
    return {name: _value(f.annotation, text) for name, f in model.model_fields.items()}


def _value(annotation: Any, text: str) -> Any:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return _value(args[0], text)
    if origin is Literal:
        return args[-1]
    if origin is list:
        return [_value(args[0], text), _value(args[0], text + "2")]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _filled(annotation, text)
    if annotation is bool:
        return True
    return text


def _assert_only_own_markup(document: str) -> None:
    tree = html5lib.parse(document, namespaceHTMLElements=False)
    for element in tree.iter():
        assert element.tag in OWN_ELEMENTS, f"foreign element <{element.tag}>"
        for attribute, value in element.attrib.items():
            assert (element.tag, attribute) in OWN_ATTRIBUTES, (
                f"foreign {attribute}= on {element.tag}"
            )
            if attribute == "class":
                assert value in OWN_CLASSES
            if attribute == "href":
                assert value.startswith(("http://", "https://")), f"link to {value!r}"


def _report_with_text_everywhere(store: Store, text: str, number: int) -> str:
    word = text if text.strip() else f"x{text}"  # for fields that must not be blank
    with store.write() as session:
        ref = incidents.create_incident(
            session=session,
            settings=store.settings,
            data=IncidentCreate(
                title=word,
                description=text,
                severity="high",
                root_cause=text,
                resolution=text,
                detected_at=T,
            ),
            actor=word,
            human_id=f"{text[:60]}#{number}",
        )
        pm = service.create_postmortem(session=session, ref=ref, actor=word)
        service.update_postmortem(
            session=session,
            ref=ref,
            data=PostmortemUpdate(
                title=word,
                summary=text,
                reported_by=text,
                affected_systems=[text, text],
                problem_statement=text,
                root_cause_category=text,
                sections=_filled(Sections, text),
            ),
        )
        service.start_five_whys(session=session, ref=ref, facilitator=word, problem=word)
        service.add_why(session=session, ref=ref, question=word, answer=word, answered_by=word)
        service.set_root_cause(session=session, ref=ref, text=word, category=text)
        service.add_timeline_entries(
            session=session,
            postmortem=pm,
            items=[TimelineItemCreate(at=T, event=word, component=text, evidence=text)],
            source="manual",
        )
        actions.create_action(
            session=session,
            ref=ref,
            data=ActionItemCreate(
                title=word[:300], description=text, owner=text, team=text, priority="high"
            ),
        )
        return render_postmortem(session=session, ref=ref, fmt=FMT)


@pytest.fixture
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> typing.Iterator[Store]:
    """A store on a migrated SQLite file shared by the examples of one test."""
    from vigil.db.migrate import upgrade_schema

    path = tmp_path_factory.mktemp("report") / "vigil.db"
    store = Store(Settings(database_url=f"sqlite:///{path}", data_dir=path.parent))
    upgrade_schema(store)
    yield store
    store.close()


_counter = iter(range(10**9))


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=text_values)
@example(text="abc\n\n<script>alert(1)</script>")
@example(text="<img src=x onerror=alert(7)>")
def test_user_text_never_becomes_markup(sqlite_store: Store, text: str) -> None:
    document = _report_with_text_everywhere(sqlite_store, text, next(_counter))
    _assert_only_own_markup(document)


def test_commit_sha_with_blank_line_stays_in_its_list_item(sqlite_store: Store) -> None:
    document = _report_with_text_everywhere(
        sqlite_store, "abc\n\n<script>alert(1)</script>", next(_counter)
    )
    assert "<script>" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "<br>" in document  # multi-line table cells still break lines


def test_free_text_keeps_inline_code_and_http_links(sqlite_store: Store) -> None:
    text = (
        "ran `alembic upgrade head` at app/db.py:42, see [the runbook](https://wiki.example.com/db)"
    )
    document = _report_with_text_everywhere(sqlite_store, text, next(_counter))
    _assert_only_own_markup(document)
    assert "<code>alembic upgrade head</code>" in document
    assert '<a href="https://wiki.example.com/db">the runbook</a>' in document
