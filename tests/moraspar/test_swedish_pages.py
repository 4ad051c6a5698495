"""Every page of every role, rendered in Swedish with the demo data, reads as
Swedish: no catalogue entry left untranslated, no English word left over."""

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlmodel import Session

from moraspar.council.runs import run_matching
from moraspar.demo import load_demo
from moraspar.web import access

CATALOGUE = (
    Path(__file__).resolve().parents[2]
    / "moraspar/translations/sv/LC_MESSAGES/messages.po"
)
DEMO_PASSWORD = "moraspar-demo"
ROLES = {
    None: None,
    "teacher": "teacher@moraspar.example",
    "company": "company@moraspar.example",
    "council": "council@moraspar.example",
    "admin": "admin@moraspar.example",
}
NOT_PAGES = {
    "health.healthz",
    "health.readyz",
    "health.metrics_view",
    "main.skill_suggestions",
    "auth.logout",
}
SKIP_LINK = re.compile(
    r"(\.(odt|ics|csv|xlsx|json|svg|png)$|/export|/logout|^/static/)"
)
# Whole words that only English has; the capitalised ones are matched
# case-sensitively so that Swedish words spelt alike in lower case pass.
ENGLISH = re.compile(
    r"\b(the|and|of|with|your|you|please|required|optional|Please|Submit|Save|"
    r"Cancel|Delete|New|Edit|Back|Next|Previous|Search|Password|Email|Loading|"
    r"None|True|False|Yes|No|Close|Show|Hide|Send|Add|Remove|Update|Create|"
    r"Download|Sign|Log|Home|Settings|Help|Error|Warning|Welcome|Page|Name|"
    r"Date|Description|Title|Students|Company|School|Council)\b"
)
# Proper names that contain such a word, and the language switch, which names
# English in English on purpose.
ALLOWED = ("English",)
ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


class _Text(HTMLParser):
    """The text a reader meets: text nodes and the labelling attributes,
    leaving out scripts, styles and anything marked as another language."""

    VOID: ClassVar[set[str]] = {
        "br",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "wbr",
        "col",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        skip = tag in ("script", "style", "code") or (lang is not None and lang != "sv")
        if not skip and not self._skipping():
            self.texts.extend(v for k in ATTRIBUTES if (v := values.get(k)))
            # A button made of an input shows its value.
            if tag == "input" and values.get("type") in ("submit", "button", "reset"):
                self.texts.append(values.get("value") or "")
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skipping():
            self.texts.append(text)


def texts_of(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


def untranslated_msgids() -> set[str]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    found = set()
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        if not any(strings):
            found.update(" ".join(i.split()) for i in ids)
    return found


def problems(html: str, untranslated: set[str]) -> list[str]:
    found = []
    for text in texts_of(html):
        if text in untranslated:
            found.append(f"untranslated: {text!r}")
            continue
        cleaned = text
        for name in ALLOWED:
            cleaned = cleaned.replace(name, "")
        match = ENGLISH.search(cleaned)
        if match:
            found.append(f"English {match.group(0)!r} in {text[:80]!r}")
    return found


def test_the_checker_finds_english_and_untranslated_text() -> None:
    html = (
        '<main><h1>Sök</h1><p title="Save">Spara</p><button>Cancel</button>'
        '<input type="submit" value="Send">'
        '<script>var the = 1;</script><span lang="en">the end</span>'
        "<p>Hallå</p></main>"
    )
    assert problems(html, {"Hallå"}) == [
        "English 'Save' in 'Save'",
        "English 'Cancel' in 'Cancel'",
        "English 'Send' in 'Send'",
        "untranslated: 'Hallå'",
    ]
    assert problems("<p>Andra alternativ, Nora och Oxberg</p>", set()) == []


def _list_pages(app: Flask, role: str | None) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in NOT_PAGES or rule.endpoint == "static":
            continue
        if "format" in rule.rule or rule.rule.endswith((".ics", ".json", ".csv")):
            continue
        if access.allows(access.RULES[rule.endpoint], role):
            paths.append(rule.rule)
    return sorted(set(paths))


# Views of the same pages that only a query shows.
WITH_QUERY = {
    "teacher": ["/school/search?q=svetsning", "/bookings/?when=past"],
    "company": ["/bookings/?when=past"],
    "council": [
        "/council/board?status=all&group=company",
        "/gaps/?group=skill",
        "/gaps/?group=ssyk2",
    ],
    "admin": ["/council/board?status=all&group=need"],
}


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


LINK = re.compile(r'href="(/[^"#]*)"')


@pytest.fixture
def demo(db: Session) -> None:
    load_demo(db)
    db.commit()
    run_matching(db)


@pytest.mark.parametrize("role", list(ROLES), ids=lambda r: r or "anonymous")
def test_every_page_reads_as_swedish(
    app: Flask, client: Any, demo: None, role: str | None
) -> None:
    email = ROLES[role]
    if email is not None:
        response = client.post_form(
            "/login", {"email": email, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302
    untranslated = untranslated_msgids()
    queue = _list_pages(app, role) + WITH_QUERY.get(role or "", [])
    seen = {_shape(p) for p in queue}
    failures: dict[str, list[str]] = {}
    visited = 0
    while queue:
        path = queue.pop(0)
        response = client.get(path, headers={"Accept-Language": "sv"})
        assert response.status_code < 500, path
        if "text/html" not in response.content_type:
            response.close()
            continue
        visited += 1
        html = response.get_data(as_text=True)
        found = problems(html, untranslated)

        if found:
            failures[path] = sorted(set(found))
        for href in LINK.findall(html):
            href = href.replace("&amp;", "&")
            parts = urlsplit(href)
            if parts.query or SKIP_LINK.search(parts.path):
                continue
            if _shape(parts.path) in seen:
                continue
            seen.add(_shape(parts.path))
            queue.append(parts.path)
    assert visited > 3
    assert not failures, failures


# Forms sent empty, so that their error messages are rendered too.
FORMS = {
    None: ["/login", "/register", "/reset"],
    "teacher": ["/password", "/school/needs/new", "/school/programmes/new"],
    "company": ["/company/placements/new", "/company/skill-gaps/new"],
    "council": ["/meetings/new"],
    "admin": ["/admin/users/invite", "/admin/organisations/new", "/admin/import"],
}


@pytest.mark.parametrize("role", list(FORMS), ids=lambda r: r or "anonymous")
def test_form_errors_read_as_swedish(client: Any, demo: None, role: str | None) -> None:
    email = ROLES[role]
    if email is not None:
        response = client.post_form(
            "/login", {"email": email, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302
    untranslated = untranslated_msgids()
    failures: dict[str, list[str]] = {}
    for path in FORMS[role]:
        response = client.post_form(path, {}, headers={"Accept-Language": "sv"})
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert 'class="error-summary"' in html, path
        found = problems(html, untranslated)
        if found:
            failures[path] = sorted(set(found))
    assert not failures, failures
